#pragma once
// xtb 6.5.1 output files + how the process ended -> EngineOutput. The text parsers are
// pure functions over file contents, unit-tested on recorded real output.
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.hpp"
#include "engines/engine.hpp"

namespace nox::xtb {

// 1 e*bohr in Debye.
inline constexpr double debye_per_au = 2.541746;

struct BondOrder {
  int i = 0;  // 1-based atom indices, as in the `wbo` file
  int j = 0;
  double order = 0;
};

// A `####`-framed box xtb prints at the end of stdout for errors and warnings.
struct MessageBox {
  std::string kind;                // "ERROR" or "WARNING"
  std::vector<std::string> lines;  // the "-N- ..." lines without their "-N- " prefix, in printed order
};

struct OptimizationStatus {
  bool converged = false;
  int cycles = 0;
};

// Value from the final summary box, e.g. label "TOTAL ENERGY" in
// "| TOTAL ENERGY   -5.070375897275 Eh |" (12 decimals; xtbout.json has only 8). Last one wins.
std::optional<double> summary_value(std::string_view log, std::string_view label);
// Value from a "::"-framed block, e.g. label "zero point energy". Last one wins.
std::optional<double> block_value(std::string_view log, std::string_view label);
std::optional<OptimizationStatus> optimization_status(std::string_view log);
// "6.5.1" from "* xtb version 6.5.1 (unknown) compiled by ...".
std::optional<std::string> xtb_version(std::string_view log);
struct Dipole {
  double x_au = 0, y_au = 0, z_au = 0;  // e*bohr, printed to 3 (GFN2) or 4 (GFN1) decimals
  double total_debye = 0;               // xtb's own total, from unrounded components
};

// The last molecular dipole printed in stdout (GFN2 "molecular dipole:" block, GFN1
// "dipole moment from electron density" block). xtbout.json is no substitute: after an
// optimization its "dipole" is still the start geometry's.
std::optional<Dipole> parse_dipole(std::string_view log);
// xtb's own verdict ("linear?  true") from the last setup block that states it.
std::optional<bool> stated_linear(std::string_view log);
std::vector<MessageBox> message_boxes(std::string_view log);

// One number per line (`charges`, `gfnff_charges`).
std::optional<std::vector<double>> parse_charges(std::string_view text);
// Lines "i j order" (`wbo`).
std::optional<std::vector<BondOrder>> parse_wbo(std::string_view text);
// Turbomole `gradient` file: the last cycle's gradient, Eh/bohr, one row per atom.
std::optional<std::vector<std::array<double, 3>>> parse_gradient(std::string_view text, std::size_t atoms);
// `vibspectrum`: every mode's wave number (cm-1), including the rigid-body ones.
std::optional<std::vector<double>> parse_vibspectrum(std::string_view text);
// The last complete frame of a multi-frame XYZ text (xtbopt.log, the optimization's trajectory).
std::optional<std::string> last_xyz_frame(std::string_view text);
// `vibspectrum`: every mode's IR intensity (km/mol), in the same order.
std::optional<std::vector<double>> parse_ir_intensities(std::string_view text);

// The files xtb may leave that are worth keeping, in listing order; xtb.log always first.
std::vector<std::string> artifact_candidates();

// Reads what xtb left in `dir` (its working directory, with stdout in xtb.log).
EngineOutput interpret_xtb_run(const JobSpec& spec, const std::filesystem::path& dir,
                               const ProcessOutcome& outcome);

}  // namespace nox::xtb
