#pragma once
// JobSpec -> xtb command line, environment and input files. Pure: writes nothing.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/field_error.hpp"
#include "core/job_spec.hpp"
#include "engines/engine.hpp"

namespace nox::xtb {

// The geometry file xtb reads; xtb insists on the .xyz suffix to pick the format.
inline constexpr const char* input_file = "mol.xyz";
// Detailed input (xcontrol) file, only written when a cube file is requested.
inline constexpr const char* control_file = "xtb.inp";
// Where the runner saves xtb's stdout.
inline constexpr const char* log_file = "xtb.log";
// ensure_minimum: at most this many optimize+Hessian runs in one attempt, and the file in the
// scratch directory that counts them (absent: one run).
inline constexpr int minimum_runs = 4;
inline constexpr const char* minimum_runs_file = "nox-minimum-runs";

// optimize_hessian with ensure_minimum (default on for that task; the keyword may turn it off).
bool ensures_minimum(const JobSpec& spec);

struct InputFile {
  std::string name;  // plain file name inside the scratch directory
  std::string content;
};

struct XtbCommand {
  PreparedCommand command;
  std::vector<InputFile> files;
};

// What xtb 6.5.1 cannot do or would silently get wrong, on top of parse_job_spec's checks
// (which it repeats where a slip would run the wrong calculation): GFN0, orbital outputs with
// GFN-FF, charge/multiplicity parity, option values. Empty when acceptable.
FieldErrors validate_xtb_spec(const JobSpec& spec);

// The command for a spec that validate_xtb_spec accepts; throws std::invalid_argument
// for one it refuses (a spec that got this far unvalidated is a bug). `scratch` is the
// directory the command will run in; it also becomes HOME.
XtbCommand build_xtb_command(const JobSpec& spec, const std::filesystem::path& xtb_path,
                             const std::filesystem::path& scratch);

}  // namespace nox::xtb
