#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace nox {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value
  ++counts_[static_cast<std::size_t>(at - bounds_.begin())];
  sum_ += value;
  ++count_;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
}

std::vector<double> job_duration_buckets() {
  return {0.01, 0.1, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600};
}

namespace {

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// Label values escape backslash, double quote and newline (the exposition format's rules).
void escaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (const char c : help) out_ += c == '\n' ? ' ' : c;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::labels(const Labels& labels, std::string_view extra_name, std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += name;
    out_ += "=\"";
    escaped(out_, value);
    out_ += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ',';
    out_ += extra_name;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  this->labels(labels);
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, const Labels& labels, const Histogram& histogram) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= histogram.bounds().size(); ++i) {
    cumulative += histogram.counts()[i];
    out_ += bucket;
    this->labels(labels, "le", i < histogram.bounds().size() ? number(histogram.bounds()[i]) : "+Inf");
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", labels, histogram.sum());
  sample(std::string(name) + "_count", labels, static_cast<double>(histogram.count()));
}

void JobMetrics::finished(const std::string& engine, const std::string& task, const std::string& method,
                          const std::string& outcome, double seconds) {
  Kind kind{engine, task, method};
  ++outcomes_[{kind, outcome}];
  auto it = durations_.find(kind);
  if (it == durations_.end()) it = durations_.emplace(kind, Histogram(job_duration_buckets())).first;
  it->second.observe(seconds);
}

void JobMetrics::render(PrometheusText& text) const {
  auto kind_labels = [](const Kind& kind) {
    return Labels{{"engine", std::get<0>(kind)}, {"task", std::get<1>(kind)}, {"method", std::get<2>(kind)}};
  };
  text.family("nox_jobs_finished_total", "counter",
              "attempts this instance ran to an outcome (retrying: failed and queued again)");
  for (const auto& [key, count] : outcomes_) {
    Labels labels = kind_labels(key.first);
    labels.emplace_back("outcome", key.second);
    text.sample("nox_jobs_finished_total", labels, static_cast<double>(count));
  }
  text.family("nox_job_duration_seconds", "histogram", "wall time of the attempts this instance ran");
  for (const auto& [kind, histogram] : durations_) text.histogram("nox_job_duration_seconds", kind_labels(kind), histogram);
  text.family("nox_leases_lost_total", "counter",
              "running attempts stopped because their lease was no longer this instance's");
  text.sample("nox_leases_lost_total", {}, static_cast<double>(leases_lost_));
  text.family("nox_jobs_requeued_total", "counter",
              "running jobs of vanished instances that this instance's sweeps put back in the queue or failed as lost");
  text.sample("nox_jobs_requeued_total", {}, static_cast<double>(requeued_));
}

}  // namespace nox
