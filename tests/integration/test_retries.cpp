// Retrying by hand (issue 10): POST /jobs/{id}/retry runs a failed or cancelled job again as the
// same job, its history kept, optionally with changed keywords or time limit.
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// An optimization that ran out of time runs again with more; the job keeps its id and history.
void a_timed_out_job_runs_again_with_more_time(HttpClient& client) {
  const auto id = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("water"),
                                               R"("timeout_s":0.001,"cache":false,"keywords":{"opt_level":"normal"})"));
  BOOST_TEST_REQUIRE(json_string(wait_until_finished(client, id, 30s), "state") == "failed");
  const auto retried = client.post_json("/jobs/" + id + "/retry", R"({"timeout_s": 120, "keywords": {"opt_level": "tight"}})");
  BOOST_TEST_REQUIRE(retried.status == 202, retried.body);
  BOOST_TEST(json_string(retried.json(), "job_id") == id);
  BOOST_TEST(json_string(wait_until_finished(client, id, 60s), "state") == "completed");
  const auto job = client.get("/jobs/" + id).json();
  BOOST_TEST(job.at("attempts").as_int64() == 2);
  BOOST_TEST(job.at("spec").at("timeout_s").to_number<double>() == 120.0);
  BOOST_TEST(job.at("spec").at("keywords").at("opt_level").as_string() == "tight");
  BOOST_TEST(job.at("error").is_null());
  BOOST_TEST((event_types(client, id, /*with_progress=*/false) ==
              std::vector<std::string>{"submitted", "started", "failed", "retrying", "started", "completed"}));
  // What changed, and after what, is in the retrying event.
  const auto stream = client.get("/jobs/" + id + "/events").body;
  BOOST_TEST(stream.find(R"("by":"request")") != std::string::npos, stream);
  BOOST_TEST(stream.find(R"("after":"timeout")") != std::string::npos, stream);
  BOOST_TEST(stream.find(R"("changed":{"timeout_s":120)") != std::string::npos, stream);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retries)

BOOST_AUTO_TEST_CASE(retry_by_hand_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  a_timed_out_job_runs_again_with_more_time(client);

  // A cancelled job runs again unchanged.
  const auto scheduled = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":600)"));
  BOOST_TEST(client.request("POST", "/jobs/" + scheduled + "/cancel").status == 200);
  const auto revived = client.request("POST", "/jobs/" + scheduled + "/retry");
  BOOST_TEST_REQUIRE(revived.status == 202, revived.body);
  BOOST_TEST(json_string(wait_until_finished(client, scheduled, 10s), "state") == "completed");

  // Refusals: a job that did not fail, changes a retry cannot make, bad keywords, an unknown job.
  auto reply = client.request("POST", "/jobs/" + scheduled + "/retry");
  BOOST_TEST(reply.status == 409);
  BOOST_TEST(error_code(reply) == "invalid_state");
  const auto failed = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("water"), R"("timeout_s":0.001,"cache":false)"));
  BOOST_TEST_REQUIRE(json_string(wait_until_finished(client, failed, 30s), "state") == "failed");
  reply = client.post_json("/jobs/" + failed + "/retry", R"({"method": "gfn1"})");
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find(R"("method")") != std::string::npos, reply.body);
  reply = client.post_json("/jobs/" + failed + "/retry", R"({"keywords": {"opt_level": "fastest"}})");
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("keywords.opt_level") != std::string::npos, reply.body);
  reply = client.post_json("/jobs/" + failed + "/retry", R"([1])");
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(json_string(client.get("/jobs/" + failed).json(), "state") == "failed");  // untouched
  BOOST_TEST(client.request("POST", "/jobs/" + std::string(32, 'f') + "/retry").status == 404);
}

BOOST_AUTO_TEST_CASE(retry_by_hand_on_redis) {
  RedisServer redis;
  redis.start();
  NoxdProcess noxd{{"--redis-url", redis.url(), "--slots", "1"}};
  HttpClient client(noxd.port());
  a_timed_out_job_runs_again_with_more_time(client);
}

// The SCF rule on a case that fails at the settings given (xtb stops after 3 SCF iterations)
// and succeeds after the fallback (1000 K, 500 iterations), after a backoff, as the same job.
void an_scf_failure_runs_again_hotter(HttpClient& client) {
  const auto id = submit(client, job_spec_json("xtb", "energy", molecule_xyz("decane"),
                                               R"("max_attempts":2,"cache":false,"keywords":{"max_iterations":3},)"
                                               R"("retry":{"backoff_s":0.3})"));
  BOOST_TEST(json_string(wait_until_finished(client, id, 60s), "state") == "completed");
  const auto job = client.get("/jobs/" + id).json();
  BOOST_TEST(job.at("attempts").as_int64() == 2);
  BOOST_TEST(job.at("spec").at("keywords").at("electronic_temperature").to_number<double>() == 1000.0);
  BOOST_TEST(job.at("spec").at("keywords").at("max_iterations").to_number<double>() == 500.0);
  BOOST_TEST((event_types(client, id, /*with_progress=*/false) ==
              std::vector<std::string>{"submitted", "started", "retrying", "scheduled", "started", "completed"}));
  const auto stream = client.get("/jobs/" + id + "/events").body;
  BOOST_TEST(stream.find(R"("code":"scf_not_converged")") != std::string::npos, stream);
  BOOST_TEST(stream.find(R"("changed":{"keywords":{"electronic_temperature":1000,"max_iterations":500}})") !=
                 std::string::npos,
             stream);
  BOOST_TEST(stream.find(R"("next_attempt_at":")") != std::string::npos);
  // Without attempts left, or with the rules off, it fails as it did.
  const auto once = submit(client, job_spec_json("xtb", "energy", molecule_xyz("decane"),
                                                 R"("max_attempts":2,"cache":false,"keywords":{"max_iterations":3},)"
                                                 R"("retry":{"backoff_s":0,"rules":false})"));
  const auto failed = wait_until_finished(client, once, 60s);
  BOOST_TEST(json_string(failed, "state") == "failed");
  BOOST_TEST(client.get("/jobs/" + once).json().at("attempts").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(the_scf_rule_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  an_scf_failure_runs_again_hotter(client);
}

BOOST_AUTO_TEST_CASE(the_scf_rule_on_redis) {
  RedisServer redis;
  redis.start();
  NoxdProcess noxd{{"--redis-url", redis.url(), "--slots", "1"}};
  HttpClient client(noxd.port());
  an_scf_failure_runs_again_hotter(client);
}

BOOST_AUTO_TEST_SUITE_END()
