// Roles (issue 10): `--role worker` runs jobs from a shared Redis and serves only /health,
// /ready and /metrics; `--role api` serves the API and runs nothing; the default does both.
#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/noxd_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(roles)

BOOST_AUTO_TEST_CASE(a_worker_only_instance_runs_what_an_api_only_instance_accepted) {
  RedisServer redis;
  redis.start();
  NoxdProcess api{{"--redis-url", redis.url(), "--role", "api", "--slots", "2"}};
  HttpClient front(api.port());
  const auto health = front.get("/health").json();
  BOOST_TEST(json_string(health, "role") == "api");
  BOOST_TEST(health.at("slots").at("total").as_int64() == 0);  // it runs nothing
  const auto id = submit(front, job_spec_json("xtb", "energy", molecule_xyz("water"), R"("cache":false)"));

  NoxdProcess worker{{"--redis-url", redis.url(), "--role", "worker", "--slots", "1"}};
  HttpClient back(worker.port());
  BOOST_TEST(json_string(wait_until_finished(front, id, 60s), "state") == "completed");
  const auto worker_health = back.get("/health").json();
  BOOST_TEST(json_string(worker_health, "role") == "worker");
  // Where it ran: its `started` event names the instance.
  const auto history = front.get("/jobs/" + id + "/events").body;
  BOOST_TEST(history.find(R"("worker":")" + json_string(worker_health, "worker_id") + "\"") != std::string::npos, history);
  // The worker serves no API: only its health, readiness and metrics.
  BOOST_TEST(back.get("/ready").status == 200);
  BOOST_TEST(back.get("/metrics").status == 200);
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/jobs"}, {"GET", "/jobs/" + id}, {"POST", "/jobs"}, {"GET", "/"}, {"GET", "/events"}}) {
    BOOST_TEST_CONTEXT(method << " " << path) {
      const auto reply = back.request(method, path);
      BOOST_TEST(reply.status == 404);
      BOOST_TEST(error_code(reply) == "route_not_found");
    }
  }
  // /workers shows both, the API instance with no slots.
  const auto workers = front.get("/workers").json().at("workers").as_array();
  BOOST_TEST(workers.size() == 2u);
  for (const auto& w : workers) {
    if (w.at("worker_id").as_string() == json_string(health, "worker_id")) BOOST_TEST(w.at("slots").as_int64() == 0);
  }
  // Draining or pausing the API instance would change nothing: refused, and it goes on serving.
  for (const std::string action : {"drain", "pause", "resume"}) {
    const auto refused = front.post_json("/workers/" + json_string(health, "worker_id") + "/" + action, "{}");
    BOOST_TEST(refused.status == 409, action << ": " << refused.body);
    BOOST_TEST(error_code(refused) == "worker_runs_no_jobs");
  }
  BOOST_TEST(front.get("/health").status == 200);
}

BOOST_AUTO_TEST_CASE(a_role_needs_redis_and_a_known_name) {
  TempDir dir;
  const std::string data = " --data-dir " + (dir.path() / "data").string();
  CommandResult refused = run_command(noxd_path() + " --role worker --listen 127.0.0.1:0" + data + " 2>&1");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.out.find("role worker needs a shared store: give --redis-url") != std::string::npos, refused.out);
  refused = run_command(noxd_path() + " --role compute --listen 127.0.0.1:0" + data + " 2>&1");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.out.find("expects one of both, api, worker") != std::string::npos, refused.out);
}

BOOST_AUTO_TEST_SUITE_END()
