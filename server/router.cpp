#include "server/router.hpp"

#include <algorithm>
#include <optional>

namespace nox {

namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" into {}; a trailing slash counts as an empty segment.
template <class Out>
void split_path(std::string_view path, Out& out) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return;
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

bool is_capture(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view PathParams::get(std::string_view name) const {
  for (std::size_t i = 0; i < size; ++i)
    if (items[i].first == name) return items[i].second;
  return {};
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler, Scope needs) {
  Route route{std::string(method), std::string(pattern), {}, handler, needs};
  std::vector<std::string_view> parts;
  split_path(pattern, parts);
  for (auto part : parts) {
    route.segments.emplace_back(part);
    if (!is_capture(part)) ++route.literals;
  }
  const auto after = std::find_if(routes_.begin(), routes_.end(),
                                  [&](const Route& other) { return other.literals < route.literals; });
  routes_.insert(after, std::move(route));
}

// A literal segment beats a capture: of the routes that fit the path, only those with the most
// literal segments count (GET /jobs/batch is POST /jobs/batch's path: 405, not the job
// "batch"). The routes are kept most literal first, so the first that fits sets that count.
RouteMatch Router::match(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> parts;
  parts.reserve(6);
  split_path(path, parts);
  RouteMatch result;
  std::optional<std::size_t> fitted_literals;
  for (const auto& route : routes_) {
    if (fitted_literals && route.literals < *fitted_literals) break;
    if (route.segments.size() != parts.size()) continue;
    PathParams params;
    bool same = true;
    for (std::size_t i = 0; i < parts.size() && same; ++i) {
      const std::string_view segment = route.segments[i];
      if (is_capture(segment)) {
        if (parts[i].empty() || params.size == params.items.size()) same = false;
        else params.items[params.size++] = {segment.substr(1, segment.size() - 2), parts[i]};
      } else {
        same = segment == parts[i];
      }
    }
    if (!same) continue;
    fitted_literals = route.literals;
    if (route.method == method) {
      result.kind = RouteMatch::Kind::found;
      result.handler = route.handler;
      result.needs = route.needs;
      result.pattern = route.pattern;
      result.params = params;
      result.allow.clear();
      return result;
    }
    result.kind = RouteMatch::Kind::method_not_allowed;
    if (result.allow.find(route.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
    }
  }
  return result;
}

std::vector<RouteInfo> Router::table() const {
  std::vector<RouteInfo> rows;
  for (const auto& route : routes_) rows.push_back({route.method, route.pattern, route.needs});
  return rows;
}

}  // namespace nox
