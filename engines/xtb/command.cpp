// JobSpec -> xtb 6.5.1 command line. Every check here guards against something xtb
// gets silently wrong (see /work/shared/ENGINES.md and tests/fixtures/xtb/README.md).
#include "engines/xtb/command.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>

namespace nox::xtb {
namespace {

namespace json = boost::json;

// `--opt LEVEL`: xtb silently falls back to "normal" for a name it does not know.
constexpr std::array<std::string_view, 8> opt_levels{"crude",  "sloppy", "loose",  "lax",
                                                     "normal", "tight",  "vtight", "extreme"};

constexpr std::array<std::string_view, 7> known_keywords{"opt_level",          "accuracy",       "electronic_temperature",
                                                         "max_iterations",     "max_opt_cycles", "thermo_temperature",
                                                         "ensure_minimum"};

bool is_optimization(const std::string& task) { return task == "optimize" || task == "optimize_hessian"; }
bool has_hessian(const std::string& task) { return task == "hessian" || task == "optimize_hessian"; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() && std::abs(v.get_double()) < 1e15)
    return static_cast<std::int64_t>(v.get_double());
  return std::nullopt;
}

std::string format_number(double value) {
  std::array<char, 64> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return std::string(buf.data(), end);
}

void check_keywords(const JobSpec& spec, FieldErrors& errors) {
  for (const auto& [key, value] : spec.keywords) {
    const std::string field = "keywords." + std::string(key);
    if (!contains(known_keywords, key)) {
      errors.push_back({field,
                        "unknown xtb keyword; known: opt_level, accuracy, electronic_temperature, "
                        "max_iterations, max_opt_cycles, thermo_temperature, ensure_minimum"});
    } else if (key == "opt_level") {
      if (!value.is_string() || !contains(opt_levels, lower(value.get_string())))
        errors.push_back({field, "must be one of crude, sloppy, loose, lax, normal, tight, vtight, extreme"});
    } else if (key == "accuracy") {
      auto n = as_number(value);
      if (!n || !(*n >= 1e-4 && *n <= 1000))
        errors.push_back(
            {field, "must be a number from 0.0001 to 1000 (lower is tighter; xtb's default is 1)"});
    } else if (key == "electronic_temperature") {
      auto n = as_number(value);
      if (!n || !(*n > 0 && *n <= 50000))
        errors.push_back({field, "must be a temperature in kelvin above 0 and at most 50000 (default 300)"});
    } else if (key == "max_iterations") {
      auto n = as_integer(value);
      if (!n || *n < 1 || *n > 10000)
        errors.push_back({field, "must be a whole number of SCF iterations from 1 to 10000 (default 250)"});
    } else if (key == "ensure_minimum") {
      if (!value.is_bool()) errors.push_back({field, "must be true or false"});
    } else if (key == "thermo_temperature") {
      auto n = as_number(value);
      if (!n || !(*n >= 1 && *n <= 10000))
        errors.push_back({field, "must be a temperature in kelvin from 1 to 10000 (default 298.15)"});
    } else if (key == "max_opt_cycles") {
      auto n = as_integer(value);
      if (!n || *n < 1 || *n > 100000)
        errors.push_back({field, "must be a whole number of optimization cycles from 1 to 100000"});
    }
  }
}

void check_charge_and_multiplicity(const JobSpec& spec, FieldErrors& errors) {
  if (spec.multiplicity < 1) {
    errors.push_back({"multiplicity", "must be 1 (singlet) or more"});
    return;
  }
  // xtb does not check parity: with an impossible --uhf it quietly computes another state.
  const long electrons = static_cast<long>(spec.molecule.nuclear_charge_sum()) - spec.charge;
  const long unpaired = spec.multiplicity - 1;
  if (electrons < 0) {
    errors.push_back({"charge", "a charge of " + std::to_string(spec.charge) + " leaves " +
                                    std::to_string(electrons) + " electrons"});
    return;
  }
  if (unpaired > electrons) {
    errors.push_back({"multiplicity", "multiplicity " + std::to_string(spec.multiplicity) + " needs " +
                                          std::to_string(unpaired) +
                                          " unpaired electrons but the molecule has only " +
                                          std::to_string(electrons)});
  } else if ((electrons - unpaired) % 2 != 0) {
    errors.push_back({"multiplicity", "with charge " + std::to_string(spec.charge) + " the molecule has " +
                                          std::to_string(electrons) +
                                          " electrons, so the multiplicity must be " +
                                          (electrons % 2 == 0 ? "odd (1, 3, ...)" : "even (2, 4, ...)")});
  }
}

void check_solvent(const JobSpec& spec, FieldErrors& errors) {
  if (!spec.solvent) return;
  const auto& s = *spec.solvent;
  if (s.model != "alpb" && s.model != "gbsa") {
    errors.push_back({"solvent.model", "must be \"alpb\" or \"gbsa\""});
    return;
  }
  // A name goes on the command line and into xtb's JSON unescaped: letters, digits, '-' only.
  bool plain =
      !s.name.empty() && s.name.size() <= 32 && std::all_of(s.name.begin(), s.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      });
  if (!plain) errors.push_back({"solvent.name", "must be a solvent name such as \"water\""});
  // Which names each method knows is parse_job_spec's list; an unknown one still comes back
  // from xtb as input_rejected with xtb's own message.
}

}  // namespace

