#pragma once
// Percent-decoding (RFC 3986), one decoder for every URL part Nox reads: query strings and
// Redis URLs. A '%' not followed by two hex digits is an error, never passed through (the
// query decoder and the Redis URL decoder used to disagree on exactly that).
#include <optional>
#include <string>
#include <string_view>

namespace nox {

// `plus_is_space`: '+' means ' ' (form-encoded query strings), not in other URL parts.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace nox
