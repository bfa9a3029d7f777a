// The Prometheus text format of GET /metrics: families, labels, histograms (core/metrics.hpp).
#include <boost/test/unit_test.hpp>

#include "core/metrics.hpp"

using namespace nox;

BOOST_AUTO_TEST_SUITE(metrics_text)

BOOST_AUTO_TEST_CASE(a_histogram_counts_into_cumulative_buckets) {
  Histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // on a bound: that bucket (le is "less or equal")
  h.observe(0.5);
  h.observe(7);
  PrometheusText text;
  text.family("x_seconds", "histogram", "test");
  text.histogram("x_seconds", {{"route", "/jobs/{id}"}}, h);
  const std::string out = text.take();
  BOOST_TEST(out.find("# HELP x_seconds test\n# TYPE x_seconds histogram\n") == 0u);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/jobs/{id}\",le=\"0.10000000000000001\"} 2\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/jobs/{id}\",le=\"1\"} 3\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/jobs/{id}\",le=\"+Inf\"} 4\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_count{route=\"/jobs/{id}\"} 4\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_sum{route=\"/jobs/{id}\"} 7.6") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  PrometheusText text;
  text.sample("y_total", {{"tag", "a\"b\\c\nd"}}, 3);
  BOOST_TEST(text.take() == "y_total{tag=\"a\\\"b\\\\c\\nd\"} 3\n");
}

BOOST_AUTO_TEST_CASE(job_outcomes_are_counted_by_kind) {
  JobMetrics jobs;
  jobs.finished("xtb", "optimize", "gfn2", "completed", 12.5);
  jobs.finished("xtb", "optimize", "gfn2", "completed", 3);
  jobs.finished("xtb", "optimize", "gfn2", "retrying", 1);
  jobs.lease_lost();
  jobs.requeued(4);
  PrometheusText text;
  jobs.render(text);
  const std::string out = text.take();
  BOOST_TEST(out.find("nox_jobs_finished_total{engine=\"xtb\",task=\"optimize\",method=\"gfn2\",outcome=\"completed\"} 2") !=
             std::string::npos, out);
  BOOST_TEST(out.find("outcome=\"retrying\"} 1") != std::string::npos);
  BOOST_TEST(out.find("nox_job_duration_seconds_count{engine=\"xtb\",task=\"optimize\",method=\"gfn2\"} 3") !=
             std::string::npos);
  BOOST_TEST(out.find("nox_leases_lost_total 1\n") != std::string::npos);
  BOOST_TEST(out.find("nox_jobs_requeued_total 4\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
