#pragma once
// Job states and event types: the one vocabulary used by the API, the stores and SSE.
#include <optional>
#include <string>
#include <string_view>

namespace nox {

enum class JobState { scheduled, pending, running, completed, failed, cancelled };
inline constexpr JobState all_job_states[] = {JobState::scheduled, JobState::pending,   JobState::running,
                                              JobState::completed, JobState::failed,    JobState::cancelled};

enum class EventType { submitted, scheduled, started, progress, completed, failed, cancelled, retrying, deleted };

std::string_view to_string(JobState state);
std::string_view to_string(EventType type);
std::optional<JobState> parse_job_state(std::string_view text);
// "unknown state 'x'; one of scheduled, pending, ..." for a query parameter that names none.
std::string unknown_state_message(std::string_view given);
std::optional<EventType> parse_event_type(std::string_view text);

// completed, failed, cancelled: nothing moves a job out of these except retry/delete.
bool is_terminal(JobState state);

}  // namespace nox
