#pragma once
// Failures decided by how an engine's process ended, worded the same for every engine.
#include <optional>
#include <string>
#include <string_view>

#include "engines/engine.hpp"

namespace nox {

struct EngineFailure {
  std::string code;      // machine-readable, e.g. "timeout"
  std::string sentence;  // what a chemist reads
  bool retryable = false;
};

// When the way the process ended decides the outcome on its own: it could not be started, was
// cancelled, ran past timeout_s, or died of a signal. nullopt when it exited by itself (then the
// engine's files say what happened). `program` names the engine in the sentence ("xtb").
std::optional<EngineFailure> process_failure(std::string_view program, double timeout_s,
                                             const ProcessOutcome& outcome);

}  // namespace nox
