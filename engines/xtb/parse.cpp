// What an xtb 6.5.1 run left behind -> result or a failure a chemist can act on.
// Formats were checked against real runs; tests/fixtures/xtb holds the recordings.
#include "engines/xtb/parse.hpp"

#include <algorithm>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <csignal>
#include <fstream>
#include <numeric>
#include <sstream>

#include "engines/output_text.hpp"
#include "engines/process_failure.hpp"
#include "engines/vibrations.hpp"
#include "engines/xtb/command.hpp"
#include "engines/xtb/density_cube.hpp"

namespace nox::xtb {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace output_text;

// The first token after `label` in `rest`, when `rest` starts with the label as a whole word.
std::optional<double> value_after_label(std::string_view rest, std::string_view label) {
  if (!rest.starts_with(label) || rest.size() == label.size() || rest[label.size()] != ' ')
    return std::nullopt;
  auto tokens = tokens_of(rest.substr(label.size()));
  if (tokens.empty()) return std::nullopt;
  return to_double(tokens.front());
}

bool has_hessian(const std::string& task) { return task == "hessian" || task == "optimize_hessian"; }
bool has_optimization(const std::string& task) { return task == "optimize" || task == "optimize_hessian"; }

// The ERROR box's lines as one quotable sentence.
std::string quote_box(const MessageBox& box) {
  std::string out;
  for (const auto& line : box.lines) {
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

// Warnings xtb prints on every normal run of a method: noise to a chemist.
bool is_routine_warning(const std::string& line) {
  // GFN-FF looks for a topology file from an earlier run in the same directory, and we
  // always start fresh.
  return line.find("Could not read topology file") != std::string::npos;
}

using Failure = EngineFailure;

bool wants_output(const JobSpec& spec, std::string_view output) {
  return std::find(spec.outputs.begin(), spec.outputs.end(), output) != spec.outputs.end();
}

EngineOutput fail(const Failure& f, std::string_view log, std::string_view stderr_text,
                  std::vector<std::string> artifacts) {
  EngineOutput out;
  out.ok = false;
  out.error_code = f.code;
  out.error_message = f.sentence;
  if (!trim(log).empty())
    out.error_message += "\n\nLast lines of the xtb output (xtb.log):\n" + last_lines(log, 15);
  if (!trim(stderr_text).empty())
    out.error_message += "\nxtb's error output begins:\n" + first_lines(stderr_text, 4);
  out.retryable = f.retryable;
  out.artifact_files = std::move(artifacts);
  return out;
}

}  // namespace

std::optional<double> summary_value(std::string_view log, std::string_view label) {
  std::optional<double> found;
  for (auto line : lines_of(log)) {
    auto t = trim(line);
    if (!t.starts_with("|")) continue;
    if (auto v = value_after_label(trim(t.substr(1)), label)) found = v;
  }
  return found;
}

std::optional<double> block_value(std::string_view log, std::string_view label) {
  std::optional<double> found;
  for (auto line : lines_of(log)) {
    auto t = trim(line);
    if (!t.starts_with("::")) continue;
    if (auto v = value_after_label(trim(t.substr(2)), label)) found = v;
  }
  return found;
}

std::optional<Dipole> parse_dipole(std::string_view log) {
  std::optional<Dipole> found;
  auto lines = lines_of(log);
  auto numbers = [](const std::vector<std::string_view>& tokens, std::size_t from, std::size_t count) {
    std::vector<double> out;
    for (std::size_t k = from; k < from + count && k < tokens.size(); ++k)
      if (auto v = to_double(tokens[k])) out.push_back(*v);
    return out;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto t = trim(lines[i]);
    if (t == "molecular dipole:") {
      // GFN2: a header, "q only:", then "full:  x y z  total(Debye)".
      for (std::size_t k = i + 1; k < lines.size() && k <= i + 4; ++k) {
        auto tokens = tokens_of(lines[k]);
        if (tokens.size() != 5 || tokens[0] != "full:") continue;
        auto v = numbers(tokens, 1, 4);
        if (v.size() == 4) found = Dipole{v[0], v[1], v[2], v[3]};
        break;
      }
    } else if (t == "dipole moment from electron density (au)" && i + 2 < lines.size()) {
      // GFN1: a header "X Y Z", then "x y z  total (Debye):  total".
      auto tokens = tokens_of(lines[i + 2]);
      if (tokens.size() == 6 && tokens[3] == "total" && tokens[4] == "(Debye):") {
        auto xyz = numbers(tokens, 0, 3);
        auto total = to_double(tokens[5]);
        if (xyz.size() == 3 && total) found = Dipole{xyz[0], xyz[1], xyz[2], *total};
      }
    }
  }
  return found;
}

std::optional<OptimizationStatus> optimization_status(std::string_view log) {
  constexpr std::string_view converged = "GEOMETRY OPTIMIZATION CONVERGED AFTER ";
  constexpr std::string_view failed = "FAILED TO CONVERGE GEOMETRY OPTIMIZATION IN ";
  std::optional<OptimizationStatus> status;
  for (auto line : lines_of(log)) {
    for (auto [marker, ok] : {std::pair{converged, true}, std::pair{failed, false}}) {
      auto at = line.find(marker);
      if (at == std::string_view::npos) continue;
      auto tokens = tokens_of(line.substr(at + marker.size()));
      if (tokens.empty()) continue;
      if (auto n = to_int(tokens.front())) status = OptimizationStatus{ok, *n};
    }
  }
  return status;
}

std::optional<std::string> xtb_version(std::string_view log) {
  constexpr std::string_view marker = "xtb version ";
  for (auto line : lines_of(log)) {
    auto at = line.find(marker);
    if (at == std::string_view::npos) continue;
    auto tokens = tokens_of(line.substr(at + marker.size()));
    if (!tokens.empty()) return std::string(tokens.front());
  }
  return std::nullopt;
}

std::optional<bool> stated_linear(std::string_view log) {
  std::optional<bool> linear;
  for (auto line : lines_of(log)) {
    auto t = trim(line);
    auto at = t.find("linear?");
    if (!t.starts_with(":") || at == std::string_view::npos) continue;
    auto tokens = tokens_of(t.substr(at + 7));
    if (tokens.empty()) continue;
    if (tokens.front() == "true") linear = true;
    if (tokens.front() == "false") linear = false;
  }
  return linear;
}

std::vector<MessageBox> message_boxes(std::string_view log) {
  std::vector<MessageBox> boxes;
  bool inside = false;
  for (auto line : lines_of(log)) {
    auto t = trim(line);
    if (t.size() >= 20 && t.find_first_not_of('#') == std::string_view::npos) {
      inside = !inside;
      if (inside) boxes.emplace_back();
      continue;
    }
    if (!inside || t.empty()) continue;
    auto& box = boxes.back();
    if (t.starts_with("[") && t.find(']') != std::string_view::npos) {
      box.kind = std::string(t.substr(1, t.find(']') - 1));
      continue;
    }
    // "-3- text": drop the nesting counter.
    if (t.size() > 3 && t.front() == '-') {
      auto close = t.find('-', 1);
      if (close != std::string_view::npos && to_int(t.substr(1, close - 1))) t = trim(t.substr(close + 1));
    }
    // xtb pads with runs of spaces ("distance of  0.000E+00"); one is enough in a message.
    std::string clean;
    for (char c : t)
      if (!(c == ' ' && !clean.empty() && clean.back() == ' ')) clean.push_back(c);
    box.lines.push_back(std::move(clean));
  }
  return boxes;
}

std::optional<std::vector<double>> parse_charges(std::string_view text) {
  std::vector<double> charges;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (t.empty()) continue;
    auto v = to_double(t);
    if (!v) return std::nullopt;
    charges.push_back(*v);
  }
  return charges;
}

std::optional<std::vector<BondOrder>> parse_wbo(std::string_view text) {
  std::vector<BondOrder> orders;
  for (auto line : lines_of(text)) {
    auto tokens = tokens_of(line);
    if (tokens.empty()) continue;
    if (tokens.size() != 3) return std::nullopt;
    auto i = to_int(tokens[0]);
    auto j = to_int(tokens[1]);
    auto order = to_double(tokens[2]);
    if (!i || !j || !order) return std::nullopt;
    orders.push_back({*i, *j, *order});
  }
  return orders;
}

std::optional<std::vector<std::array<double, 3>>> parse_gradient(std::string_view text, std::size_t atoms) {
  auto lines = lines_of(text);
  // The file grows by one block per cycle; the last "cycle =" line starts the block we want.
  std::size_t start = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("cycle =") != std::string_view::npos) start = i + 1;
  if (start >= lines.size()) return std::nullopt;
  std::vector<std::array<double, 3>> rows;
  for (std::size_t i = start; i < lines.size(); ++i) {
    auto t = trim(lines[i]);
    if (t.starts_with("$")) break;
    auto tokens = tokens_of(t);
    // Coordinate rows have a fourth column (the element); gradient rows have three numbers.
    if (tokens.size() != 3) continue;
    std::array<double, 3> row{};
    for (int k = 0; k < 3; ++k) {
      auto v = to_double(tokens[k]);
      if (!v) return std::nullopt;
      row[k] = *v;
    }
    rows.push_back(row);
  }
  if (rows.size() != atoms) return std::nullopt;
  return rows;
}

