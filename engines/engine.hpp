#pragma once
// Engine: turns a JobSpec into a command and input files in a fresh scratch directory,
// and the files plus exit status back into a result. Knows no sockets, no store.
#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.hpp"

namespace nox {

// How a subprocess ended.
struct ProcessOutcome {
  int exit_code = -1;       // -1 when killed by a signal
  int term_signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;   // Nox killed it because timeout_s passed
  bool cancelled = false;   // Nox killed it because the job was cancelled or the server stops
  bool spawn_failed = false;
  double wall_s = 0;
  std::string stderr_tail;  // last few KiB
  std::string stdout_tail;
};

// What an engine made of an attempt.
struct EngineOutput {
  bool ok = false;
  boost::json::object result;            // ok: the parsed result
  std::string error_code;                // !ok: machine-readable, e.g. "scf_not_converged"
  std::string error_message;             // !ok: what a chemist reads
  bool retryable = false;                // !ok: a second attempt could succeed (crash, not bad input)
  std::vector<std::string> artifact_files;  // files in the scratch dir to keep, in listing order
};

// Reads an engine's stdout line by line while it runs; one per attempt.
class ProgressParser {
 public:
  virtual ~ProgressParser() = default;
  // Returns progress numbers when this line completes a step (e.g. an optimization cycle).
  virtual std::optional<boost::json::object> feed(std::string_view line) = 0;
};

// The command an engine wants run inside the scratch directory.
struct PreparedCommand {
  std::vector<std::string> argv;  // argv[0] is the program path
  std::vector<std::pair<std::string, std::string>> env;  // added to the runner's clean environment
  std::string stdout_file;  // when not empty, stdout is also saved to this file in the scratch dir
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  // false: run_in_process() produces the result on the calling thread (echo).
  virtual bool uses_subprocess() const = 0;

  // What this engine cannot run although the spec is well-formed (checked at submission).
  virtual FieldErrors validate(const JobSpec&) const { return {}; }

  // Writes the input files into `scratch` and returns the command to run there.
  virtual PreparedCommand prepare(const JobSpec& spec, const std::filesystem::path& scratch) const = 0;
  virtual EngineOutput interpret(const JobSpec& spec, const std::filesystem::path& scratch,
                                 const ProcessOutcome& outcome) const = 0;
  virtual std::unique_ptr<ProgressParser> progress_parser() const { return nullptr; }
  // After a run that ended by itself, another command to run in the same scratch directory
  // within the same attempt and time limit (xtb's ensure_minimum: optimize again from a structure
  // displaced along an imaginary mode), or nullopt when the attempt is done. `runs` counts the
  // runs so far (1 after the first).
  virtual std::optional<PreparedCommand> follow_up(const JobSpec& spec, const std::filesystem::path& scratch,
                                                   const ProcessOutcome& outcome, int runs) const {
    (void)spec, (void)scratch, (void)outcome, (void)runs;
    return std::nullopt;
  }

  // In-process engines get the stored spec as it is: no second parse per job.
  virtual EngineOutput run_in_process(const boost::json::object& spec) const;
};

}  // namespace nox
