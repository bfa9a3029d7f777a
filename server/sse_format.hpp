#pragma once
// Server-Sent Events wire format and event-id ordering. Pure; unit-tested.
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

// Event ids of both stores have the shape "<ms>-<seq>" (Redis stream ids, memory epoch-seq).
using EventSequence = std::pair<std::uint64_t, std::uint64_t>;
std::optional<EventSequence> parse_event_sequence(std::string_view id);
// True when `id` comes strictly after `than` (unparsable ids never do).
bool event_id_after(std::string_view id, std::string_view than);

}  // namespace nox
