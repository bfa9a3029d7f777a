#include "core/engine_breaker.hpp"

#include <array>

namespace nox {

bool blames_the_instance(std::string_view error_code, bool retryable) {
  static constexpr std::array<std::string_view, 6> instance_faults = {
      "crashed", "engine_not_found", "spawn_failed", "engine_error", "engine_unavailable", "internal_error"};
  if (!retryable) return false;
  for (std::string_view code : instance_faults)
    if (code == error_code) return true;
  return false;
}

bool EngineBreaker::record(const std::string& engine, bool succeeded, bool instance_fault, std::string_view error,
                           Clock::time_point now) {
  if (threshold_ <= 0) return false;
  if (succeeded) {
    auto it = engines_.find(engine);
    if (it != engines_.end()) {
      it->second.failures = 0;
      it->second.until = {};
    }
    return false;
  }
  if (!instance_fault) return false;
  Open& state = engines_[engine];
  state.engine = engine;
  state.last_error = std::string(error);
  ++state.failures;
  if (state.failures < threshold_ || state.until > now) return false;
  state.until = now + cooldown_;
  ++state.trips;
  return true;
}

std::vector<std::string> EngineBreaker::excluded(Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [engine, state] : engines_)
    if (state.until > now) out.push_back(engine);
  return out;
}

std::vector<EngineBreaker::Open> EngineBreaker::open(Clock::time_point now) const {
  std::vector<Open> out;
  for (const auto& [engine, state] : engines_)
    if (state.until > now) out.push_back(state);
  return out;
}

std::map<std::string, int> EngineBreaker::trips() const {
  std::map<std::string, int> out;
  for (const auto& [engine, state] : engines_)
    if (state.trips > 0) out[engine] = state.trips;
  return out;
}

}  // namespace nox
