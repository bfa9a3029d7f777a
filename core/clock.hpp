#pragma once
// Wall-clock time as milliseconds since the Unix epoch, and its RFC 3339 form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nox {

using TimeMs = std::int64_t;

TimeMs now_ms();
std::string to_rfc3339(TimeMs t);  // "2026-11-24T01:02:03.456Z"
std::optional<TimeMs> parse_rfc3339(std::string_view text);

}  // namespace nox
