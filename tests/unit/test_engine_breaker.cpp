// The engine circuit breaker (core/engine_breaker.hpp): failures that blame the instance, in a
// row, take an engine out for a cool-down; a success or the input's own failures do not count.
#include <boost/test/unit_test.hpp>

#include "core/engine_breaker.hpp"

using nox::EngineBreaker;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(engine_breaker)

BOOST_AUTO_TEST_CASE(what_blames_the_instance) {
  BOOST_TEST(nox::blames_the_instance("crashed", true));
  BOOST_TEST(nox::blames_the_instance("engine_not_found", true));
  BOOST_TEST(nox::blames_the_instance("spawn_failed", true));
  BOOST_TEST(nox::blames_the_instance("engine_unavailable", true));
  BOOST_TEST(!nox::blames_the_instance("crashed", false));  // a crash the input causes every time
  for (const char* input : {"input_rejected", "scf_not_converged", "optimization_not_converged", "timeout", "cancelled"})
    BOOST_TEST(!nox::blames_the_instance(input, true), input);
}

BOOST_AUTO_TEST_CASE(failures_in_a_row_take_an_engine_out_for_the_cooldown) {
  EngineBreaker breaker(3, 60s);
  const auto t0 = EngineBreaker::Clock::now();
  BOOST_TEST(!breaker.record("xtb", false, true, "crashed: SIGSEGV", t0));
  BOOST_TEST(!breaker.record("xtb", false, true, "crashed: SIGSEGV", t0));
  BOOST_TEST(breaker.excluded(t0).empty());
  BOOST_TEST(breaker.record("xtb", false, true, "crashed: SIGSEGV", t0));  // the third: out
  BOOST_TEST((breaker.excluded(t0) == std::vector<std::string>{"xtb"}));
  BOOST_TEST(breaker.excluded(t0 + 59s).size() == 1u);
  const auto open = breaker.open(t0);
  BOOST_TEST_REQUIRE(open.size() == 1u);
  BOOST_TEST(open[0].failures == 3);
  BOOST_TEST(open[0].last_error == "crashed: SIGSEGV");
  // After the cool-down it is tried again: one more such failure takes it out at once.
  BOOST_TEST(breaker.excluded(t0 + 61s).empty());
  BOOST_TEST(breaker.record("xtb", false, true, "crashed: SIGSEGV", t0 + 61s));
  BOOST_TEST(breaker.excluded(t0 + 62s).size() == 1u);
  BOOST_TEST(breaker.trips().at("xtb") == 2);
  // A success puts it back for good.
  breaker.record("xtb", true, false, "", t0 + 130s);
  BOOST_TEST(!breaker.record("xtb", false, true, "crashed", t0 + 131s));
  BOOST_TEST(breaker.excluded(t0 + 131s).empty());
}

BOOST_AUTO_TEST_CASE(the_inputs_failures_and_other_engines_do_not_count) {
  EngineBreaker breaker(2, 60s);
  const auto t0 = EngineBreaker::Clock::now();
  breaker.record("xtb", false, true, "crashed", t0);
  breaker.record("xtb", false, false, "scf_not_converged", t0);  // neither counts nor resets
  breaker.record("mopac", false, true, "crashed", t0);
  BOOST_TEST(breaker.record("xtb", false, true, "crashed", t0));
  BOOST_TEST((breaker.excluded(t0) == std::vector<std::string>{"xtb"}));
  EngineBreaker off(0, 60s);
  for (int i = 0; i < 10; ++i) BOOST_TEST(!off.record("xtb", false, true, "crashed", t0));
  BOOST_TEST(off.excluded(t0).empty());
}

BOOST_AUTO_TEST_SUITE_END()
