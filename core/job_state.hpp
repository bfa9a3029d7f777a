#pragma once
// Job states and event types: the one vocabulary used by the API, the stores and SSE.
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace nox {

// waiting: the job waits for another one (job.waiting_on) instead of queueing: an identical
// calculation already submitted, whose result it will share (the calculation cache).
enum class JobState { scheduled, pending, running, completed, failed, cancelled, waiting };
inline constexpr JobState all_job_states[] = {JobState::scheduled, JobState::pending, JobState::running,
                                              JobState::completed, JobState::failed,  JobState::cancelled,
                                              JobState::waiting};
inline constexpr std::size_t job_state_count = std::size(all_job_states);

// queued: a waiting job goes to the queue after all (what it waited for failed or went away).
enum class EventType { submitted, scheduled, started, progress, completed, failed, cancelled, retrying, deleted, queued };

std::string_view to_string(JobState state);
std::string_view to_string(EventType type);
std::optional<JobState> parse_job_state(std::string_view text);
// "unknown state 'x'; one of scheduled, pending, ..." for a query parameter that names none.
std::string unknown_state_message(std::string_view given);
std::optional<EventType> parse_event_type(std::string_view text);

// completed, failed, cancelled: nothing moves a job out of these except retry/delete.
bool is_terminal(JobState state);

}  // namespace nox
