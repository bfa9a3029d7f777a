#include "engines/output_text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>

namespace nox::output_text {

namespace fs = std::filesystem;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}


std::optional<double> to_double(std::string_view token) {
  std::string s(token);
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == 'D' || c == 'd'; }, 'E');
  if (!s.empty() && s.front() == '+') s.erase(0, 1);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int> to_int(std::string_view token) {
  int value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}


std::string last_lines(std::string_view text, std::size_t count) {
  auto lines = lines_of(text);
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  std::size_t first = lines.size() > count ? lines.size() - count : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    out.append(lines[i]);
    out.push_back('\n');
  }
  return out;
}

std::string first_lines(std::string_view text, std::size_t count) {
  std::string out;
  std::size_t n = 0;
  for (auto line : lines_of(text)) {
    if (trim(line).empty()) continue;
    if (n++ == count) break;
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV, segmentation fault";
    case SIGABRT:
      return "SIGABRT, aborted";
    case SIGBUS:
      return "SIGBUS, bus error";
    case SIGFPE:
      return "SIGFPE, arithmetic exception";
    case SIGILL:
      return "SIGILL, illegal instruction";
    case SIGKILL:
      return "SIGKILL, killed";
    case SIGTERM:
      return "SIGTERM, terminated";
    default:
      return "signal " + std::to_string(sig);
  }
}

std::string format_double(double v) {
  std::ostringstream ss;
  ss.precision(10);
  ss << v;
  return ss.str();
}

}  // namespace nox::output_text
