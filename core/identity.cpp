#include "core/identity.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace nox {

namespace {

constexpr std::pair<Scope, std::string_view> scope_names[] = {
    {Scope::read, "compute:read"}, {Scope::write, "compute:write"}, {Scope::admin, "admin"}};

}  // namespace

std::string_view scope_name(Scope scope) {
  for (const auto& [s, name] : scope_names)
    if (s == scope) return name;
  return "";
}

std::optional<Scopes> parse_scopes(std::string_view text, std::string* error) {
  Scopes scopes = 0;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    bool known = false;
    for (const auto& [s, name] : scope_names)
      if (item == name) scopes |= scope_bit(s), known = true;
    if (!known) {
      if (error) *error = "unknown scope '" + std::string(item) + "' (known: compute:read, compute:write, admin)";
      return std::nullopt;
    }
  }
  if (scopes == 0) {
    if (error) *error = "no scope given (compute:read, compute:write, admin)";
    return std::nullopt;
  }
  return scopes;
}

std::string scopes_text(Scopes scopes) {
  std::string out;
  for (const auto& [s, name] : scope_names)
    if (scopes & scope_bit(s)) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

std::optional<double> parse_rate(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  double count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + slash, count);
  if (ec != std::errc{} || ptr != text.data() + slash || !std::isfinite(count) || count <= 0) return std::nullopt;
  const std::string_view unit = text.substr(slash + 1);
  if (unit == "s") return count;
  if (unit == "min") return count / 60;
  if (unit == "h") return count / 3600;
  return std::nullopt;
}

std::string rate_text(double per_second) {
  std::ostringstream out;
  if (per_second >= 1 || per_second <= 0) {
    out << per_second << "/s";
  } else if (per_second * 60 >= 1) {
    out << per_second * 60 << "/min";
  } else {
    out << per_second * 3600 << "/h";
  }
  return out.str();
}

Identity open_identity() {
  Identity identity;
  identity.scopes = all_scopes;
  identity.open = true;
  return identity;
}

}  // namespace nox
