// MOPAC 22 output -> result. The numbers come from the .aux file (AUX(PRECISION=9)); the .out is
// read only for what the .aux lacks: error sentences and ENPART's total energy.
#include "engines/mopac/interpret.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>

#include "engines/mopac/aux_file.hpp"
#include "engines/mopac/input.hpp"
#include "engines/output_text.hpp"
#include "engines/process_failure.hpp"
#include "engines/vibrations.hpp"

namespace nox::mopac {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace output_text;

constexpr double kEvPerHartree = 27.211386245988;       // CODATA 2018
constexpr double kKcalMolPerHartree = 627.5094740631;   // CODATA 2018
constexpr double kBohrInAngstrom = 0.529177210903;      // CODATA 2018

bool has_hessian(const std::string& task) { return task == "hessian" || task == "optimize_hessian"; }
bool has_optimization(const std::string& task) { return task == "optimize" || task == "optimize_hessian"; }

EngineOutput fail(const EngineFailure& f, std::string_view out_text, std::vector<std::string> artifacts) {
  EngineOutput out;
  out.error_code = f.code;
  out.error_message = f.sentence;
  if (!trim(out_text).empty()) {
    out.error_message += "\n\nLast lines of the MOPAC output (mol.out):\n" + last_lines(out_text, 15);
  }
  out.retryable = f.retryable;
  out.artifact_files = std::move(artifacts);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "; ") + line;
  return out;
}

// XYZ text from the element list and a flat coordinate list (Angstrom).
std::optional<std::string> xyz_of(const AuxSection& section, std::string_view coordinates_key) {
  const AuxEntry* elements = section.last("ATOM_EL");
  const auto coords = section.numbers(coordinates_key);
  if (!elements || !coords || coords->size() != 3 * elements->values.size()) return std::nullopt;
  std::string xyz = std::to_string(elements->values.size()) + "\nNox MOPAC geometry\n";
  char line[128];
  for (std::size_t i = 0; i < elements->values.size(); ++i) {
    std::snprintf(line, sizeof line, "%-2s %15.9f %15.9f %15.9f\n", elements->values[i].c_str(), (*coords)[3 * i],
                  (*coords)[3 * i + 1], (*coords)[3 * i + 2]);
    xyz += line;
  }
  return xyz;
}

json::array array_of(const std::vector<double>& values) {
  json::array a;
  for (double v : values) a.push_back(v);
  return a;
}

// The error MOPAC wrote into a section's .aux, if any.
std::optional<std::string> section_error(const AuxSection& section) {
  if (auto message = section.text("ERROR_MESSAGE")) return message;
  return section.text("ERROR");
}

}  // namespace

std::vector<std::string> termination_messages(std::string_view out) {
  std::vector<std::string> messages;
  bool inside = false;
  for (std::string_view raw : lines_of(out)) {
    const std::string_view line = trim(raw);
    if (line.find("Error and normal termination messages") != std::string_view::npos) {
      inside = true;
      messages.clear();  // the last box wins: one per job in the file
      continue;
    }
    if (!inside) continue;
    if (line.starts_with("*****")) {
      inside = false;
      continue;
    }
    std::string_view text = line;
    if (text.starts_with('*')) text.remove_prefix(1);
    if (text.ends_with('*')) text.remove_suffix(1);
    text = trim(text);
    if (text.empty() || text.starts_with("JOB ENDED NORMALLY")) continue;
    messages.emplace_back(text);
  }
  return messages;
}

std::optional<double> enpart_total_energy_ev(std::string_view out) {
  for (std::string_view line : lines_of(out)) {
    line = trim(line);
    if (!line.starts_with("ETOT (EONE + ETWO)")) continue;
    const auto tokens = tokens_of(line);
    if (tokens.size() >= 2 && tokens.back() == "EV") return to_double(tokens[tokens.size() - 2]);
  }
  return std::nullopt;
}

std::vector<std::string> artifact_candidates() { return {out_file, arc_file, aux_file, input_file, log_file}; }

