#pragma once
// Maps (method, path) to a route handler: "/jobs/{id}/artifacts/{name}" style patterns,
// 404 for unknown paths, 405 with the allowed methods for known paths. Pure; unit-tested.
#include <array>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/identity.hpp"
#include "server/http_types.hpp"

namespace nox {

struct App;

struct PathParams {
  std::array<std::pair<std::string_view, std::string_view>, 4> items{};
  std::size_t size = 0;
  std::string_view get(std::string_view name) const;
};

using Handler = boost::asio::awaitable<HttpResponse> (*)(App&, const HttpRequest&, const PathParams&);

struct RouteMatch {
  enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
  Handler handler = nullptr;
  Scope needs = Scope::none;  // found: the scope a caller must hold (none: public route)
  std::string_view pattern = "-";  // found: the route's pattern (lives as long as the router)
  PathParams params;
  std::string allow;  // method_not_allowed: "GET, DELETE"
};

// One row of the table: what tests iterate over so that no route escapes access control.
struct RouteInfo {
  std::string method;
  std::string pattern;
  Scope needs = Scope::none;
};

class Router {
 public:
  // `needs`: the scope a caller must hold; Scope::none only for what anyone may see (health,
  // the dashboard's files). Every route names it: there is no default to forget.
  void add(std::string_view method, std::string_view pattern, Handler handler, Scope needs);
  // `path` must outlive the returned params (they point into it).
  RouteMatch match(std::string_view method, std::string_view path) const;
  std::vector<RouteInfo> table() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" segments capture
    Handler handler;
    Scope needs;
    std::size_t literals = 0;  // segments that are not captures
  };
  std::vector<Route> routes_;  // most literal segments first; in the order added among equals
};

}  // namespace nox
