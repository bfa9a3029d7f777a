#pragma once
// One entry of the event log: what SSE streams and every transition appends.
#include <boost/json/object.hpp>
#include <string>

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

}  // namespace nox
