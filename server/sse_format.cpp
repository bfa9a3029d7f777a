#include "server/sse_format.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace nox {

std::string sse_frame(const JobEvent& event) {
  std::string frame;
  frame.reserve(160);
  frame += "id: ";
  frame += event.id;
  frame += "\nevent: ";
  frame += to_string(event.type);
  frame += "\ndata: ";
  frame += boost::json::serialize(event.payload());
  frame += "\n\n";
  return frame;
}

std::string sse_reset_frame(std::string_view last_event_id) {
  boost::json::object data{{"last_event_id", last_event_id},
                           {"message", "events after this id are no longer kept; reload the job list"}};
  return "event: reset\ndata: " + boost::json::serialize(data) + "\n\n";
}

std::string sse_comment(std::string_view text) { return ": " + std::string(text) + "\n\n"; }

std::optional<EventSequence> parse_event_sequence(std::string_view id) {
  auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return std::nullopt;
  EventSequence seq{};
  auto a = std::from_chars(id.data(), id.data() + dash, seq.first);
  auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq.second);
  if (a.ec != std::errc{} || a.ptr != id.data() + dash || b.ec != std::errc{} || b.ptr != id.data() + id.size())
    return std::nullopt;
  return seq;
}

bool event_id_after(std::string_view id, std::string_view than) {
  auto a = parse_event_sequence(id);
  if (!a) return false;
  auto b = parse_event_sequence(than);
  if (!b) return true;
  return *a > *b;
}

}  // namespace nox