bool ensures_minimum(const JobSpec& spec) {
  if (spec.task != "optimize_hessian") return false;
  const auto* v = spec.keywords.if_contains("ensure_minimum");
  return !v || !v->is_bool() || v->get_bool();
}

FieldErrors validate_xtb_spec(const JobSpec& spec) {
  FieldErrors errors;
  if (spec.method == "gfn0") {
    // Observed with xtb 6.5.1 (Debian 12): every GFN0 run, even water, aborts trying to
    // allocate a garbage size (uninitialised memory in the Wigner-Seitz code); reported
    // elsewhere to loop forever. Not offered.
    errors.push_back({"method",
                      "GFN0-xTB is not available: the installed xtb 6.5.1 crashes with it; "
                      "use gfn2, gfn1 or gfnff"});
  } else if (spec.method != "gfn2" && spec.method != "gfn1" && spec.method != "gfnff") {
    errors.push_back({"method", "xtb offers gfn2, gfn1 or gfnff"});
  }
  if (spec.task != "energy" && spec.task != "gradient" && spec.task != "optimize" && spec.task != "hessian" &&
      spec.task != "optimize_hessian")
    errors.push_back({"task", "must be energy, gradient, optimize, hessian or optimize_hessian"});
  if (spec.molecule.atoms.empty()) errors.push_back({"molecule", "has no atoms"});
  check_charge_and_multiplicity(spec, errors);
  check_solvent(spec, errors);
  check_keywords(spec, errors);
  for (const auto& output : spec.outputs) {
    if (output != "molden" && output != "density_cube" && output != "spin_density_cube" && output != "wbo") {
      errors.push_back({"outputs", "unknown output \"" + output +
                                       "\"; xtb can add \"molden\", \"density_cube\", \"spin_density_cube\" and \"wbo\""});
    } else if (output == "spin_density_cube" && spec.multiplicity == 1) {
      // xtb would silently write nothing.
      errors.push_back({"outputs", "a closed-shell molecule (multiplicity 1) has no spin density; give the "
                                   "multiplicity of an open shell, or ask for density_cube"});
    } else if (spec.method == "gfnff") {
      // GFN-FF has no orbitals: xtb would silently write nothing.
      errors.push_back(
          {"outputs", "\"" + output + "\" needs orbitals, which the force field gfnff does not have"});
    }
  }
  return errors;
}

