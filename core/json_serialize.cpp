#include "core/json_serialize.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
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

// A finite double in its shortest exact form, with a '.' or an exponent.
void append_double(std::string& out, double value) {
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string_view plain(buffer, static_cast<std::size_t>(written.ptr - buffer));
  // Boost.JSON 1.81's parser is exact only while a number's digits (a trailing ".0" counts)
  // fit its fast path, 15 of them; beyond, it can read a value one ulp off
  // (31076455909972512.0 is not -3.1076455909972512E16 to it). Such numbers keep the
  // exponent form, with the same digits Boost.JSON writes: they read back as its text does.
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

// A number Boost.JSON wrote with an exponent, rewritten by append_double.
void append_plain(std::string& out, std::string_view number) {
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    out.append(number);  // not a number we can read back: left as Boost wrote it
    return;
  }
  append_double(out, value);
}

// Characters a JSON string cannot hold as they are: controls, '"' and '\\'.
constexpr auto needs_escape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

void append_string(std::string& out, std::string_view text) {
  // The escapes Boost.JSON 1.81 writes: \" \\ \b \f \n \r \t, \u00xx for other controls.
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the characters not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape[c]) continue;
    out.append(text, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(text, run, std::string_view::npos);
  out.push_back('"');
}

template <class Integer>
void append_integer(std::string& out, Integer n) {
  char buffer[24];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, n);
  out.append(buffer, static_cast<std::size_t>(written.ptr - buffer));
}

void append_value(std::string& out, const boost::json::value& value);

void append_array(std::string& out, const boost::json::array& array) {
  out.push_back('[');
  bool first = true;
  for (const auto& element : array) {
    if (!first) out.push_back(',');
    first = false;
    append_value(out, element);
  }
  out.push_back(']');
}

void append_object(std::string& out, const boost::json::object& object) {
  out.push_back('{');
  bool first = true;
  for (const auto& member : object) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, member.key());
    out.push_back(':');
    append_value(out, member.value());
  }
  out.push_back('}');
}

void append_value(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out.append("null");
      break;
    case boost::json::kind::bool_:
      out.append(value.get_bool() ? "true" : "false");
      break;
    case boost::json::kind::int64:
      append_integer(out, value.get_int64());
      break;
    case boost::json::kind::uint64:
      append_integer(out, value.get_uint64());
      break;
    case boost::json::kind::double_:
      if (std::isfinite(value.get_double())) {
        append_double(out, value.get_double());
      } else {  // as Boost.JSON 1.81 writes them (not JSON: no reader takes them back)
        out.append(std::isnan(value.get_double()) ? "NaN" : value.get_double() < 0 ? "-Infinity" : "Infinity");
      }
      break;
    case boost::json::kind::string:
      append_string(out, value.get_string());
      break;
    case boost::json::kind::array:
      append_array(out, value.get_array());
      break;
    case boost::json::kind::object:
      append_object(out, value.get_object());
      break;
  }
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

// Written directly (not Boost's text rewritten): each double is converted once, in one pass.
template <class Json>
std::string written(const Json& json, void (*append)(std::string&, const Json&)) {
  std::string out;
  out.reserve(64);
  append(out, json);
  return out;
}

std::string serialize_json(const boost::json::value& value) { return written(value, append_value); }
std::string serialize_json(const boost::json::object& object) { return written(object, append_object); }
std::string serialize_json(const boost::json::array& array) { return written(array, append_array); }

}  // namespace nox
