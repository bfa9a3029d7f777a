#pragma once
// Server-Sent Events wire format (event-id ordering is core/job_event.hpp). Pure; unit-tested.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/job_event.hpp"

namespace nox {

// "id: <id>\nevent: <type>\ndata: <json>\n\n" — the data is one line (JSON has no raw newlines).
std::string sse_frame(const JobEvent& event);
// Tells the client its Last-Event-ID is older than the log: reload GET /jobs.
std::string sse_reset_frame(std::string_view last_event_id);
std::string sse_comment(std::string_view text);

}  // namespace nox