XtbCommand build_xtb_command(const JobSpec& spec, const std::filesystem::path& xtb_path,
                             const std::filesystem::path& scratch) {
  if (auto errors = validate_xtb_spec(spec); !errors.empty()) {
    std::string message = "xtb cannot run this spec:";
    for (const auto& e : errors) message += " " + e.field + ": " + e.message + ";";
    throw std::invalid_argument(message);
  }

  XtbCommand out;
  auto& argv = out.command.argv;
  argv = {xtb_path.string(),           input_file, "--chrg",
          std::to_string(spec.charge), "--uhf",    std::to_string(spec.multiplicity - 1)};

  if (spec.method == "gfnff") {
    argv.push_back("--gfnff");
  } else {
    argv.insert(argv.end(), {"--gfn", spec.method == "gfn1" ? "1" : "2"});
  }
  if (spec.solvent) argv.insert(argv.end(), {"--" + spec.solvent->model, lower(spec.solvent->name)});

  const auto* level = spec.keywords.if_contains("opt_level");
  // Always name the level: `--opt` takes an optional argument and would swallow a following word.
  const std::string opt_level = level ? lower(level->get_string()) : "normal";
  if (spec.task == "energy") {
    argv.push_back("--sp");
  } else if (spec.task == "gradient") {
    argv.push_back("--grad");
  } else if (spec.task == "optimize") {
    argv.insert(argv.end(), {"--opt", opt_level});
  } else if (spec.task == "hessian") {
    argv.push_back("--hess");
  } else {
    argv.insert(argv.end(), {"--ohess", opt_level});
  }
  // GFN-FF ignores --json; its results come from stdout.
  if (spec.method != "gfnff") argv.push_back("--json");

  if (const auto* v = spec.keywords.if_contains("accuracy"))
    argv.insert(argv.end(), {"--acc", format_number(*as_number(*v))});
  if (const auto* v = spec.keywords.if_contains("electronic_temperature"))
    argv.insert(argv.end(), {"--etemp", format_number(*as_number(*v))});
  // Not in 6.5.1's --help, but honoured (checked against the setup block of the log).
  if (const auto* v = spec.keywords.if_contains("max_iterations"))
    argv.insert(argv.end(), {"--iterations", std::to_string(*as_integer(*v))});
  if (const auto* v = spec.keywords.if_contains("max_opt_cycles"); v && is_optimization(spec.task))
    argv.insert(argv.end(), {"--cycles", std::to_string(*as_integer(*v))});

  const auto& outputs = spec.outputs;
  auto wants = [&](std::string_view output) { return std::find(outputs.begin(), outputs.end(), output) != outputs.end(); };
  const bool density = wants("density_cube");
  // The density cube is computed by Nox from the orbitals in molden.input (density_cube.hpp says
  // why not from xtb's own density.cub).
  if (wants("molden") || density) argv.push_back("--molden");
  // Detailed input (xcontrol) for what has no flag: the spin density cube, the thermochemistry temperature.
  std::string control;
  // xtb writes spindensity.cub only for open shells (validation refuses asking for it otherwise);
  // a density cube of an open shell brings its spin density along.
  const bool spin_density = wants("spin_density_cube") || (density && spec.multiplicity > 1);
  if (spin_density) control += "$write\n   spin density=true\n$cube\n   step=0.4\n   pthr=0.05\n";
  if (const auto* t = spec.keywords.if_contains("thermo_temperature"); t && has_hessian(spec.task)) {
    control += "$thermo\n   temp=" + format_number(*as_number(*t)) + "\n";
  }
  if (!control.empty()) {
    out.files.push_back({control_file, control + "$end\n"});
    argv.insert(argv.end(), {"--input", control_file});
  }

  out.files.insert(out.files.begin(), {input_file, spec.molecule.to_xyz()});

  // The job's threads as OpenMP threads, BLAS single-threaded: with nothing set xtb runs 2
  // OpenMP threads on top of threaded OpenBLAS, slower than one job per core. HOME matters: xtb reads ~/.xtbrc (a `$chrg` there really
  // changes the charge), so HOME is the fresh scratch directory. xtb starts no programs.
  out.command.env = {{"OMP_NUM_THREADS", std::to_string(std::max(1, spec.threads))},
                     {"OPENBLAS_NUM_THREADS", "1"},
                     {"MKL_NUM_THREADS", "1"},
                     {"HOME", scratch.string()},
                     {"PATH", "/usr/bin:/bin"}};
  out.command.stdout_file = log_file;
  return out;
}

}  // namespace nox::xtb
