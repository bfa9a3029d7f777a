#pragma once
// What a browser may do to this server. A web page can reach a noxd on localhost: by DNS
// rebinding (its own name resolving to 127.0.0.1, so the request carries its Host) or by a
// cross-origin "simple" request (a form or fetch POST, sent without a preflight). So:
//  - the Host header must name this server (`allowed_hosts`; loopback names by default) or
//    be an IP address (rebinding needs a name);
//  - a state-changing request (POST, PUT, PATCH, DELETE) from a foreign Origin is refused,
//    and so is one whose body is not JSON (a form cannot send application/json);
//  - cross-origin reads and preflights are answered only for the `cors_origins` allowlist.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.hpp"
#include "server/http_types.hpp"

namespace nox {

class EdgePolicy {
 public:
  EdgePolicy() = default;  // allows every Host, no cross origin (tests that need no policy)
  // `listen_host`: the host part of the listen address (allowed unless it is a wildcard).
  static EdgePolicy from(const Settings& settings, std::string_view listen_host);

  // The response to send instead of routing the request (421, 403, 415, or a preflight's
  // 204), or nullopt to route it.
  std::optional<HttpResponse> screen(const HttpRequest& request) const;
  // Adds the CORS headers a response to an allowed cross-origin request needs.
  void add_cors_headers(const HttpRequest& request, HttpResponse& response) const;

  const std::vector<std::string>& hosts() const { return hosts_; }

 private:
  bool host_allowed(std::string_view host_header) const;
  bool origin_listed(std::string_view origin) const;

  std::vector<std::string> hosts_;    // lower-case names without port; empty: any
  std::vector<std::string> origins_;  // exact origins ("https://dash.lab.example"), or "*"
};

}  // namespace nox
