// Delayed jobs through noxd (issue 10, "Time"): run_at or delay_s keep a job `scheduled` until
// due; a due job starts within a second on an idle server; both stores.
#include "core/clock.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

void a_delayed_job_waits_then_runs(HttpClient& client) {
  const auto reply = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s": 1)"));
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  BOOST_TEST(json_string(reply.json(), "state") == "scheduled");
  const std::string id = json_string(reply.json(), "job_id");
  const auto listed = client.get("/jobs?state=scheduled").body;
  BOOST_TEST(listed.find(id) != std::string::npos);
  const auto job = client.get("/jobs/" + id).json();
  const auto run_at = nox::parse_rfc3339(job.at("spec").at("run_at").as_string());
  const auto created = nox::parse_rfc3339(job.at("created_at").as_string());
  BOOST_TEST_REQUIRE(run_at.has_value());
  BOOST_TEST(*run_at - *created >= 990);  // delay_s became run_at
  BOOST_TEST(*run_at - *created <= 1100);
  BOOST_TEST(json_string(wait_until_finished(client, id, 30s), "state") == "completed");
  const auto done = client.get("/jobs/" + id).json();
  const auto started = nox::parse_rfc3339(done.at("started_at").as_string());
  BOOST_TEST(*started >= *run_at);
  BOOST_TEST(*started - *run_at < 1000, "started " << (*started - *run_at) << " ms after its run_at");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scheduled_jobs)

BOOST_AUTO_TEST_CASE(delayed_jobs_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  a_delayed_job_waits_then_runs(client);
  // A run_at already past runs at once; a scheduled job is cancelled at once.
  const auto past = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"),
                                                            R"("run_at": "2020-01-01T00:00:00Z")"));
  BOOST_TEST(json_string(past.json(), "state") == "pending");
  const auto far = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"),
                                                           R"("run_at": "2099-01-01T00:00:00+01:00")"));
  BOOST_TEST_REQUIRE(far.status == 202);
  BOOST_TEST(json_string(far.json(), "state") == "scheduled");
  const auto cancelled = client.request("POST", "/jobs/" + json_string(far.json(), "job_id") + "/cancel");
  BOOST_TEST(cancelled.status == 200);
  BOOST_TEST(json_string(cancelled.json(), "state") == "cancelled");
  // Bad times are refused by field, with what was wrong.
  for (const char* bad : {R"("run_at": "tomorrow")", R"("run_at": "2026-12-01T12:00:00")", R"("run_at": 5)",
                          R"("delay_s": -1)", R"("delay_s": "10")", R"("run_at": "2026-12-01T12:00:00Z", "delay_s": 5)"}) {
    BOOST_TEST_CONTEXT(bad) {
      const auto refused = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), bad));
      BOOST_TEST(refused.status == 422);
      BOOST_TEST((refused.body.find("\"run_at\"") != std::string::npos ||
                  refused.body.find("\"delay_s\"") != std::string::npos), refused.body);
    }
  }
}

BOOST_AUTO_TEST_CASE(delayed_jobs_on_redis_with_two_instances) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1"};
  NoxdProcess a(flags), b(flags);
  HttpClient client(a.port());
  a_delayed_job_waits_then_runs(client);
}

BOOST_AUTO_TEST_SUITE_END()
