#include "server/server_metrics.hpp"

namespace nox {

namespace {

// Methods as static text, so that a counter's key never points into a finished request.
std::string_view known_method(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (m == method) return m;
  return "other";
}

}  // namespace

void ServerMetrics::request(std::string_view route, std::string_view method, int status, double seconds) {
  auto& counts = routes_[route];
  ++counts.answered[{known_method(method), status}];
  counts.latency.observe(seconds);
}

void ServerMetrics::render(PrometheusText& text) const {
  text.family("nox_http_requests_total", "counter", "HTTP requests answered, by route template, method and status");
  for (const auto& [route, counts] : routes_)
    for (const auto& [key, count] : counts.answered) {
      const auto& [method, status] = key;
      text.sample("nox_http_requests_total",
                  {{"route", std::string(route)}, {"method", std::string(method)}, {"status", std::to_string(status)}},
                  static_cast<double>(count));
    }
  text.family("nox_http_request_duration_seconds", "histogram",
              "time from a request's headers to its response (an event stream: to its start)");
  for (const auto& [route, counts] : routes_)
    text.histogram("nox_http_request_duration_seconds", {{"route", std::string(route)}}, counts.latency);
  text.family("nox_event_loop_lag_seconds", "histogram", "how late a 10 ms timer on the event loop fires");
  text.histogram("nox_event_loop_lag_seconds", {}, loop_lag_);
}

}  // namespace nox
