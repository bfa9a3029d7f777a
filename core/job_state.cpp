#include "core/job_state.hpp"

#include <array>
#include <utility>

namespace nox {
namespace {

// Indexed by the enum's value, so the order must match the declaration in job_state.hpp.
constexpr std::array<std::string_view, job_state_count> kStateNames = {"scheduled", "pending", "running",  "completed",
                                                                       "failed",    "cancelled", "waiting"};
constexpr std::array<std::string_view, 10> kEventNames = {"submitted", "scheduled", "started",  "progress",
                                                          "completed", "failed",    "cancelled", "retrying",
                                                          "deleted",   "queued"};

}  // namespace

std::string_view to_string(JobState state) { return kStateNames.at(static_cast<std::size_t>(state)); }

std::string_view to_string(EventType type) { return kEventNames.at(static_cast<std::size_t>(type)); }

std::optional<JobState> parse_job_state(std::string_view text) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == text) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

std::string unknown_state_message(std::string_view given) {
  std::string message = "unknown state '" + std::string(given.substr(0, 64)) + "'; one of ";
  for (std::size_t i = 0; i < kStateNames.size(); ++i) message += (i ? ", " : "") + std::string(kStateNames[i]);
  return message;
}

std::optional<EventType> parse_event_type(std::string_view text) {
  for (std::size_t i = 0; i < kEventNames.size(); ++i) {
    if (kEventNames[i] == text) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

bool is_terminal(JobState state) {
  return state == JobState::completed || state == JobState::failed || state == JobState::cancelled;
}

}  // namespace nox
