#pragma once
// What the HTTP side counts for GET /metrics: requests by route template, method and status,
// their latency by route, and how late the event loop runs (a 10 ms timer's lateness).
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "core/metrics.hpp"

namespace nox {

class ServerMetrics {
 public:
  // `route`: the router's pattern ("/jobs/{id}"), which outlives this object; "-" when none matched.
  void request(std::string_view route, std::string_view method, int status, double seconds);
  void loop_lag(double seconds) { loop_lag_.observe(seconds); }
  void render(PrometheusText& text) const;

 private:
  // One lookup of the route per request, then its few (method, status) counts.
  struct RouteCounts {
    Histogram latency{latency_buckets()};
    std::map<std::pair<std::string_view, int>, std::uint64_t> answered;  // (method, status)
  };
  std::map<std::string_view, RouteCounts> routes_;
  Histogram loop_lag_{latency_buckets()};
};

}  // namespace nox
