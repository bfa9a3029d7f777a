// Retries that know chemistry (core/retry_policy.hpp): which failures run again, with what
// changed, after how long.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/retry_policy.hpp"

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object xtb_spec() {
  return json::object{{"engine", "xtb"}, {"task", "optimize"}, {"molecule", json::object{{"xyz", "1\n\nHe 0 0 0\n"}}},
                      {"keywords", json::object{{"opt_level", "tight"}}}};
}

json::object error(const char* code) { return json::object{{"code", code}, {"message", "x"}}; }

const nox::RetryPolicy no_wait{0, 0, 0, true};

}  // namespace

BOOST_AUTO_TEST_SUITE(retry_policy)

BOOST_AUTO_TEST_CASE(an_scf_failure_runs_again_hotter_and_longer) {
  auto first = nox::plan_retry(xtb_spec(), error("scf_not_converged"), false, 1, no_wait, 0.5);
  BOOST_TEST(first.retry);  // the engine alone would not retry it: the rule does
  const auto& keywords = first.spec.at("keywords").as_object();
  BOOST_TEST(keywords.at("electronic_temperature").to_number<double>() == 1000.0);
  BOOST_TEST(keywords.at("max_iterations").to_number<double>() == 500.0);
  BOOST_TEST(keywords.at("opt_level").as_string() == "tight");  // the rest is kept
  BOOST_TEST(first.changed.at("keywords").at("electronic_temperature").to_number<double>() == 1000.0);
  // The second fallback, from the first's keywords: hotter still, twice the iterations.
  auto second = nox::plan_retry(first.spec, error("scf_not_converged"), false, 2, no_wait, 0.5);
  BOOST_TEST(second.spec.at("keywords").at("electronic_temperature").to_number<double>() == 3000.0);
  BOOST_TEST(second.spec.at("keywords").at("max_iterations").to_number<double>() == 1000.0);
  // MOPAC has no such keywords here: the same spec again, as its engine allows.
  json::object mopac = xtb_spec();
  mopac["engine"] = "mopac";
  auto same = nox::plan_retry(mopac, error("scf_not_converged"), true, 1, no_wait, 0.5);
  BOOST_TEST(same.retry);
  BOOST_TEST(same.spec.empty());
}

BOOST_AUTO_TEST_CASE(an_optimization_out_of_cycles_goes_on_from_its_last_geometry) {
  json::object failed = error("optimization_not_converged");
  failed["last_xyz"] = "1\nlast\nHe 0 0 0.1\n";
  json::object spec = xtb_spec();
  spec["depends_on"] = json::array{"0123456789abcdef0123456789abcdef"};
  auto plan = nox::plan_retry(spec, failed, false, 1, no_wait, 0.5);
  BOOST_TEST(plan.retry);
  BOOST_TEST(plan.spec.at("molecule").at("xyz").as_string() == "1\nlast\nHe 0 0 0.1\n");
  BOOST_TEST(!plan.spec.contains("depends_on"));
  BOOST_TEST(plan.changed.contains("molecule"));
}

BOOST_AUTO_TEST_CASE(what_is_not_retried_and_what_runs_again_unchanged) {
  BOOST_TEST(!nox::plan_retry(xtb_spec(), error("input_rejected"), true, 1, no_wait, 0.5).retry);
  BOOST_TEST(!nox::plan_retry(xtb_spec(), error("timeout"), false, 1, no_wait, 0.5).retry);
  auto crash = nox::plan_retry(xtb_spec(), error("crashed"), true, 1, no_wait, 0.5);
  BOOST_TEST(crash.retry);
  BOOST_TEST(crash.spec.empty());  // the same spec
  nox::RetryPolicy plain = no_wait;
  plain.rules = false;
  BOOST_TEST(!nox::plan_retry(xtb_spec(), error("scf_not_converged"), false, 1, plain, 0.5).retry);
}

BOOST_AUTO_TEST_CASE(backoff_doubles_is_capped_and_jittered) {
  const nox::RetryPolicy policy{2, 10, 0.2, true};
  auto delay = [&](int attempt, double r) { return nox::plan_retry(xtb_spec(), error("crashed"), true, attempt, policy, r).delay; };
  BOOST_TEST(delay(1, 0.5).count() == 2000);
  BOOST_TEST(delay(2, 0.5).count() == 4000);
  BOOST_TEST(delay(3, 0.5).count() == 8000);
  BOOST_TEST(delay(4, 0.5).count() == 10000);  // capped
  BOOST_TEST(delay(1, 0.0).count() == 1600);   // jitter: 20% either way
  BOOST_TEST(delay(1, 0.999999).count() == 2400);
  // A spec's retry object overrides the server's.
  json::object spec = xtb_spec();
  spec["retry"] = json::object{{"backoff_s", 0.5}, {"rules", false}};
  const nox::RetryPolicy mine = nox::retry_policy_of(spec, policy);
  BOOST_TEST(mine.backoff_s == 0.5);
  BOOST_TEST(mine.max_backoff_s == 10.0);
  BOOST_TEST(!mine.rules);
}

BOOST_AUTO_TEST_SUITE_END()