namespace {

// One numeric column of `vibspectrum`, counted from the end of each line: the symmetry column
// is blank for the rigid-body modes, so the columns from the end are the stable ones
// (... wave-number intensity IR RAMAN).
std::optional<std::vector<double>> vibspectrum_column(std::string_view text, std::size_t from_end) {
  std::vector<double> values;
  bool inside = false;
  for (auto line : lines_of(text)) {
    auto t = trim(line);
    if (t.starts_with("$vibrational spectrum")) {
      inside = true;
      continue;
    }
    if (!inside || t.empty() || t.starts_with("#")) continue;
    if (t.starts_with("$end")) break;
    auto tokens = tokens_of(t);
    if (tokens.size() < 5) return std::nullopt;
    auto v = to_double(tokens[tokens.size() - from_end]);
    if (!v) return std::nullopt;
    values.push_back(*v);
  }
  if (!inside) return std::nullopt;
  return values;
}

}  // namespace

std::optional<std::vector<double>> parse_vibspectrum(std::string_view text) { return vibspectrum_column(text, 4); }

std::optional<std::vector<double>> parse_ir_intensities(std::string_view text) { return vibspectrum_column(text, 3); }

std::optional<std::string> last_xyz_frame(std::string_view text) {
  const auto lines = lines_of(text);
  std::optional<std::string> last;
  for (std::size_t i = 0; i < lines.size();) {
    const auto count = to_int(trim(lines[i]));
    if (!count || *count <= 0 || i + 2 + static_cast<std::size_t>(*count) > lines.size()) break;
    std::string frame;
    for (std::size_t k = i; k < i + 2 + static_cast<std::size_t>(*count); ++k) frame.append(lines[k]).push_back('\n');
    last = std::move(frame);
    i += 2 + static_cast<std::size_t>(*count);
  }
  return last;
}

