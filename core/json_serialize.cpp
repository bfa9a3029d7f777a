#include "core/json_serialize.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <string_view>
#include <system_error>

namespace nox {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Boost.JSON writes an exponent only for doubles, as "<digits>E<exponent>"; a digit before
// an 'E' outside a string is what to look for. Job ids are lower-case hex, so the texts
// Nox writes seldom have it inside strings either: most texts are returned as they are.
bool may_have_exponent(std::string_view text) {
  for (std::size_t at = text.find('E', 1); at != std::string_view::npos; at = text.find('E', at + 1))
    if (is_digit(text[at - 1])) return true;
  return false;
}

void append_plain(std::string& out, std::string_view number) {
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  char buffer[32];
  const auto written = ec == std::errc() && end == number.data() + number.size()
                           ? std::to_chars(buffer, buffer + sizeof buffer, value)
                           : std::to_chars_result{buffer, std::errc::invalid_argument};
  if (written.ec != std::errc()) {
    out.append(number);  // not a number we can read back: left as Boost wrote it
    return;
  }
  std::string_view plain(buffer, static_cast<std::size_t>(written.ptr - buffer));
  // Boost.JSON 1.81's parser is exact only while a number's digits (a trailing ".0" counts)
  // fit its fast path, 15 of them; beyond, it can read a value one ulp off
  // (31076455909972512.0 is not -3.1076455909972512E16 to it). Such numbers keep the
  // exponent form, with the same digits Boost.JSON wrote: read back as before.
  std::size_t digits = 0;
  bool leading = true;
  for (char ch : plain) {
    if (!is_digit(ch)) continue;
    if (ch != '0') leading = false;
    if (!leading) ++digits;
  }
  const bool needs_point = plain.find_first_of(".e") == std::string_view::npos;
  if (digits + (needs_point ? 1 : 0) > 15) {
    const auto scientific = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    plain = std::string_view(buffer, static_cast<std::size_t>(scientific.ptr - buffer));
  }
  out.append(plain);
  if (plain.find_first_of(".e") == std::string_view::npos) out.append(".0");  // still a double
}

}  // namespace

std::string with_plain_doubles(std::string text) {
  if (!may_have_exponent(text)) return text;
  // Copied in runs: only the numbers with an exponent are rewritten (a result holding a
  // molecule has dozens of doubles in a few hundred bytes, and this runs for every result).
  std::string out;
  out.reserve(text.size() + 16);
  const std::size_t n = text.size();
  std::size_t copied = 0;  // text[0, copied) is in `out`
  std::size_t i = 0;       // outside any string
  while (i < n) {
    while (i < n && text[i] != '"' && text[i] != 'E') ++i;
    if (i == n) break;
    if (text[i] == '"') {  // a string: skipped through its closing quote (escapes whole)
      ++i;
      while (i < n && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      ++i;
      continue;
    }
    // An 'E' outside strings: a double's exponent when a digit precedes it.
    if (i == 0 || !is_digit(text[i - 1])) {
      ++i;
      continue;
    }
    std::size_t begin = i;
    while (begin > copied && (is_digit(text[begin - 1]) || text[begin - 1] == '.' || text[begin - 1] == '-')) --begin;
    std::size_t end = i + 1;
    if (end < n && (text[end] == '+' || text[end] == '-')) ++end;
    while (end < n && is_digit(text[end])) ++end;
    out.append(text, copied, begin - copied);
    append_plain(out, std::string_view(text.data() + begin, end - begin));
    copied = i = end;
  }
  if (copied == 0) return text;
  if (copied < n) out.append(text, copied, std::string::npos);
  return out;
}

std::string serialize_json(const boost::json::value& value) {
  return with_plain_doubles(boost::json::serialize(value));
}

std::string serialize_json(const boost::json::object& object) {
  return with_plain_doubles(boost::json::serialize(object));
}

std::string serialize_json(const boost::json::array& array) {
  return with_plain_doubles(boost::json::serialize(array));
}

}  // namespace nox
