#include "engines/mopac/mopac_engine.hpp"

#include <stdlib.h>

#include <fstream>
#include <stdexcept>

#include "engines/mopac/aux_file.hpp"
#include "engines/mopac/input.hpp"
#include "engines/mopac/interpret.hpp"
#include "engines/output_text.hpp"
#include "engines/subprocess.hpp"

namespace nox {

namespace fs = std::filesystem;

MopacEngine::MopacEngine(fs::path mopac_path) : mopac_path_(std::move(mopac_path)) {}

FieldErrors MopacEngine::validate(const JobSpec& spec) const { return mopac::validate_mopac_spec(spec); }

PreparedCommand MopacEngine::prepare(const JobSpec& spec, const fs::path& scratch) const {
  const std::string input = mopac::mopac_input(spec);
  std::ofstream out(scratch / mopac::input_file, std::ios::binary | std::ios::trunc);
  out << input;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + (scratch / mopac::input_file).string());
  return mopac::mopac_command(mopac_path_);
}

EngineOutput MopacEngine::interpret(const JobSpec& spec, const fs::path& scratch,
                                    const ProcessOutcome& outcome) const {
  return mopac::interpret_mopac_run(spec, scratch, outcome);
}

std::optional<std::string> probe_mopac_version(const fs::path& mopac_path) {
  std::string dir = (fs::temp_directory_path() / "nox-mopac-probe-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return std::nullopt;
  {
    std::ofstream input(fs::path(dir) / mopac::input_file);
    input << "PM7 1SCF AUX(PRECISION=9) THREADS=1\nNox probe\n\nO 0 1 0 1 0.117 1\nH 0 1 0.757 1 -0.467 1\n"
             "H 0 1 -0.757 1 -0.467 1\n";
  }
  ProcessSpec spec;
  spec.argv = {mopac_path.string(), mopac::input_file};
  spec.env = {{"HOME", dir}, {"PATH", "/usr/bin:/bin"}, {"OMP_NUM_THREADS", "1"}};
  spec.working_dir = dir;
  spec.timeout = std::chrono::seconds(20);
  ProcessControl control;
  const ProcessOutcome outcome = run_process(spec, control, nullptr);
  std::optional<std::string> version;
  if (!outcome.spawn_failed && !outcome.timed_out && outcome.exit_code == 0) {
    const auto sections = mopac::parse_aux(output_text::read_text(fs::path(dir) / mopac::aux_file).value_or(""));
    if (!sections.empty()) version = sections.front().text("MOPAC_VERSION");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return version;
}

}  // namespace nox
