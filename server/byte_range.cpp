#include "server/byte_range.hpp"

#include <charconv>

namespace nox {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only (no sign, no spaces), fitting in 64 bits.
bool parse_number(std::string_view digits, std::uint64_t& out) {
  if (digits.empty()) return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view without_weak(std::string_view tag) {
  if (tag.size() >= 2 && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  RangeRequest whole;
  header = trim(header);
  const std::size_t eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes")) return whole;
  const std::string_view spec = trim(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: answered whole
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view from = trim(spec.substr(0, dash));
  const std::string_view to = trim(spec.substr(dash + 1));
  RangeRequest range;
  range.kind = RangeRequest::Kind::partial;
  if (from.empty()) {  // "-n": the last n bytes
    std::uint64_t n = 0;
    if (!parse_number(to, n)) return whole;
    if (n == 0 || size == 0) return {RangeRequest::Kind::unsatisfiable, 0, 0};
    range.first = n >= size ? 0 : size - n;
    range.last = size - 1;
    return range;
  }
  std::uint64_t first = 0;
  if (!parse_number(from, first)) return whole;
  std::uint64_t last = 0;
  if (to.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!parse_number(to, last) || last < first) return whole;  // invalid: the header is ignored
    if (size != 0 && last > size - 1) last = size - 1;
  }
  if (first >= size) return {RangeRequest::Kind::unsatisfiable, 0, 0};
  range.first = first;
  range.last = last;
  return range;
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  header = trim(header);
  if (header == "*") return true;  // any current representation
  if (header.empty() || etag.empty()) return false;
  etag = without_weak(etag);
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    if (without_weak(trim(header.substr(0, comma))) == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

bool if_range_matches(std::string_view header, std::string_view etag) {
  header = trim(header);
  return !etag.empty() && !header.starts_with("W/") && header == etag;
}

}  // namespace nox
