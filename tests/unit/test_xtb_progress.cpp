// Optimization progress from recorded xtb stdout, fed line by line as the runner does.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "engines/xtb/progress.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<boost::json::object> feed_file(const fs::path& p) {
  std::ifstream in(p);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
  nox::xtb::XtbProgressParser parser;
  std::vector<boost::json::object> steps;
  std::string line;
  while (std::getline(in, line))
    if (auto step = parser.feed(line)) steps.push_back(std::move(*step));
  return steps;
}

const fs::path fixtures = fs::path(NOX_FIXTURES_DIR) / "xtb";

struct Step {
  int cycle;
  double energy, gnorm;
};

void check(const std::vector<boost::json::object>& steps, const std::vector<Step>& expected) {
  BOOST_REQUIRE(steps.size() == expected.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    BOOST_TEST(steps[i].size() == 3u);
    BOOST_TEST(steps[i].at("cycle").as_int64() == expected[i].cycle);
    BOOST_TEST(steps[i].at("energy_eh").as_double() == expected[i].energy);
    BOOST_TEST(steps[i].at("gradient_norm").as_double() == expected[i].gnorm);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(xtb_progress)

BOOST_AUTO_TEST_CASE(water_optimization_cycles) {
  check(feed_file(fixtures / "water_optimize_gfn2" / "xtb.log"), {{1, -5.0703759, 0.0077946},
                                                                  {2, -5.0705048, 0.0036666},
                                                                  {3, -5.0705407, 0.0021870},
                                                                  {4, -5.0705440, 0.0008897}});
}

BOOST_AUTO_TEST_CASE(optimization_before_a_hessian) {
  check(feed_file(fixtures / "water_ohess_gfn2" / "xtb.log"), {{1, -5.0703759, 0.0077946},
                                                               {2, -5.0705048, 0.0036666},
                                                               {3, -5.0705407, 0.0021870},
                                                               {4, -5.0705440, 0.0008897}});
}

BOOST_AUTO_TEST_CASE(cycles_that_run_out) {
  check(feed_file(fixtures / "water_opt_out_of_cycles" / "xtb.log"),
        {{1, -5.0703759, 0.0077946}, {2, -5.0705048, 0.0036666}});
}

BOOST_AUTO_TEST_CASE(no_progress_without_an_optimization) {
  // The summary boxes (":: total energy", ":: gradient norm") are not cycles.
  BOOST_TEST(feed_file(fixtures / "water_energy_gfn2" / "xtb.log").empty());
  BOOST_TEST(feed_file(fixtures / "water_gradient_gfn2" / "xtb.log").empty());
  BOOST_TEST(feed_file(fixtures / "ammonia_planar_hessian_gfn2" / "xtb.log").empty());
}

BOOST_AUTO_TEST_CASE(a_gradient_norm_needs_its_energy) {
  nox::xtb::XtbProgressParser parser;
  BOOST_TEST(!parser.feed(".............................. CYCLE    7 .............................."));
  BOOST_TEST(!parser.feed("   gradient norm :     0.0077946 Eh/\xce\xb1   predicted     0.0000000E+00"));
  BOOST_TEST(!parser.feed(" * total energy  :    -2.3633521 Eh     change        0.0000000E+00 Eh"));
  auto step =
      parser.feed("   gradient norm :     0.0247027 Eh/\xce\xb1   predicted     0.0000000E+00 (    NaN%)");
  BOOST_REQUIRE(step.has_value());
  BOOST_TEST(step->at("cycle").as_int64() == 7);
  BOOST_TEST(step->at("energy_eh").as_double() == -2.3633521);
  BOOST_TEST(step->at("gradient_norm").as_double() == 0.0247027);
  // One step per cycle.
  BOOST_TEST(!parser.feed("   gradient norm :     0.0247027 Eh/\xce\xb1"));
}

BOOST_AUTO_TEST_SUITE_END()
