#pragma once
// The state machine of DESIGN.md "Job states": which moves exist and which event each appends.
#include <optional>

#include "core/job_state.hpp"

namespace nox {

// The event a move from `from` to `to` appends, or nullopt when the move is not allowed.
// running -> pending (retry with backoff, or lease expired) appends `retrying`; the full table is
// in transitions.cpp. A state never moves to itself.
std::optional<EventType> transition_event(JobState from, JobState to);

inline bool transition_allowed(JobState from, JobState to) { return transition_event(from, to).has_value(); }

}  // namespace nox
