#include "server/edge_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "server/api_error.hpp"
#include "server/request_body.hpp"

namespace nox {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "a, b ,c" -> {"a", "b", "c"}
std::vector<std::string> comma_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

// The name part of a Host header or listen host: "[::1]:8080" -> "::1", "Nox.Lab:80" -> "nox.lab".
std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return lower(host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  if (std::count(host.begin(), host.end(), ':') > 1) return lower(host);  // a bare IPv6 address
  return lower(host.substr(0, host.find(':')));
}

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

constexpr std::string_view allowed_methods = "GET, HEAD, POST, DELETE";
constexpr std::string_view allowed_request_headers =
    "Content-Type, Idempotency-Key, Last-Event-ID, Authorization, X-API-Key, X-Request-ID, If-None-Match, If-Range, "
    "Range";
// What a page's script may read of a response: besides the safelisted ones, every header Nox
// sets that a client acts on (X-Request-ID to quote in a report, X-Nox-Created after a batch
// failed midway).
constexpr std::string_view exposed_headers =
    "Location, Retry-After, ETag, Idempotent-Replayed, Content-Range, X-Request-ID, X-Nox-Created";

}  // namespace

EdgePolicy EdgePolicy::from(const Settings& settings, std::string_view listen_host) {
  EdgePolicy policy;
  const std::vector<std::string> configured = comma_list(settings.allowed_hosts);
  if (std::find(configured.begin(), configured.end(), "*") == configured.end()) {
    policy.hosts_ = {"localhost", "127.0.0.1", "::1"};
    for (const auto& host : configured) policy.hosts_.push_back(host_name(host));
    const std::string listen = host_name(listen_host);
    if (!listen.empty() && listen != "0.0.0.0" && listen != "::") policy.hosts_.push_back(listen);
    if (configured.empty()) {
      // Listening on every interface with no names configured: this machine's own name too.
      std::array<char, 256> name{};
      if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') policy.hosts_.push_back(lower(name.data()));
    }
  }
  policy.origins_ = comma_list(settings.cors_origins);
  for (auto& origin : policy.origins_) {
    if (origin != "*") origin = lower(origin);
    while (origin.size() > 1 && origin.back() == '/') origin.pop_back();
  }
  return policy;
}

namespace {

// DNS rebinding needs a name: a Host that is an IP address means the page itself was loaded
// from that address, so it is the page's own origin, not a rebound one.
bool is_ip_address(const std::string& name) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace

bool EdgePolicy::host_allowed(std::string_view host_header) const {
  if (hosts_.empty()) return true;
  // The usual request names a configured host exactly ("127.0.0.1:8080"): found without
  // building the lower-cased name (every request passes here).
  const std::string_view plain = host_header.substr(0, host_header.find(':'));
  for (const auto& host : hosts_)
    if (host == plain) return true;
  // Otherwise the name as compared: lower-cased, brackets and port removed; or an IP address.
  const std::string name = host_name(host_header);
  return std::find(hosts_.begin(), hosts_.end(), name) != hosts_.end() || is_ip_address(name);
}

bool EdgePolicy::origin_listed(std::string_view origin) const {
  if (std::find(origins_.begin(), origins_.end(), "*") != origins_.end()) return true;
  return std::find(origins_.begin(), origins_.end(), lower(origin)) != origins_.end();
}

std::optional<HttpResponse> EdgePolicy::screen(const HttpRequest& request) const {
  const std::string_view host = request.header("host");
  if (!host_allowed(host)) {
    std::string names;
    for (const auto& h : hosts_) names += (names.empty() ? "" : ", ") + h;
    return error_response(421, "host_not_allowed",
                          "this server does not answer to Host '" + std::string(host.substr(0, 200)) +
                              "' (allowed: " + names + "; setting allowed_hosts)");
  }
  const std::string_view origin = request.header("origin");
  // Same origin: the page was served by this server under the name the request uses.
  const auto scheme_end = origin.find("://");
  const bool same_origin =
      scheme_end != std::string_view::npos && lower(origin.substr(scheme_end + 3)) == lower(host);
  const bool foreign = !origin.empty() && !same_origin;

  if (request.method == "OPTIONS" && foreign && !request.header("access-control-request-method").empty()) {
    if (!origin_listed(origin))
      return error_response(403, "origin_not_allowed",
                            "cross-origin requests from " + std::string(origin.substr(0, 200)) +
                                " are not allowed (setting cors_origins)");
    HttpResponse preflight;
    preflight.status = 204;
    preflight.headers = {{"Access-Control-Allow-Methods", std::string(allowed_methods)},
                         {"Access-Control-Allow-Headers", std::string(allowed_request_headers)},
                         {"Access-Control-Max-Age", "600"}};
    add_cors_headers(request, preflight);
    return preflight;
  }
  if (!changes_state(request.method)) return std::nullopt;
  if (foreign && !origin_listed(origin))
    return error_response(403, "origin_not_allowed",
                          request.method + " from a page of " + std::string(origin.substr(0, 200)) +
                              " is not allowed (setting cors_origins)");
  // A form or a fetch without preflight can send text/plain, urlencoded or multipart bodies,
  // never application/json nor a chemical/x-* type: a state change with any other body type is
  // refused.
  const std::string_view content_type = request.header("content-type");
  if (!content_type.empty() && !is_json_media_type(content_type) && !molecule_file_format(content_type))
    return error_response(415, "unsupported_media_type",
                          request.method + " takes a JSON body (Content-Type: application/json) or none, not " +
                              std::string(content_type.substr(0, 100)));
  return std::nullopt;
}

void EdgePolicy::add_cors_headers(const HttpRequest& request, HttpResponse& response) const {
  const std::string_view origin = request.header("origin");
  if (origin.empty() || !origin_listed(origin)) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  response.headers.emplace_back("Access-Control-Expose-Headers", std::string(exposed_headers));
  response.headers.emplace_back("Vary", "Origin");
}

}  // namespace nox
