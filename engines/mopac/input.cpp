// JobSpec -> MOPAC 22 input. Every keyword here was tried against Debian's mopac 22.0.6;
// see /work/shared/ENGINES.md for what MOPAC gets silently wrong (it always exits 0).
#include "engines/mopac/input.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace nox::mopac {
namespace {

constexpr std::array<const char*, 9> kMultiplicityKeywords = {
    "SINGLET", "DOUBLET", "TRIPLET", "QUARTET", "QUINTET", "SEXTET", "SEPTET", "OCTET", "NONET"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// What every job in the file shares: method, charge, spin, solvent, one thread, the time limit.
std::string common_keywords(const JobSpec& spec) {
  std::string k = upper(spec.method) + " AUX(PRECISION=9) CHARGE=" + std::to_string(spec.charge) + " " +
                  kMultiplicityKeywords[spec.multiplicity - 1];
  // Open shells unrestricted, as xtb does; MOPAC would pick UHF or half-electron RHF by itself.
  if (spec.multiplicity > 1) k += " UHF";
  if (spec.solvent && spec.solvent->dielectric > 0) {
    char eps[32];
    std::snprintf(eps, sizeof eps, " EPS=%.4f", spec.solvent->dielectric);
    k += eps;
  }
  // One thread per job (the pool runs one job per core); MOPAC's own limit a minute past Nox's,
  // so Nox's timeout is what ends a long run, with the usual error.
  k += " &\nTHREADS=1 T=" + std::to_string(static_cast<long long>(std::ceil(spec.timeout_s)) + 60);
  return k;
}

// FORCE with the thermochemistry at one temperature: THERMO(T,T), whole kelvins (MOPAC
// truncates a fraction), 298 unless the spec's thermo_temperature says otherwise.
std::string force_keywords(const JobSpec& spec) {
  int kelvin = thermo_temperature_k;
  if (const auto* t = spec.keywords.if_contains("thermo_temperature")) {
    kelvin = static_cast<int>(std::lround(t->to_number<double>()));
  }
  return "FORCE LET THERMO(" + std::to_string(kelvin) + "," + std::to_string(kelvin) + ")";
}

std::string geometry_lines(const Molecule& molecule) {
  std::string out;
  char line[160];
  for (const Atom& a : molecule.atoms) {
    // The 1 after each coordinate lets the optimizer move it.
    std::snprintf(line, sizeof line, "%-2s %16.10f 1 %16.10f 1 %16.10f 1\n", a.symbol.c_str(), a.x, a.y, a.z);
    out += line;
  }
  return out;
}

}  // namespace

FieldErrors validate_mopac_spec(const JobSpec& spec) {
  FieldErrors errors;
  if (spec.multiplicity < 1 || spec.multiplicity > static_cast<int>(kMultiplicityKeywords.size())) {
    errors.push_back({"multiplicity", "MOPAC takes multiplicities 1 (singlet) to 9 (nonet), got " +
                                          std::to_string(spec.multiplicity)});
  }
  if (spec.molecule.atoms.empty()) errors.push_back({"molecule", "has no atoms"});
  return errors;
}

std::string mopac_input(const JobSpec& spec) {
  if (auto errors = validate_mopac_spec(spec); !errors.empty()) {
    std::string message = "MOPAC cannot run this spec:";
    for (const auto& e : errors) message += " " + e.field + ": " + e.message + ";";
    throw std::invalid_argument(message);
  }
  const std::string common = common_keywords(spec);
  // ENPART prints the total energy (electronic + core-core), which MOPAC 22's .aux lacks.
  std::string task;
  if (spec.task == "energy") {
    task = "1SCF ENPART";
  } else if (spec.task == "gradient") {
    task = "1SCF GRADIENTS ENPART";
  } else if (spec.task == "hessian") {
    // LET: a Hessian where the caller put the atoms, as xtb --hess does, not only at a minimum.
    task = force_keywords(spec);
  } else {
    task = "ENPART";
    if (const auto* cycles = spec.keywords.if_contains("max_opt_cycles")) {
      task += " CYCLES=" + std::to_string(cycles->to_number<long long>());
    }
  }
  // Line 1-2 keywords (joined by '&'), line 3 the title, then the atoms.
  std::string input = task + " " + common + "\nNox job\n" + geometry_lines(spec.molecule);
  if (spec.task == "optimize_hessian") {
    input += "\n" + force_keywords(spec) + " OLDGEO " + common + "\nNox job, Hessian\n";
  }
  return input;
}

PreparedCommand mopac_command(const std::filesystem::path& mopac_path) {
  PreparedCommand command;
  command.argv = {mopac_path.string(), input_file};
  command.stdout_file = log_file;
  return command;
}

}  // namespace nox::mopac
