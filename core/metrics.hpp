#pragma once
// Prometheus text exposition (format 0.0.4) for GET /metrics: counters, gauges and
// histograms by label set, kept by whoever owns the numbers (server, dispatcher, Redis
// connections) and rendered on request. Pure: no I/O, unit-tested.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nox {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Cumulative buckets with fixed upper bounds (plus +Inf), a sum and a count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }  // per bucket, not cumulative
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // bounds_.size() + 1 (the last is +Inf)
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Seconds, for request and round-trip latencies: 0.1 ms to 10 s.
std::vector<double> latency_buckets();
// Seconds, for job durations: 10 ms to a day.
std::vector<double> job_duration_buckets();

// Builds the exposition text: each family's HELP and TYPE once, then its samples.
class PrometheusText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void histogram(std::string_view name, const Labels& labels, const Histogram& histogram);
  std::string take() { return std::move(out_); }

 private:
  void labels(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

// How jobs ended on this instance, by engine, task and method: counts by outcome and durations.
class JobMetrics {
 public:
  // `outcome`: completed | failed | retrying | interrupted.
  void finished(const std::string& engine, const std::string& task, const std::string& method,
                const std::string& outcome, double seconds);
  void lease_lost() { ++leases_lost_; }
  void requeued(std::uint64_t jobs) { requeued_ += jobs; }
  void render(PrometheusText& text) const;

 private:
  using Kind = std::tuple<std::string, std::string, std::string>;  // engine, task, method
  std::map<std::pair<Kind, std::string>, std::uint64_t> outcomes_;
  std::map<Kind, Histogram> durations_;
  std::uint64_t leases_lost_ = 0;
  std::uint64_t requeued_ = 0;
};

}  // namespace nox
