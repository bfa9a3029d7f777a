// EdgePolicy: which Host names, origins and request shapes reach the routes (DNS rebinding,
// cross-origin simple requests, CORS preflight).
#include <boost/test/unit_test.hpp>

#include "core/settings.hpp"
#include "server/edge_policy.hpp"

namespace {

nox::HttpRequest request(std::string method, nox::Headers headers) {
  nox::HttpRequest r;
  r.method = std::move(method);
  r.target = "/jobs";
  r.headers = std::move(headers);
  return r;
}

nox::EdgePolicy policy(std::string allowed_hosts = "", std::string cors_origins = "",
                       std::string listen_host = "127.0.0.1") {
  nox::Settings settings;
  settings.allowed_hosts = std::move(allowed_hosts);
  settings.cors_origins = std::move(cors_origins);
  return nox::EdgePolicy::from(settings, listen_host);
}

int status_of(const nox::EdgePolicy& p, const nox::HttpRequest& r) {
  auto refused = p.screen(r);
  return refused ? refused->status : 0;  // 0: routed
}

std::string header_of(const nox::HttpResponse& response, std::string_view name) {
  for (const auto& [k, v] : response.headers)
    if (k == name) return v;
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(edge_policy)

BOOST_AUTO_TEST_CASE(loopback_names_and_the_listen_host_are_answered_others_get_421) {
  const auto p = policy("", "", "10.0.0.5");
  // IP addresses too: a page loaded from an address is that address's own origin (rebinding
  // needs a name).
  for (const char* host : {"127.0.0.1:8080", "localhost", "LOCALHOST:80", "[::1]:8080", "10.0.0.5:8080",
                           "192.168.1.20:8080", "[fd00::7]:8080"})
    BOOST_TEST(status_of(p, request("GET", {{"host", host}})) == 0, host);
  for (const char* host : {"evil.example", "evil.example:8080", "127.0.0.1.evil.example", "10.0.0.5.nip.io", ""})
    BOOST_TEST(status_of(p, request("DELETE", {{"host", host}})) == 421, host);
  auto refused = p.screen(request("GET", {{"host", "evil.example"}}));
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->body.find("host_not_allowed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configured_names_are_answered_and_star_answers_any) {
  BOOST_TEST(status_of(policy("nox.lab.example, other.lab"), request("GET", {{"host", "NOX.lab.example:8080"}})) == 0);
  BOOST_TEST(status_of(policy("nox.lab.example"), request("GET", {{"host", "evil.example"}})) == 421);
  BOOST_TEST(status_of(policy("*"), request("GET", {{"host", "anything.example"}})) == 0);
}

BOOST_AUTO_TEST_CASE(state_changes_from_a_foreign_origin_are_refused_same_origin_and_listed_ones_pass) {
  const auto p = policy("", "https://dash.lab.example");
  const nox::Headers json = {{"host", "127.0.0.1:8080"}, {"content-type", "application/json"}};
  auto with = [&](std::string origin) {
    nox::Headers h = json;
    h.emplace_back("origin", std::move(origin));
    return h;
  };
  BOOST_TEST(status_of(p, request("POST", with("http://evil.example"))) == 403);
  BOOST_TEST(status_of(p, request("DELETE", with("null"))) == 403);
  BOOST_TEST(status_of(p, request("POST", with("http://127.0.0.1:8080"))) == 0);  // the dashboard itself
  BOOST_TEST(status_of(p, request("POST", with("https://dash.lab.example"))) == 0);
  BOOST_TEST(status_of(p, request("POST", json)) == 0);  // curl, scripts: no Origin
  // Reads from anywhere are routed (the browser keeps a foreign page from reading the answer).
  BOOST_TEST(status_of(p, request("GET", {{"host", "127.0.0.1:8080"}, {"origin", "http://evil.example"}})) == 0);
}

BOOST_AUTO_TEST_CASE(a_state_change_with_a_body_a_form_could_send_is_refused) {
  const auto p = policy();
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"})
    BOOST_TEST(status_of(p, request("POST", {{"host", "127.0.0.1"}, {"content-type", type}})) == 415, type);
  BOOST_TEST(status_of(p, request("POST", {{"host", "127.0.0.1"}})) == 0);  // curl -X POST .../cancel
  BOOST_TEST(status_of(p, request("POST", {{"host", "127.0.0.1"}, {"content-type", "application/json; charset=utf-8"}})) ==
             0);
}

BOOST_AUTO_TEST_CASE(preflights_are_answered_for_listed_origins_only) {
  const auto p = policy("", "https://dash.lab.example");
  auto preflight = [](std::string origin) {
    return request("OPTIONS", {{"host", "127.0.0.1:8080"},
                               {"origin", std::move(origin)},
                               {"access-control-request-method", "POST"},
                               {"access-control-request-headers", "content-type"}});
  };
  auto answered = p.screen(preflight("https://dash.lab.example"));
  BOOST_REQUIRE(answered);
  BOOST_TEST(answered->status == 204);
  BOOST_TEST(header_of(*answered, "Access-Control-Allow-Origin") == "https://dash.lab.example");
  BOOST_TEST(header_of(*answered, "Access-Control-Allow-Methods").find("POST") != std::string::npos);
  BOOST_TEST(header_of(*answered, "Access-Control-Allow-Headers").find("Content-Type") != std::string::npos);
  // Regression: a page could not send its own X-Request-ID (not in the allowed headers).
  BOOST_TEST(header_of(*answered, "Access-Control-Allow-Headers").find("X-Request-ID") != std::string::npos);
  BOOST_TEST(header_of(*answered, "Vary") == "Origin");
  BOOST_TEST(status_of(p, preflight("http://evil.example")) == 403);

  nox::HttpResponse response;
  p.add_cors_headers(request("GET", {{"origin", "https://dash.lab.example"}}), response);
  BOOST_TEST(header_of(response, "Access-Control-Allow-Origin") == "https://dash.lab.example");
  BOOST_TEST(header_of(response, "Access-Control-Expose-Headers").find("Location") != std::string::npos);
  // Regression: a page's script could not read X-Request-ID or a failed batch's X-Nox-Created.
  BOOST_TEST(header_of(response, "Access-Control-Expose-Headers").find("X-Request-ID") != std::string::npos);
  BOOST_TEST(header_of(response, "Access-Control-Expose-Headers").find("X-Nox-Created") != std::string::npos);
  nox::HttpResponse foreign;
  p.add_cors_headers(request("GET", {{"origin", "http://evil.example"}}), foreign);
  BOOST_TEST(foreign.headers.empty());
}

BOOST_AUTO_TEST_SUITE_END()
