// Routing and queue control (issue 10): a job's `requires` compute tags and named `queue`; an
// instance's --tags and --queues; POST /queues/{name}/pause and /resume; a queue's concurrency
// across instances (PUT /queues/{name}); GET /queue. On both stores; with Redis, over instances.
#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string echo_spec(const std::string& extra) { return job_spec_json("echo", "energy", molecule_xyz("water"), extra); }

const json::object* queue_named(const json::value& overview, const std::string& name) {
  for (const auto& q : overview.at("queues").as_array())
    if (q.at("name").as_string() == name) return &q.as_object();
  return nullptr;
}

// A job requiring a tag nobody offers waits without holding up the jobs behind it; a paused
// queue keeps its jobs (in order) while others run, and runs them once resumed; GET /queue
// counts all of it.
void routing_and_pausing(HttpClient& client) {
  const auto for_gpu = submit(client, echo_spec(R"("requires":["gpu"],"priority":5)"));
  BOOST_TEST(client.post_json("/queues/nightly/pause", "").status == 200);
  const auto nightly = submit(client, echo_spec(R"("queue":"nightly","priority":9)"));
  const auto plain = submit(client, echo_spec(""));
  BOOST_TEST(json_string(wait_until_finished(client, plain, 20s), "state") == "completed");
  const auto big = submit(client, echo_spec(R"("requires":["big-memory"])"));
  BOOST_TEST(json_string(wait_until_finished(client, big, 20s), "state") == "completed");
  BOOST_TEST(json_string(client.get("/jobs/" + for_gpu).json(), "state") == "pending");
  BOOST_TEST(json_string(client.get("/jobs/" + nightly).json(), "state") == "pending");
  BOOST_TEST(client.get("/jobs/" + for_gpu).json().at("spec").at("requires").at(0).as_string() == "gpu");

  const auto overview = client.get("/queue").json();
  BOOST_TEST(overview.at("states").at("pending").as_int64() == 2);
  BOOST_TEST(overview.at("pending_by_required_tag").at("gpu").as_int64() == 1);
  BOOST_TEST(overview.at("pending_by_priority").at("9").as_int64() == 1);
  BOOST_TEST(overview.at("pending_by_priority").at("5").as_int64() == 1);
  BOOST_TEST(overview.at("oldest_pending_age_s").is_number());
  const auto* queue = queue_named(overview, "nightly");
  BOOST_TEST_REQUIRE(queue != nullptr);
  BOOST_TEST(queue->at("paused").as_bool());
  BOOST_TEST(queue->at("pending").as_int64() == 1);
  BOOST_TEST(!overview.at("instances").as_array().empty());

  BOOST_TEST(client.post_json("/queues/nightly/resume", "").status == 200);
  BOOST_TEST(json_string(wait_until_finished(client, nightly, 20s), "state") == "completed");
  BOOST_TEST(client.request("POST", "/jobs/" + for_gpu + "/cancel").status == 200);

  // Refusals name what is wrong.
  auto reply = client.post_json("/jobs", echo_spec(R"("requires":["no spaces"])"));
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("requires[0]") != std::string::npos, reply.body);
  reply = client.post_json("/jobs", echo_spec(R"("queue":"Upper")"));
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find(R"("queue")") != std::string::npos, reply.body);
  reply = client.request("PUT", "/queues/slow", R"({"concurrency": -1})", {{"Content-Type", "application/json"}});
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(error_code(reply) == "invalid_queue");
  reply = client.post_json("/queues/Bad%20Name/pause", "");
  BOOST_TEST(reply.status == 422);
}

// A queue with concurrency 1 runs one job at a time although the instances have slots for more.
void one_at_a_time(HttpClient& client) {
  const auto set = client.request("PUT", "/queues/licensed", R"({"concurrency": 1})", {{"Content-Type", "application/json"}});
  BOOST_TEST_REQUIRE(set.status == 200, set.body);
  BOOST_TEST(set.json().at("concurrency").as_int64() == 1);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(submit(client, job_spec_json("xtb", "energy", molecule_xyz("decane"),
                                               R"("queue":"licensed","cache":false,"method":"gfn2")")));
  std::vector<std::pair<std::string, std::string>> spans;  // RFC 3339 times sort as text
  for (const auto& id : ids) {
    const auto job = wait_until_finished(client, id, 120s);
    BOOST_TEST(json_string(job, "state") == "completed");
    spans.emplace_back(json_string(job, "started_at"), json_string(job, "finished_at"));
  }
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) BOOST_TEST(spans[i].first >= spans[i - 1].second);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(routing)

BOOST_AUTO_TEST_CASE(tags_and_queues_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "2", "--tags", "big-memory,fast"}};
  HttpClient client(noxd.port());
  routing_and_pausing(client);
  one_at_a_time(client);
}

BOOST_AUTO_TEST_CASE(tags_route_jobs_to_the_instances_that_offer_them_on_redis) {
  RedisServer redis;
  redis.start();
  NoxdProcess plain{{"--redis-url", redis.url(), "--slots", "2"}};
  NoxdProcess tagged{{"--redis-url", redis.url(), "--slots", "2", "--tags", "big-memory"}};
  HttpClient client(plain.port());
  HttpClient other(tagged.port());
  const std::string tagged_id = json_string(other.get("/health").json(), "worker_id");
  std::vector<std::string> big;
  for (int i = 0; i < 10; ++i) big.push_back(submit(client, echo_spec(R"("requires":["big-memory"])")));
  for (const auto& id : big) {
    BOOST_TEST(json_string(wait_until_finished(client, id, 20s), "state") == "completed");
    BOOST_TEST(started_on(client, id) == tagged_id);
  }
  routing_and_pausing(client);
  one_at_a_time(client);
  // An instance serving only the queue "batch" takes nothing else.
  NoxdProcess batch_only{{"--redis-url", redis.url(), "--slots", "1", "--role", "worker", "--queues", "batch"}};
  HttpClient batch_client(batch_only.port());
  const std::string batch_id = json_string(batch_client.get("/health").json(), "worker_id");
  BOOST_TEST(client.post_json("/queues/batch/pause", "").status == 200);
  std::vector<std::string> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(submit(client, echo_spec(R"("queue":"batch")")));
  const auto overview = client.get("/queue").json();
  BOOST_TEST(queue_named(overview, "batch")->at("pending").as_int64() == 4);
  BOOST_TEST(client.post_json("/queues/batch/resume", "").status == 200);
  for (const auto& id : queued) BOOST_TEST(json_string(wait_until_finished(client, id, 20s), "state") == "completed");
}

BOOST_AUTO_TEST_CASE(instance_tags_and_queues_are_checked_at_start) {
  TempDir dir;
  const std::string start = noxd_path() + " --listen 127.0.0.1:0 --data-dir " + (dir.path() / "data").string();
  CommandResult refused = run_command(start + " --tags 'big memory' 2>&1");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.out.find("compute tags are 1 to 64 characters") != std::string::npos, refused.out);
  refused = run_command(start + " --queues Nightly 2>&1");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.out.find("queue names are 1 to 64 characters") != std::string::npos, refused.out);
}

BOOST_AUTO_TEST_SUITE_END()
