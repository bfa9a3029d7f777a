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
  const std::string_view plain(buffer, static_cast<std::size_t>(written.ptr - buffer));
  out.append(plain);
  if (plain.find_first_of(".e") == std::string_view::npos) out.append(".0");  // still a double
}

}  // namespace

std::string with_plain_doubles(std::string text) {
  if (!may_have_exponent(text)) return text;
  std::string out;
  out.reserve(text.size());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '"') {  // a string, copied through its closing quote (escapes skipped whole)
      std::size_t j = i + 1;
      while (j < n && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, n);
      out.append(text, i, j - i);
      i = j;
    } else if (c == '-' || is_digit(c)) {
      std::size_t j = i + 1;
      while (j < n && (is_digit(text[j]) || std::string_view("+-.eE").find(text[j]) != std::string_view::npos)) ++j;
      const std::string_view number(text.data() + i, j - i);
      if (number.find('E') != std::string_view::npos) append_plain(out, number);
      else out.append(number);
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
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
