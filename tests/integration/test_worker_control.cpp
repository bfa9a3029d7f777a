// Pausing, resuming and draining one instance (issue 10): POST /workers/{id}/pause, /resume and
// /drain, seen by the instance at its next heartbeat; GET /workers shows the mode, the compute
// tags and queues, and the engines its circuit breaker took out.
#include <sys/wait.h>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::value worker_named(HttpClient& client, const std::string& id) {
  const auto listed = client.get("/workers").json();
  for (const auto& w : listed.at("workers").as_array())
    if (w.at("worker_id").as_string() == id) return w;
  return nullptr;
}

// Polls /workers until the instance reports `mode`.
bool reaches_mode(HttpClient& client, const std::string& id, const std::string& mode) {
  for (int i = 0; i < 100; ++i) {
    const auto w = worker_named(client, id);
    if (w.is_object() && w.at("mode").as_string() == mode) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_control)

BOOST_AUTO_TEST_CASE(a_paused_instance_claims_nothing_and_a_drained_one_stops) {
  RedisServer redis;
  redis.start();
  NoxdProcess front{{"--redis-url", redis.url(), "--slots", "2", "--tags", "big-memory", "--queues", "default,nightly"}};
  NoxdProcess back{{"--redis-url", redis.url(), "--slots", "2", "--role", "worker"}};
  HttpClient client(front.port());
  HttpClient back_client(back.port());
  const std::string front_id = json_string(client.get("/health").json(), "worker_id");
  const std::string back_id = json_string(back_client.get("/health").json(), "worker_id");
  const auto listed = worker_named(client, front_id);
  BOOST_TEST_REQUIRE(listed.is_object());
  BOOST_TEST(listed.at("mode").as_string() == "active");
  BOOST_TEST(listed.at("tags").at(0).as_string() == "big-memory");
  BOOST_TEST(listed.at("queues").as_array().size() == 2u);
  BOOST_TEST(listed.at("engines_out").as_array().empty());

  auto reply = client.post_json("/workers/" + front_id + "/pause", "");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  BOOST_TEST(json_string(reply.json(), "mode") == "paused");
  BOOST_TEST_REQUIRE(reaches_mode(client, front_id, "paused"));
  BOOST_TEST(json_string(client.get("/health").json(), "mode") == "paused");
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(submit(client, job_spec_json("echo", "energy", molecule_xyz("water"))));
  for (const auto& id : ids) {
    BOOST_TEST(json_string(wait_until_finished(client, id, 20s), "state") == "completed");
    BOOST_TEST(started_on(client, id) == back_id);  // the paused instance took none
  }

  // Drained while it runs a job, the worker finishes it, then stops cleanly (exit 0); the other
  // resumes and runs what comes.
  const auto long_job = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("decane"),
                                                     R"("cache":false,"keywords":{"opt_level":"vtight"})"));
  BOOST_TEST_REQUIRE(wait_for_state(client, long_job, "running", 20s) == "running");
  reply = client.post_json("/workers/" + back_id + "/drain", "");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  const int status = back.wait_for_exit(120s);
  BOOST_TEST_REQUIRE(status != -1, "the drained instance did not stop");
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  const auto finished = client.get("/jobs/" + long_job).json();
  BOOST_TEST(json_string(finished, "state") == "completed");  // finished there, not handed back
  BOOST_TEST(finished.at("attempts").as_int64() == 1);
  BOOST_TEST(client.post_json("/workers/" + front_id + "/resume", "").status == 200);
  BOOST_TEST_REQUIRE(reaches_mode(client, front_id, "active"));
  const auto last = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  BOOST_TEST(json_string(wait_until_finished(client, last, 20s), "state") == "completed");
  BOOST_TEST(started_on(client, last) == front_id);

  reply = client.post_json("/workers/no-such-instance/pause", "");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(error_code(reply) == "worker_not_found");
}

BOOST_AUTO_TEST_SUITE_END()
