#include "core/job_event.hpp"

#include <boost/json.hpp>
#include <charconv>

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

std::optional<EventSequence> parse_event_id(std::string_view id) {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return std::nullopt;
  EventSequence seq{};
  auto a = std::from_chars(id.data(), id.data() + dash, seq.first);
  auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq.second);
  if (a.ec != std::errc{} || a.ptr != id.data() + dash || b.ec != std::errc{} || b.ptr != id.data() + id.size())
    return std::nullopt;
  return seq;
}

bool event_id_after(std::string_view id, std::string_view than) {
  auto a = parse_event_id(id);
  if (!a) return false;
  auto b = parse_event_id(than);
  if (!b) return true;
  return *a > *b;
}

boost::json::object result_summary(const boost::json::value& result) {
  boost::json::object summary;
  if (!result.is_object()) return summary;
  for (const auto& [key, value] : result.as_object())
    if (value.is_number() || value.is_bool()) summary[key] = value;
  return summary;
}

}  // namespace nox
