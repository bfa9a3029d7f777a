#include "engines/process_failure.hpp"

#include <csignal>

#include "engines/output_text.hpp"

namespace nox {

std::optional<EngineFailure> process_failure(std::string_view program, double timeout_s,
                                             const ProcessOutcome& outcome) {
  using output_text::format_double;
  using output_text::signal_name;
  const std::string name(program);
  if (outcome.spawn_failed) {
    const bool missing = outcome.stderr_tail.find("cannot execute") != std::string::npos;
    if (missing) return EngineFailure{"engine_not_found", name + " could not be started on this server: " +
                                                              outcome.stderr_tail};
    return EngineFailure{"spawn_failed", "the " + name + " process could not be set up: " + outcome.stderr_tail,
                         true};
  }
  if (outcome.cancelled) {
    return EngineFailure{"cancelled", "The calculation was stopped because the job was cancelled."};
  }
  if (outcome.timed_out) {
    return EngineFailure{"timeout", name + " did not finish within the job's time limit of " +
                                        format_double(timeout_s) +
                                        " s and was stopped. Large molecules, Hessians and tight "
                                        "optimizations take longer: raise timeout_s."};
  }
  if (outcome.term_signal != 0) {
    std::string sentence = name + " crashed (" + signal_name(outcome.term_signal) + ").";
    if (outcome.term_signal == SIGKILL) sentence += " Something outside Nox killed it, possibly for lack of memory.";
    if (outcome.term_signal == SIGSEGV) {
      sentence += " Very large molecules need a larger stack; a second attempt may also succeed.";
    }
    return EngineFailure{"crashed", sentence, true};
  }
  return std::nullopt;
}

}  // namespace nox