EngineOutput interpret_mopac_run(const JobSpec& spec, const fs::path& dir, const ProcessOutcome& outcome) {
  std::vector<std::string> artifacts;
  for (const std::string& name : artifact_candidates()) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) artifacts.push_back(name);
  }
  const std::string out_text = read_text(dir / out_file).value_or("");
  auto failed = [&](EngineFailure f) { return fail(f, out_text, artifacts); };

  if (auto f = process_failure("MOPAC", spec.timeout_s, outcome)) {
    return outcome.spawn_failed ? fail(*f, "", artifacts) : failed(*f);
  }
  if (out_text.empty()) {
    return failed({"engine_failed",
                   "MOPAC wrote no output (mol.out); its own message: " + first_lines(outcome.stdout_tail, 3) +
                       first_lines(outcome.stderr_tail, 3),
                   true});
  }
  const std::vector<AuxSection> sections = parse_aux(read_text(dir / aux_file).value_or(""));
  const std::vector<std::string> messages = termination_messages(out_text);

  // The first error in job order decides: the optimization's before the Hessian's.
  for (const AuxSection& section : sections) {
    const std::optional<std::string> error = section_error(section);
    if (!error) continue;
    if (error->find("EXCESS NUMBER OF OPTIMIZATION CYCLES") != std::string::npos) {
      // Like xtb's: the job fails, but result and files carry the last geometry to go on from.
      const int cycles = static_cast<int>(section.count("HEAT_OF_FORM_UPDATED"));
      auto out = failed({"optimization_not_converged",
                         "The geometry optimization did not converge within " + std::to_string(cycles) +
                             " cycles. The last geometry is kept (result optimized_xyz): resubmit from it, or "
                             "raise max_opt_cycles."});
      out.result["optimization"] = {{"converged", false}, {"cycles", cycles}};
      if (auto xyz = xyz_of(section, "ATOM_X_UPDATED")) out.result["optimized_xyz"] = *xyz;
      if (auto hof = section.number("HEAT_OF_FORM_UPDATED")) out.result["heat_of_formation_kcal_mol"] = *hof;
      return out;
    }
    if (error->find("SELF-CONSISTEN") != std::string::npos || error->find("SCF") != std::string::npos) {
      return failed({"scf_not_converged", "MOPAC's SCF did not converge: \"" + *error +
                                              "\". Check that charge and multiplicity are right for this molecule."});
    }
    return failed({"input_rejected", "MOPAC refused the calculation: \"" + *error + "\""});
  }
  // MOPAC stops before writing an .aux for what it cannot start (an element the method has no
  // parameters for, an impossible spin) and says why only in the .out's termination box, which a
  // run that went well does not print. (FORCE runs write no .arc, so its absence proves nothing.)
  if (!messages.empty()) return failed({"input_rejected", "MOPAC refused the calculation: \"" + joined(messages) + "\""});
  if (sections.empty()) {
    return failed({"unexpected_output", "MOPAC ended without its results (mol.aux) and without saying why.", true});
  }

  const AuxSection& first = sections.front();
  const AuxSection& last = sections.back();
  auto missing = [&](const std::string& what) {
    return failed({"unexpected_output",
                   "MOPAC finished but its .aux has no " + what + "; this is a bug in Nox or a MOPAC version it does not know."});
  };
  json::object result;
  const auto hof = last.number("HEAT_OF_FORMATION");
  if (!hof) return missing("heat of formation");
  result["heat_of_formation_kcal_mol"] = *hof;
  // ENPART's total leaves out COSMO's dielectric energy, which the heat of formation includes:
  // with a solvent the one energy given is the heat of formation.
  const bool solvated = spec.solvent.has_value();
  if (auto etot = enpart_total_energy_ev(out_text); etot && !solvated) {
    result["energy_eh"] = *etot / kEvPerHartree;
    result["total_energy_ev"] = *etot;
  }
  if (auto dipole = last.numbers("DIP_VEC"); dipole && dipole->size() == 3) {
    result["dipole_debye"] = {{"x", (*dipole)[0] + 0.0},
                              {"y", (*dipole)[1] + 0.0},
                              {"z", (*dipole)[2] + 0.0},
                              {"total", last.number("DIPOLE").value_or(0.0)}};
  }
  if (auto charges = last.numbers("ATOM_CHARGES")) result["partial_charges"] = array_of(*charges);
  if (auto ip = last.number("IONIZATION_POTENTIAL")) result["ionization_potential_ev"] = *ip;
  // Closed shells: HOMO is the last occupied orbital, LUMO the first empty one.
  const auto eigenvalues = last.numbers("EIGENVALUES");
  const auto occupancies = last.numbers("MOLECULAR_ORBITAL_OCCUPANCIES");
  if (eigenvalues && occupancies && eigenvalues->size() == occupancies->size()) {
    for (std::size_t i = 1; i < occupancies->size(); ++i) {
      if ((*occupancies)[i - 1] > 0 && (*occupancies)[i] == 0) {
        result["homo_lumo_gap_ev"] = (*eigenvalues)[i] - (*eigenvalues)[i - 1];
        break;
      }
    }
  }

  if (spec.task == "gradient") {
    const auto gradient = first.numbers("GRADIENTS");
    if (!gradient || gradient->size() != 3 * spec.molecule.atoms.size()) return missing("gradient");
    json::array rows;
    const double scale = kBohrInAngstrom / kKcalMolPerHartree;  // kcal/mol/Angstrom -> Eh/bohr
    for (std::size_t i = 0; i < spec.molecule.atoms.size(); ++i) {
      rows.push_back(json::array{(*gradient)[3 * i] * scale, (*gradient)[3 * i + 1] * scale,
                                 (*gradient)[3 * i + 2] * scale});
    }
    result["gradient_eh_bohr"] = std::move(rows);
  }

  if (has_optimization(spec.task)) {
    result["optimization"] = {{"converged", true},
                              {"cycles", static_cast<std::int64_t>(first.count("HEAT_OF_FORM_UPDATED"))}};
    auto xyz = xyz_of(first, "ATOM_X_OPT");
    if (!xyz) return missing("optimized geometry (ATOM_X_OPT)");
    result["optimized_xyz"] = *xyz;
  }

  if (has_hessian(spec.task)) {
    const auto modes = last.numbers("VIB._FREQ");
    if (!modes) return missing("vibrational frequencies");
    const auto frequencies = vibrational_frequencies(*modes, is_linear(spec.molecule));
    std::int64_t imaginary = 0;
    for (double f : frequencies) imaginary += f < 0 ? 1 : 0;
    result["frequencies_cm1"] = array_of(frequencies);
    result["imaginary_frequency_count"] = imaginary;
    result["has_imaginary_frequencies"] = imaginary > 0;
    // MOPAC lists 298 K first and the THERMO temperature after it: the last value is the one asked.
    auto at_temperature = [&](std::string_view key) -> std::optional<double> {
      const auto values = last.numbers(key);
      if (!values || values->empty()) return std::nullopt;
      return values->back();
    };
    const auto temperature = at_temperature("THERMODYNAMIC_PROPERTIES_TEMPS");
    const auto zpe = last.number("ZERO_POINT_ENERGY");
    const auto enthalpy = at_temperature("ENTHALPY_TOT");
    const auto entropy = at_temperature("ENTROPY_TOT");
    const auto heat_capacity = at_temperature("HEAT_CAPACITY_TOT");
    const auto hof_t = at_temperature("H_O_F(T)");
    if (!temperature || !zpe || !enthalpy || !entropy || !hof_t) return missing("thermochemistry");
    result["thermochemistry"] = {
        {"temperature_k", *temperature},
        {"zpe_kcal_mol", *zpe},
        {"enthalpy_kcal_mol", *enthalpy / 1000.0},  // thermal enthalpy from 0 K (MOPAC: cal/mol)
        {"entropy_cal_mol_k", *entropy},
        {"heat_capacity_cal_mol_k", heat_capacity.value_or(0.0)},
        {"heat_of_formation_kcal_mol", *hof_t},
        // Heat of formation at T minus T*S: what MOPAC users compare between structures.
        {"free_energy_kcal_mol", *hof_t - *temperature * *entropy / 1000.0}};
  }

  result["wall_time_s"] = outcome.wall_s;
  result["engine"] = {{"name", "mopac"}, {"version", first.text("MOPAC_VERSION").value_or("unknown")}};
  EngineOutput out;
  out.ok = true;
  out.result = std::move(result);
  out.artifact_files = std::move(artifacts);
  return out;
}

}  // namespace nox::mopac
