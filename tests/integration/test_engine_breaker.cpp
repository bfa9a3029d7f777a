// The engine circuit breaker (issue 10): an engine that crashes on this instance several times
// in a row is taken out of its claims for a cool-down (visible in /health and /metrics), jobs
// of other engines behind it still run, and after the cool-down it is tried again.
#include <sys/stat.h>

#include <fstream>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// An "xtb" that reports a version and crashes (SIGSEGV) on every calculation.
std::string crashing_xtb(const TempDir& dir) {
  const std::string path = (dir.path() / "xtb").string();
  std::ofstream(path) << "#!/bin/sh\n"
                         "if [ \"$1\" = \"--version\" ]; then echo '   * xtb version 6.5.1 (crashing test double)'; exit 0; fi\n"
                         "kill -SEGV $$\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::size_t jobs_in(HttpClient& client, const std::string& state) {
  return client.get("/jobs?engine=xtb&state=" + state).json().at("jobs").as_array().size();
}

// Polls until `count` xtb jobs are in `state` (true) or 30 s passed. The breaker counts a
// crash before the job's outcome (and its files) is written, so /health can show xtb out
// while the job that tripped it is still being recorded as failed.
bool jobs_reach(HttpClient& client, const std::string& state, std::size_t count) {
  for (int i = 0; i < 600; ++i) {
    if (jobs_in(client, state) == count) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Polls /health until the breaker has `xtb` out (true) or 30 s passed.
bool xtb_taken_out(HttpClient& client) {
  for (int i = 0; i < 600; ++i) {
    const auto out = client.get("/health").json().at("engines_out").as_array();
    if (!out.empty() && out.at(0).at("engine").as_string() == "xtb") return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_breaker_live)

BOOST_AUTO_TEST_CASE(an_engine_that_keeps_crashing_is_taken_out_then_tried_again) {
  TempDir dir;
  NoxdProcess noxd{{"--slots", "1", "--xtb", crashing_xtb(dir), "--breaker-failures", "2", "--breaker-cooldown-s", "2"}};
  HttpClient client(noxd.port());
  for (int i = 0; i < 4; ++i) submit(client, job_spec_json("xtb", "energy", molecule_xyz("water")));
  BOOST_TEST_REQUIRE(xtb_taken_out(client));
  // Two crashed; the other two wait in the queue for an instance (or a time) where xtb works.
  BOOST_TEST(jobs_reach(client, "failed", 2));
  BOOST_TEST(jobs_in(client, "pending") == 2u);
  const auto failed = client.get("/jobs?engine=xtb&state=failed").json().at("jobs").at(0);
  BOOST_TEST(client.get("/jobs/" + std::string(failed.at("job_id").as_string())).json().at("error").at("code").as_string() ==
             "crashed");
  const auto health = client.get("/health").json().at("engines_out").at(0);
  BOOST_TEST(health.at("failures_in_a_row").as_int64() == 2);
  BOOST_TEST(health.at("last_error").as_string().rfind("crashed:", 0) == 0u);
  BOOST_TEST(client.get("/metrics").body.find("nox_engine_out{engine=\"xtb\"} 1") != std::string::npos);
  BOOST_TEST(noxd.log().find("engine xtb taken out of this instance's claims") != std::string::npos, noxd.log());
  // The failure that tripped it says so in its event (subscribers see it), and /workers lists it.
  int tripped = 0;
  const auto failed_jobs = client.get("/jobs?engine=xtb&state=failed").json();
  for (const auto& job : failed_jobs.at("jobs").as_array()) {
    const std::string id(job.at("job_id").as_string());
    const auto stream = client.get("/jobs/" + id + "/events").body;
    if (stream.find(R"("engine_taken_out":{"engine":"xtb")") != std::string::npos) ++tripped;
  }
  BOOST_TEST(tripped == 1);
  // /workers shows it from the instance's next heartbeat (each second).
  bool listed = false;
  for (int i = 0; i < 60 && !listed; ++i) {
    const auto workers = client.get("/workers").json();
    const auto& out = workers.at("workers").at(0).at("engines_out").as_array();
    listed = !out.empty() && out.at(0).as_string() == "xtb";
    if (!listed) std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST(listed);
  // Jobs of other engines behind them still run.
  const auto echo = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  BOOST_TEST(json_string(wait_until_finished(client, echo, 10s), "state") == "completed");
  // After the cool-down the next xtb job is tried; it crashes too and xtb is out again at once.
  BOOST_TEST(jobs_reach(client, "failed", 3));
  BOOST_TEST(xtb_taken_out(client));
  BOOST_TEST(jobs_in(client, "pending") == 1u);
  BOOST_TEST(client.get("/metrics").body.find("nox_engine_taken_out_total{engine=\"xtb\"} 2") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
