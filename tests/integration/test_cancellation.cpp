// Cancellation that reaches everywhere (issue 10): a running job is killed on whichever
// instance holds it within a second of the cancel, through the event log every instance reads
// (not at its next lease renewal), and ends `cancelled` with its partial log kept.
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// ~40 s of xtb on one slot: it is still running whenever it is cancelled.
const std::string long_job = job_spec_json("xtb", "hessian", molecule_xyz("triacontane"), R"("cache":false)");

// How long until `client`'s instance has no busy slot (the process is gone), or nullopt.
std::optional<std::chrono::milliseconds> time_until_idle(HttpClient& client, std::chrono::steady_clock::time_point since,
                                                         std::chrono::seconds limit) {
  while (std::chrono::steady_clock::now() - since < limit) {
    if (client.get("/health").json().at("slots").at("busy").as_int64() == 0)
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since);
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

bool has_artifact(HttpClient& client, const std::string& id, const std::string& name) {
  const auto listing = client.get("/jobs/" + id + "/artifacts").json();
  for (const auto& artifact : listing.at("artifacts").as_array())
    if (artifact.at("name").as_string() == name) return true;
  return false;
}

// Polls until the cancelled job's files are there (they are stored after the process ends).
bool partial_log_kept(HttpClient& client, const std::string& id) {
  for (int i = 0; i < 100; ++i) {
    if (has_artifact(client, id, "xtb.log")) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cancellation)

BOOST_AUTO_TEST_CASE(a_cancelled_job_keeps_its_partial_log) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  const auto id = submit(client, long_job);
  BOOST_REQUIRE_EQUAL(wait_for_state(client, id, "running"), "running");
  std::this_thread::sleep_for(300ms);  // let xtb write its header
  BOOST_REQUIRE_EQUAL(client.request("POST", "/jobs/" + id + "/cancel").status, 200);
  BOOST_TEST(partial_log_kept(client, id));
  const auto log = client.get("/jobs/" + id + "/artifacts/xtb.log");
  BOOST_TEST(log.status == 200);
  BOOST_TEST(log.body.find("x T B") != std::string::npos);
  BOOST_TEST(json_string(client.get("/jobs/" + id).json(), "state") == "cancelled");
}

BOOST_AUTO_TEST_CASE(a_cancel_through_another_instance_kills_the_process_within_a_second) {
  RedisServer redis;
  redis.start();
  // A long lease: its renewal (every 20 s) cannot be what stops the process.
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1", "--lease-s", "60"};
  NoxdProcess runner(flags);
  HttpClient running_side(runner.port());
  const auto id = submit(running_side, long_job);
  BOOST_REQUIRE_EQUAL(wait_for_state(running_side, id, "running"), "running");
  // The second instance starts once the job runs on the first, so it cannot be the one running it.
  NoxdProcess other(flags);
  HttpClient other_side(other.port());
  std::this_thread::sleep_for(300ms);
  const auto cancelled_at = std::chrono::steady_clock::now();
  const auto reply = other_side.request("POST", "/jobs/" + id + "/cancel");
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  BOOST_TEST(json_string(reply.json(), "state") == "cancelled");
  const auto took = time_until_idle(running_side, cancelled_at, 10s);
  BOOST_TEST_REQUIRE(took.has_value(), "the process still runs 10 s after the cancel");
  BOOST_TEST(took->count() < 1000, "the process ended " << took->count() << " ms after the cancel");
  BOOST_TEST(partial_log_kept(other_side, id));
  BOOST_TEST(json_string(other_side.get("/jobs/" + id).json(), "state") == "cancelled");
}

BOOST_AUTO_TEST_SUITE_END()
