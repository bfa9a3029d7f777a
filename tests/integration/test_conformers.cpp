// Conformer screening (issue 10): POST /workflows/conformers generates conformers of a flexible
// molecule with RDKit, optimizes each with xtb (real), and ranks the distinct ones by energy
// with Boltzmann weights; the survivors come as one multi-record SDF.
#include <cmath>
#include <set>

#include "tests/integration/api_fixture.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conformers)

BOOST_AUTO_TEST_CASE(butanol_gives_distinct_conformers_ranked_by_energy) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client(noxd.port());
  const auto reply = client.post_json("/workflows/conformers", R"({"molecule": {"smiles": "CCCCO"}, "conformers": 6,
      "job": {"method": "gfn2", "keywords": {"opt_level": "tight"}}, "ranking": {"temperature_k": 298.15}})");
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const auto accepted = reply.json();
  const std::string id = json_string(accepted, "workflow_id");
  const auto jobs = accepted.at("jobs").as_array();
  BOOST_TEST_REQUIRE(jobs.size() >= 3u);  // butanol has several distinct conformers
  BOOST_TEST(accepted.at("conformers").as_int64() == static_cast<std::int64_t>(jobs.size()));
  for (const auto& job : jobs)
    BOOST_TEST(json_string(wait_until_finished(client, json_string(job, "job_id"), 120s), "state") == "completed");

  const auto ranking = client.get("/workflows/" + id + "/conformers").json();
  BOOST_TEST(json_string(ranking, "state") == "completed");
  const auto& ranked = ranking.at("conformers").as_array();
  BOOST_TEST_REQUIRE(ranked.size() >= 2u);
  BOOST_TEST(ranked.size() + ranking.at("dropped").as_array().size() == jobs.size());
  double weights = 0, previous = -1e9;
  std::set<std::string> labels;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& c = ranked[i];
    BOOST_TEST(c.at("rank").as_int64() == static_cast<std::int64_t>(i + 1));
    const double energy = c.at("energy_eh").as_double();
    BOOST_TEST(energy >= previous);  // lowest first
    BOOST_TEST(energy < -14.0);      // GFN2 butanol is about -14.9 Eh
    previous = energy;
    BOOST_TEST(c.at("relative_energy_kcal_mol").as_double() <= 6.0);
    weights += c.at("boltzmann_weight").as_double();
    labels.insert(json_string(c, "label"));
  }
  BOOST_TEST(ranked[0].at("relative_energy_kcal_mol").as_double() == 0.0);
  BOOST_TEST(std::abs(weights - 1.0) < 1e-6);
  BOOST_TEST(labels.size() == ranked.size());
  // Distinct: two survivors differ in structure or energy.
  for (std::size_t i = 1; i < ranked.size(); ++i) {
    const double gap = (ranked[i].at("energy_eh").as_double() - ranked[i - 1].at("energy_eh").as_double()) * 627.5094740631;
    BOOST_TEST(gap >= 0.0);
  }

  const auto sdf = client.get("/workflows/" + id + "/conformers.sdf");
  BOOST_TEST_REQUIRE(sdf.status == 200, sdf.body);
  BOOST_TEST(sdf.header("content-type") == "chemical/x-mdl-sdfile");
  BOOST_TEST(occurrences(sdf.body, "$$$$") == ranked.size());
  BOOST_TEST(occurrences(sdf.body, "V2000") == ranked.size());
  BOOST_TEST(sdf.body.find("<boltzmann_weight>") != std::string::npos, sdf.body.substr(0, 2000));

  // The screen is a workflow like any other.
  const auto workflow = client.get("/workflows/" + id).json();
  BOOST_TEST(json_string(workflow, "state") == "completed");
}

BOOST_AUTO_TEST_CASE(refusals_name_the_field) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"molecule": {"xyz": "1\n\nO 0 0 0"}})", "molecule.smiles"},
           {R"({"molecule": {"smiles": "C1CC"}})", "molecule.smiles"},
           {R"({"molecule": {"smiles": "CCO"}, "conformers": 500})", "conformers"},
           {R"({"molecule": {"smiles": "CCO"}, "ranking": {"temperature_k": -5}})", "ranking.temperature_k"},
           {R"({"molecule": {"smiles": "CCO"}, "job": {"engine": "mopac"}})", "job.engine"},
       }) {
    BOOST_TEST_CONTEXT(body) {
      const auto refused = client.post_json("/workflows/conformers", body);
      BOOST_TEST(refused.status == 422);
      BOOST_TEST(error_code(refused) == "invalid_screen");
      BOOST_TEST(refused.body.find(R"("field":")" + field) != std::string::npos, refused.body);
    }
  }
  // A workflow that is not a screen has no ranking.
  const auto plain = client.post_json("/workflows", R"({"jobs": {"a": )" +
                                                        job_spec_json("echo", "energy", molecule_xyz("water")) + "}}");
  BOOST_TEST_REQUIRE(plain.status == 202, plain.body);
  const auto reply = client.get("/workflows/" + json_string(plain.json(), "workflow_id") + "/conformers");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(error_code(reply) == "workflow_not_found");
}

BOOST_AUTO_TEST_SUITE_END()
