#include "core/job_event.hpp"

#include <boost/json.hpp>

namespace nox {

boost::json::object JobEvent::payload() const {
  boost::json::object o;
  o["job_id"] = job_id;
  o["state"] = to_string(state);
  o["time"] = to_rfc3339(time);
  // The three fields above identify the event; data cannot overwrite them.
  for (const auto& [key, value] : data) {
    if (key == "job_id" || key == "state" || key == "time") continue;
    o[key] = value;
  }
  return o;
}

}  // namespace nox
