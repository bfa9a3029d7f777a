#pragma once
// One entry of the event log: what SSE streams and every transition appends.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.hpp"
#include "core/job_state.hpp"

namespace nox {

struct JobEvent {
  std::string id;  // store sequence: Redis stream id, or the memory store's counter
  EventType type = EventType::submitted;
  std::string job_id;
  JobState state = JobState::pending;
  TimeMs time = 0;
  boost::json::object data;  // per type: progress numbers, result summary, error

  // The SSE `data:` payload: {"job_id","state","time",...data}.
  boost::json::object payload() const;
};

// Event ids of both stores have the shape "<ms>-<seq>" (Redis stream ids; the memory
// store's "<start ms>-<n>"), ordered as that pair of numbers.
using EventSequence = std::pair<std::uint64_t, std::uint64_t>;
std::optional<EventSequence> parse_event_id(std::string_view id);
// True when `id` comes strictly after `than` (an unparsable `id` never does).
bool event_id_after(std::string_view id, std::string_view than);

// The scalars of a result (energies, gap, ...) that a `completed` event carries.
boost::json::object result_summary(const boost::json::value& result);

}  // namespace nox
