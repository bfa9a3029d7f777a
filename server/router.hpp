#pragma once
// Maps (method, path) to a route handler: "/jobs/{id}/artifacts/{name}" style patterns,
// 404 for unknown paths, 405 with the allowed methods for known paths. Pure; unit-tested.
#include <array>
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

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
  PathParams params;
  std::string allow;  // method_not_allowed: "GET, DELETE"
};

class Router {
 public:
  void add(std::string_view method, std::string_view pattern, Handler handler);
  // `path` must outlive the returned params (they point into it).
  RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace nox
