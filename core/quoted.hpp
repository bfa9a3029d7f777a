#pragma once
// A client's text quoted for an error message, cut short: a megabyte of junk in a field
// must not become a megabyte of error message.
#include <string>
#include <string_view>

namespace nox {

inline std::string quoted(std::string_view s) {
  constexpr std::size_t max_length = 40;
  std::string out = "\"";
  out.append(s.substr(0, max_length));
  if (s.size() > max_length) out += "...";
  out += '"';
  return out;
}

}  // namespace nox
