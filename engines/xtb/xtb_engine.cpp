#include "engines/xtb/xtb_engine.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "engines/subprocess.hpp"
#include "engines/xtb/command.hpp"
#include "engines/xtb/parse.hpp"
#include "engines/xtb/progress.hpp"

namespace nox {

namespace fs = std::filesystem;

XtbEngine::XtbEngine(fs::path xtb_path) : xtb_path_(std::move(xtb_path)) {}

FieldErrors XtbEngine::validate(const JobSpec& spec) const { return xtb::validate_xtb_spec(spec); }

PreparedCommand XtbEngine::prepare(const JobSpec& spec, const fs::path& scratch) const {
  auto built = xtb::build_xtb_command(spec, xtb_path_, scratch);
  for (const auto& file : built.files) {
    std::ofstream out(scratch / file.name, std::ios::binary | std::ios::trunc);
    out << file.content;
    out.close();
    // An empty or partial mol.xyz makes xtb spin forever at 100% CPU: never start it on one.
    if (!out) throw std::runtime_error("cannot write " + (scratch / file.name).string());
  }
  return std::move(built.command);
}

EngineOutput XtbEngine::interpret(const JobSpec& spec, const fs::path& scratch,
                                  const ProcessOutcome& outcome) const {
  return xtb::interpret_xtb_run(spec, scratch, outcome);
}

std::optional<PreparedCommand> XtbEngine::follow_up(const JobSpec& spec, const fs::path& scratch,
                                                    const ProcessOutcome& outcome, int runs) const {
  if (!xtb::ensures_minimum(spec) || outcome.exit_code != 0 || outcome.term_signal != 0) return std::nullopt;
  std::error_code ec;
  // xtb writes xtbhess.xyz only when the Hessian has an imaginary mode: none means a minimum.
  if (!fs::is_regular_file(scratch / "xtbhess.xyz", ec) || runs >= xtb::minimum_runs) return std::nullopt;
  fs::rename(scratch / "xtbhess.xyz", scratch / xtb::input_file, ec);
  if (ec) return std::nullopt;
  std::ofstream(scratch / xtb::minimum_runs_file, std::ios::trunc) << runs + 1 << "\n";
  // The same flags but at least "vtight": soft modes such as caffeine's methyl rotors come back
  // from a displaced restart at "normal" (seen: four runs, one imaginary mode left each time) and
  // vanish at "vtight". xtb.inp is already there; xtbrestart is a good first guess.
  JobSpec tighter = spec;
  const auto* level = spec.keywords.if_contains("opt_level");
  if (!level || (level->as_string() != "vtight" && level->as_string() != "extreme")) tighter.keywords["opt_level"] = "vtight";
  return xtb::build_xtb_command(tighter, xtb_path_, scratch).command;
}

std::unique_ptr<ProgressParser> XtbEngine::progress_parser() const {
  return std::make_unique<xtb::XtbProgressParser>();
}

std::optional<std::string> probe_xtb_version(const fs::path& xtb_path) {
  // A throwaway directory: xtb reads hidden inputs from its working directory and HOME.
  std::string dir = (fs::temp_directory_path() / "nox-xtb-probe-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return std::nullopt;
  ProcessSpec spec;
  spec.argv = {xtb_path.string(), "--version"};
  spec.env = {
      {"HOME", dir}, {"PATH", "/usr/bin:/bin"}, {"OMP_NUM_THREADS", "1"}, {"OPENBLAS_NUM_THREADS", "1"}};
  spec.working_dir = dir;
  spec.timeout = std::chrono::seconds(10);
  ProcessControl control;
  auto outcome = run_process(spec, control, nullptr);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (outcome.spawn_failed || outcome.timed_out || outcome.exit_code != 0) return std::nullopt;
  return xtb::xtb_version(outcome.stdout_tail);
}

std::optional<fs::path> find_on_path(std::string_view program) {
  auto executable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string_view::npos) {
    fs::path p(program);
    return executable(p) ? std::optional<fs::path>(p) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    auto dir = dirs.substr(0, colon);
    // An empty entry means the current directory, which a server should not trust.
    if (!dir.empty()) {
      fs::path candidate = fs::path(dir) / program;
      if (executable(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

}  // namespace nox
