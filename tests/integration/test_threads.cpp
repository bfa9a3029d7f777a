// Per-job threads through noxd (issue 9): xtb runs with that many OpenMP threads, the pool
// counts them against its slots (never more cores busy than slots), and a job asking for more
// cores than a lone server has is refused.
#include <regex>

#include "tests/integration/api_fixture.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(threads)

BOOST_AUTO_TEST_CASE(a_jobs_threads_take_its_slots_and_reach_xtb) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client(noxd.port());
  // Many seconds of xtb (a Hessian of C30H62) with both slots...
  const std::string wide =
      submit(client, job_spec_json("xtb", "hessian", molecule_xyz("triacontane"), R"("threads":2)"));
  wait_for_state(client, wide, "running");
  // ...so a one-thread job waits although only one job runs.
  const std::string narrow = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water")));
  const auto health = client.get("/health").json();
  BOOST_TEST(health.at("slots").at("busy").as_int64() == 2, json::serialize(health.at("slots")));
  BOOST_TEST(client.request("POST", "/jobs/" + wide + "/cancel").status == 200);
  BOOST_TEST(json_string(wait_until_finished(client, narrow), "state") == "completed");
  // It started only once the wide job's slots were free.
  const auto wide_job = client.get("/jobs/" + wide).json();
  const auto narrow_job = client.get("/jobs/" + narrow).json();
  BOOST_TEST(json_string(narrow_job, "started_at") >= json_string(wide_job, "finished_at"));

  // xtb itself says how many OpenMP threads it ran.
  const std::string two = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water"), R"("threads":2)"));
  wait_until_finished(client, two);
  const std::string log = client.get("/jobs/" + two + "/artifacts/xtb.log").body;
  BOOST_TEST(std::regex_search(log, std::regex("omp threads\\s*:\\s*2\\b")), "xtb.log lacks omp threads = 2");
  const std::string one = client.get("/jobs/" + narrow + "/artifacts/xtb.log").body;
  BOOST_TEST(std::regex_search(one, std::regex("omp threads\\s*:\\s*1\\b")));

  // Alone (memory store), this server has 2 cores to give.
  const auto refused = client.post_json("/jobs", job_spec_json("xtb", "energy", molecule_xyz("water"), R"("threads":3)"));
  BOOST_TEST(refused.status == 422);
  BOOST_TEST(refused.body.find("\"threads\"") != std::string::npos, refused.body);
}

BOOST_AUTO_TEST_SUITE_END()
