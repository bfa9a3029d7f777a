#pragma once
// HTTP Range and validator rules for downloads (RFC 9110 §13, §14), pure so they are tested
// on strings: which bytes a `Range` header asks for, and whether an `If-None-Match` matches.
#include <cstdint>
#include <string_view>

namespace nox {

struct RangeRequest {
  enum class Kind {
    whole,          // no Range, one we ignore (other unit, malformed, several ranges): 200 with every byte
    partial,        // one satisfiable range: 206 with bytes first..last
    unsatisfiable,  // one range that starts past the end: 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::whole;
  std::uint64_t first = 0;  // inclusive; partial only
  std::uint64_t last = 0;   // inclusive, clamped to size - 1; partial only
};

// Interprets a Range header value ("" when absent) for a representation of `size` bytes:
// "bytes=a-b", "bytes=a-" and "bytes=-n" (the last n bytes). A request for several ranges
// is answered whole (allowed by RFC 9110 and far simpler than multipart/byteranges).
RangeRequest parse_range(std::string_view header, std::uint64_t size);

// Whether an If-None-Match value lists `etag` (a quoted entity tag; "" when there is none) or
// is "*", by the weak comparison that header uses (W/ prefixes ignored).
bool if_none_match_matches(std::string_view header, std::string_view etag);

// Whether an If-Range value lets a range be served: it must equal the strong `etag` exactly
// (an HTTP date or a weak tag never does, so the whole file is sent instead).
bool if_range_matches(std::string_view header, std::string_view etag);

}  // namespace nox