std::vector<std::string> artifact_candidates() {
  return {"xtb.log", "xtbopt.xyz",  "xtbout.json",  "charges",     "gfnff_charges",
          "wbo",     "xtbopt.log",  "gradient",     "hessian",     "vibspectrum",
          "g98.out", "xtbhess.xyz", "molden.input", "density.cub", "spindensity.cub"};
}

EngineOutput interpret_xtb_run(const JobSpec& spec, const fs::path& dir, const ProcessOutcome& outcome) {
  std::vector<std::string> artifacts;
  for (const auto& name : artifact_candidates()) {
    std::error_code ec;
    // xtb.log is listed even if missing: the runner skips absent files, and a log is the
    // first thing anyone asks for after a failure.
    if (name == log_file || fs::is_regular_file(dir / name, ec)) artifacts.push_back(name);
  }

  const std::string log = read_text(dir / log_file).value_or(outcome.stdout_tail);
  const std::string& err = outcome.stderr_tail;
  auto failed = [&](Failure f) { return fail(f, log, err, artifacts); };

  if (outcome.term_signal == SIGABRT && !outcome.cancelled && !outcome.timed_out && has_hessian(spec.task) &&
      err.find("stack smashing") != std::string::npos && is_linear(spec.molecule)) {
    // Reproducible with xtb 6.5.1 (Debian): N2 and CO2 Hessians abort every time.
    return failed({"crashed",
                   "xtb crashed (" + signal_name(outcome.term_signal) +
                       ") computing the Hessian of a linear molecule; the installed xtb 6.5.1 does this "
                       "every time, so a retry will not help.",
                   false});
  }
  if (auto f = process_failure("xtb", spec.timeout_s, outcome)) {
    // A process that never started left no log worth quoting.
    if (outcome.spawn_failed) return fail(*f, "", "", artifacts);
    EngineOutput out = failed(*f);
    // An optimization stopped on its way keeps where it got to: POST /jobs/{id}/continue starts there.
    if (has_optimization(spec.task) && (outcome.timed_out || outcome.cancelled)) {
      if (auto trajectory = read_text(dir / "xtbopt.log")) {
        if (auto last = last_xyz_frame(*trajectory)) out.result["optimized_xyz"] = *last;
      }
    }
    return out;
  }

  const auto boxes = message_boxes(log);
  const MessageBox* error_box = nullptr;
  for (const auto& b : boxes)
    if (b.kind == "ERROR") error_box = &b;

  std::error_code ec;
  if (fs::exists(dir / ".sccnotconverged", ec)) {
    std::string sentence = "The SCF did not converge";
    for (auto line : lines_of(log)) {
      constexpr std::string_view marker = "cannot be satisfied within ";
      if (auto at = line.find(marker); at != std::string_view::npos) {
        auto tokens = tokens_of(line.substr(at + marker.size()));
        if (!tokens.empty()) sentence += " within " + std::string(tokens.front()) + " iterations";
      }
    }
    sentence +=
        ". Check that charge and multiplicity are right for this molecule; a higher electronic_temperature "
        "(e.g. 1000 K) or more max_iterations often help.";
    return failed({"scf_not_converged", sentence});
  }
  if (outcome.exit_code != 0) {
    if (error_box)
      return failed({"input_rejected", "xtb refused the calculation: \"" + quote_box(*error_box) + "\""});
    return failed({"engine_failed",
                   "xtb stopped with exit code " + std::to_string(outcome.exit_code) + " without saying why.",
                   true});
  }

  // exit 0 from here on: xtb believes it succeeded.
  auto missing = [&](const std::string& what) {
    return failed({"unexpected_output", "xtb finished but its output has no " + what +
                                            "; this is a bug in Nox or "
                                            "an xtb version it does not know."});
  };
  json::object result;
  const auto energy = summary_value(log, "TOTAL ENERGY");
  if (!energy) return missing("total energy");
  result["energy_eh"] = *energy;
  if (auto gap = summary_value(log, "HOMO-LUMO GAP")) result["homo_lumo_gap_ev"] = *gap;

  if (auto d = parse_dipole(log)) {
    // "+ 0.0" turns xtb's "-0.000" into 0 rather than -0.
    result["dipole_debye"] = {{"x", d->x_au * debye_per_au + 0.0},
                              {"y", d->y_au * debye_per_au + 0.0},
                              {"z", d->z_au * debye_per_au + 0.0},
                              {"total", d->total_debye}};
  }

  const std::string charges_file = spec.method == "gfnff" ? "gfnff_charges" : "charges";
  if (auto text = read_text(dir / charges_file)) {
    auto charges = parse_charges(*text);
    if (!charges || charges->size() != spec.molecule.atoms.size()) return missing("readable " + charges_file);
    json::array arr;
    for (double q : *charges) arr.push_back(q);
    result["partial_charges"] = std::move(arr);
  }
  if (auto text = read_text(dir / "wbo")) {
    auto orders = parse_wbo(*text);
    if (!orders) return missing("readable wbo file");
    json::array arr;
    for (const auto& b : *orders) arr.push_back(json::object{{"i", b.i}, {"j", b.j}, {"order", b.order}});
    result["bond_orders"] = std::move(arr);
  }

  if (spec.task == "gradient") {
    auto text = read_text(dir / "gradient");
    auto rows = text ? parse_gradient(*text, spec.molecule.atoms.size()) : std::nullopt;
    if (!rows) return missing("gradient file");
    json::array arr;
    for (const auto& r : *rows) arr.push_back(json::array{r[0], r[1], r[2]});
    result["gradient_eh_bohr"] = std::move(arr);
  }

  std::optional<OptimizationStatus> opt;
  if (has_optimization(spec.task)) {
    opt = optimization_status(log);
    if (!opt) return missing("optimization summary");
    result["optimization"] = {{"converged", opt->converged}, {"cycles", opt->cycles}};
    if (auto xyz = read_text(dir / "xtbopt.xyz"))
      result["optimized_xyz"] = *xyz;
    else if (opt->converged)
      return missing("optimized geometry (xtbopt.xyz)");
  }

  if (has_hessian(spec.task)) {
    auto text = read_text(dir / "vibspectrum");
    auto modes = text ? parse_vibspectrum(*text) : std::nullopt;
    if (!modes) return missing("vibrational spectrum");
    const bool linear = stated_linear(log).value_or(is_linear(spec.molecule));
    const auto kept = vibrational_mode_indices(*modes, linear);
    const auto intensities = parse_ir_intensities(*text);
    json::array arr, ir;
    std::int64_t imaginary = 0;
    for (std::size_t i : kept) {
      arr.push_back((*modes)[i]);
      if ((*modes)[i] < 0) ++imaginary;
      if (intensities && i < intensities->size()) ir.push_back((*intensities)[i]);
    }
    result["frequencies_cm1"] = std::move(arr);
    // Same order as the frequencies (xtbout.json labels them amu; they are km/mol).
    if (ir.size() == kept.size()) result["ir_intensities_km_mol"] = std::move(ir);
    result["imaginary_frequency_count"] = imaginary;
    if (ensures_minimum(spec)) {
      // How many optimize+Hessian runs ensure_minimum made, and the imaginary modes left after them.
      const auto counted = read_text(dir / minimum_runs_file);
      const int runs = counted ? to_int(trim(*counted)).value_or(1) : 1;
      result["minimum"] = {{"runs", runs}, {"imaginary_modes_remaining", imaginary}};
    }
    result["has_imaginary_frequencies"] = imaginary > 0;
    auto zpe = block_value(log, "zero point energy");
    auto enthalpy = summary_value(log, "TOTAL ENTHALPY");
    auto free_energy = summary_value(log, "TOTAL FREE ENERGY");
    if (!zpe || !enthalpy || !free_energy) return missing("thermochemistry");
    const json::value* t = spec.keywords.if_contains("thermo_temperature");
    result["thermochemistry"] = {{"zpe_eh", *zpe},
                                 {"enthalpy_eh", *enthalpy},
                                 {"free_energy_eh", *free_energy},
                                 // What was asked (written into xtb.inp's $thermo), else xtb's default.
                                 {"temperature_k", t ? t->to_number<double>() : 298.15}};
  }

  json::array warnings;
  for (const auto& b : boxes) {
    if (b.kind != "WARNING") continue;
    for (const auto& line : b.lines)
      if (!is_routine_warning(line)) warnings.push_back(json::string(line));
  }
  if (!warnings.empty()) result["warnings"] = std::move(warnings);
  result["wall_time_s"] = outcome.wall_s;
  result["engine"] = {{"name", "xtb"}, {"version", xtb_version(log).value_or("unknown")}};

  if (opt && !opt->converged) {
    // xtb exits 0 and even writes .xtboptok here. The last geometry is not a minimum, so
    // the job fails; result and artifacts still carry the last geometry to restart from.
    std::string sentence = "The geometry optimization did not converge within " +
                           std::to_string(opt->cycles) + " cycles; the last energy was " +
                           format_double(*energy) +
                           " Eh. The last geometry is kept (artifact xtbopt.xyz): resubmit from it, or raise "
                           "max_opt_cycles or choose a looser opt_level.";
    auto out = failed({"optimization_not_converged", sentence});
    out.result = std::move(result);
    return out;
  }

  if (wants_output(spec, "density_cube")) {
    // Computed here from the run's orbitals, not taken from xtb (engines/xtb/density_cube.hpp).
    const auto molden = read_text(dir / "molden.input");
    if (!molden) return missing("molden.input (the orbitals the density cube is made from)");
    auto cube = density_cube_from_molden(*molden);
    if (auto* why = std::get_if<std::string>(&cube)) return missing("readable orbitals for the density cube (" + *why + ")");
    const DensityCube& density = std::get<DensityCube>(cube);
    std::ofstream file(dir / "density.cub", std::ios::binary | std::ios::trunc);
    file.write(density.text.data(), static_cast<std::streamsize>(density.text.size()));
    if (!file) return missing("room to write density.cub");
    result["density_cube_electrons"] = density.electrons;
    if (std::find(artifacts.begin(), artifacts.end(), "density.cub") == artifacts.end()) artifacts.push_back("density.cub");
    // xtb wrote molden.input for the cube: a file the job's owner did not ask for is not kept.
    if (!wants_output(spec, "molden")) std::erase(artifacts, std::string("molden.input"));
  }

  EngineOutput out;
  out.ok = true;
  out.result = std::move(result);
  out.artifact_files = std::move(artifacts);
  return out;
}

}  // namespace nox::xtb
