#include "server/sse_format.hpp"

#include "core/json_serialize.hpp"

namespace nox {

std::string sse_frame(const JobEvent& event) {
  std::string frame;
  frame.reserve(160);
  // An event with no log id (a job's final state, told after its events left the log) has no
  // id line: the client keeps the Last-Event-ID it had.
  if (!event.id.empty()) {
    frame += "id: ";
    frame += event.id;
    frame += '\n';
  }
  frame += "event: ";
  frame += to_string(event.type);
  frame += "\ndata: ";
  frame += serialize_json(event.payload());
  frame += "\n\n";
  return frame;
}

std::string sse_reset_frame(std::string_view last_event_id) {
  boost::json::object data{{"last_event_id", last_event_id},
                           {"message", "events after this id are no longer kept; reload the job list"}};
  return "event: reset\ndata: " + serialize_json(data) + "\n\n";
}

std::string sse_comment(std::string_view text) { return ": " + std::string(text) + "\n\n"; }

}  // namespace nox
