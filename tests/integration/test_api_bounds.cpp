// Submissions under retries and limits, over HTTP against a real noxd: Idempotency-Key,
// max_jobs, and timeouts too small to round to "none".
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <set>

#include "core/clock.hpp"
#include "core/job_id.hpp"
#include "core/job_spec.hpp"
#include "engines/engine_registry.hpp"
#include "engines/runner.hpp"
#include "server/dispatcher.hpp"
#include "storage/memory_store.hpp"
#include "tests/support/temp_dir.hpp"

#include "tests/integration/api_fixture.hpp"

using namespace nox::test;
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

struct Server {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
};

HttpReply post_with_key(HttpClient& client, const std::string& target, const std::string& body,
                        const std::string& key) {
  return client.request("POST", target, body, {{"content-type", "application/json"}, {"idempotency-key", key}});
}

std::string echo_spec(const std::string& name) {
  return job_spec_json("echo", "energy", molecule_xyz("water"), "\"name\":\"" + name + "\"");
}

std::size_t jobs_listed(HttpClient& client) {
  std::size_t count = 0;
  std::string cursor;
  while (true) {
    auto page = client.get("/jobs?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor)).json();
    count += page.at("jobs").as_array().size();
    if (page.at("next_cursor").is_null()) return count;
    cursor = std::string(page.at("next_cursor").as_string());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_bounds)

BOOST_FIXTURE_TEST_CASE(idempotency_key_returns_the_first_answer, Server) {
  auto first = post_with_key(client, "/jobs", echo_spec("once"), "key-1");
  BOOST_REQUIRE_EQUAL(first.status, 202);
  const auto id = json_string(first.json(), "job_id");
  BOOST_TEST(first.header("idempotent-replayed").empty());
  wait_until_finished(client, id);

  auto again = post_with_key(client, "/jobs", echo_spec("once"), "key-1");
  BOOST_REQUIRE_EQUAL(again.status, 202);
  BOOST_TEST(json_string(again.json(), "job_id") == id);
  BOOST_TEST(again.body == first.body);
  BOOST_TEST(again.header("idempotent-replayed") == "true");
  BOOST_TEST(again.header("location") == "/jobs/" + id);
  BOOST_TEST(jobs_listed(client) == 1u);

  // The same key with another body is a client bug, not a retry.
  auto other = post_with_key(client, "/jobs", echo_spec("different"), "key-1");
  BOOST_TEST(other.status == 422);
  BOOST_TEST(error_code(other) == "idempotency_key_reused");
  // Another key is another submission.
  auto second = post_with_key(client, "/jobs", echo_spec("once"), "key-2");
  BOOST_REQUIRE_EQUAL(second.status, 202);
  BOOST_TEST(json_string(second.json(), "job_id") != id);

  auto bad = post_with_key(client, "/jobs", echo_spec("x"), std::string(256, 'k'));
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(error_code(bad) == "invalid_idempotency_key");
}

BOOST_FIXTURE_TEST_CASE(idempotent_batch_creates_each_job_once, Server) {
  const std::string body = "[" + echo_spec("a") + "," + echo_spec("b") + "," + echo_spec("c") + "]";
  auto first = post_with_key(client, "/jobs/batch", body, "batch-1");
  BOOST_REQUIRE_EQUAL(first.status, 202);
  auto again = post_with_key(client, "/jobs/batch", body, "batch-1");
  BOOST_REQUIRE_EQUAL(again.status, 202);
  BOOST_TEST(again.body == first.body);
  std::set<std::string> ids;
  const json::value answer = first.json();
  for (const auto& j : answer.at("jobs").as_array()) ids.insert(std::string(j.at("job_id").as_string()));
  BOOST_TEST(ids.size() == 3u);
  for (const auto& id : ids) wait_until_finished(client, id);
  BOOST_TEST(jobs_listed(client) == 3u);
}

// Regression: timeout_s 0.0005 truncated to 0 ms, which the runner takes as "no timeout", so the
// job ran as long as it liked (and max_timeout_s was bypassed).
BOOST_FIXTURE_TEST_CASE(sub_millisecond_timeout_is_enforced, Server) {
  const auto id =
      submit(client, job_spec_json("xtb", "optimize_hessian", molecule_xyz("triacontane"), "\"timeout_s\":0.0005"));
  auto status = wait_until_finished(client, id, std::chrono::seconds(60));
  BOOST_TEST(json_string(status, "state") == "failed");
  auto job = client.get("/jobs/" + id).json();
  BOOST_TEST(job.at("error").at("code").as_string() == "timeout");
  BOOST_TEST(job.at("spec").at("timeout_s").to_number<double>() == 0.0005);
}

BOOST_AUTO_TEST_CASE(max_jobs_bounds_the_memory_store) {
  NoxdProcess noxd{{"--slots", "1", "--max-jobs", "3"}};
  HttpClient client{noxd.port()};
  for (int i = 0; i < 3; ++i) submit(client, echo_spec("n" + std::to_string(i)));
  auto refused = client.post_json("/jobs", echo_spec("over"));
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(error_code(refused) == "store_full");
  BOOST_TEST(!refused.header("retry-after").empty());
  auto batch = client.post_json("/jobs/batch", "[" + echo_spec("b") + "]");
  BOOST_TEST(batch.status == 503);
  BOOST_TEST(jobs_listed(client) == 3u);

  // Deleting a finished job makes room again.
  const json::value page = client.get("/jobs?limit=1").json();
  const auto newest = std::string(page.at("jobs").as_array().at(0).at("job_id").as_string());
  wait_until_finished(client, newest);
  BOOST_TEST(client.request("DELETE", "/jobs/" + newest).status == 204);
  BOOST_TEST(client.post_json("/jobs", echo_spec("room")).status == 202);
}

// Back-pressure (issue 10): beyond max_queued unfinished jobs, all owners together, a submission
// is a 503 queue_full with Retry-After, a single job or a batch; finished jobs do not count.
BOOST_AUTO_TEST_CASE(max_queued_bounds_unfinished_jobs_in_all) {
  NoxdProcess noxd{{"--slots", "1", "--max-queued", "2"}};
  HttpClient client{noxd.port()};
  for (int i = 0; i < 2; ++i)
    submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":600)"));
  auto refused = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water")));
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(error_code(refused) == "queue_full");
  BOOST_TEST(refused.header("retry-after") == "10");
  BOOST_TEST(refused.body.find("max_queued") != std::string::npos, refused.body);
  auto batch = client.post_json("/jobs/batch", "[" + echo_spec("b") + "]");
  BOOST_TEST(batch.status == 503);
  BOOST_TEST(error_code(batch) == "queue_full");
  BOOST_TEST(jobs_listed(client) == 2u);
  // One ends (cancelled): room for one more, which runs and leaves room again.
  const json::value page = client.get("/jobs?limit=1").json();
  BOOST_TEST(client.request("POST", "/jobs/" + std::string(page.at("jobs").at(0).at("job_id").as_string()) + "/cancel").status ==
             200);
  const auto id = submit(client, echo_spec("room"));
  BOOST_TEST(json_string(wait_until_finished(client, id), "state") == "completed");
  BOOST_TEST(client.post_json("/jobs", echo_spec("more")).status == 202);
}

// Regression: a batch's check against max_queued counted pending, running and scheduled jobs
// but not those waiting for a parent, so a batch that did not fit was let in and cut off midway
// (503 with X-Nox-Created: 1) instead of being refused whole.
BOOST_AUTO_TEST_CASE(a_batch_that_does_not_fit_max_queued_with_waiting_jobs_is_refused_whole) {
  NoxdProcess noxd{{"--slots", "1", "--max-queued", "3"}};
  HttpClient client{noxd.port()};
  const auto parent = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":600)"));
  const auto child = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"),
                                                  R"("depends_on":[")" + parent + R"("])"));
  BOOST_TEST(wait_for_state(client, child, "waiting") == "waiting");
  const auto batch = client.post_json("/jobs/batch", "[" + echo_spec("a") + "," + echo_spec("b") + "]");
  BOOST_TEST(batch.status == 503, batch.body);
  BOOST_TEST(error_code(batch) == "queue_full");
  BOOST_TEST(batch.header("x-nox-created").empty(), batch.header("x-nox-created"));
  BOOST_TEST(jobs_listed(client) == 2u);
  BOOST_TEST(client.post_json("/jobs/batch", "[" + echo_spec("c") + "]").status == 202);  // one fits
}

// Regression: the dispatcher drained a long queue of echo jobs without ever yielding, so a
// request that arrived meanwhile waited until the last job had run (0.3-0.8 s for 10,000).
// In process, with nothing timed: a queue of 2,000 echo jobs, the claim loop started, and a
// task queued behind it (as a request's handler would be) must run while most of the queue
// is still pending.
namespace {

struct QueueProbe {
  nox::Store& store;
  std::size_t pending_seen = 0;
  bool ran = false;
};

asio::awaitable<void> fill_queue(nox::Store& store, std::size_t count) {
  const json::value body = json::parse(job_spec_json("echo", "energy", molecule_xyz("water")));
  const nox::JobSpec spec = std::get<nox::JobSpec>(nox::parse_job_spec(body, {}));
  for (std::size_t i = 0; i < count; ++i) {
    nox::Job job;
    job.id = nox::new_job_id();
    job.state = nox::JobState::pending;
    job.spec = spec.to_json();
    job.created_at = nox::now_ms();
    auto created = co_await store.create(std::move(job));
    if (!created) throw std::runtime_error("create failed: " + created.error().message);
  }
}

asio::awaitable<void> probe_queue(QueueProbe& probe) {
  auto stats = co_await probe.store.stats();
  probe.pending_seen = stats ? stats->pending : 0;
  probe.ran = true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_long_queue_does_not_hold_up_requests) {
  constexpr std::size_t queued = 2000;
  TempDir data;
  asio::io_context ioc;
  nox::MemoryStore store(ioc.get_executor(), {.data_dir = data.path()});
  nox::Runner runner(ioc.get_executor(), {.slots = 1, .scratch_root = data.path()});
  const nox::EngineRegistry engines = nox::EngineRegistry::discover({});
  nox::Dispatcher dispatcher(ioc.get_executor(), store, runner, engines, {.worker_id = "probe-test"});
  asio::co_spawn(ioc, fill_queue(store, queued), asio::detached);
  ioc.run();
  ioc.restart();

  QueueProbe probe{store};
  asio::co_spawn(ioc, dispatcher.run(), asio::detached);
  asio::co_spawn(ioc, probe_queue(probe), asio::detached);
  while (!probe.ran) ioc.run_one();
  BOOST_TEST_MESSAGE("pending when the probe ran: " << probe.pending_seen << " of " << queued);
  BOOST_TEST(probe.pending_seen > queued / 2, "the queue was drained before a request could be answered");
  dispatcher.stop();
  ioc.run_for(std::chrono::seconds(5));
}

BOOST_AUTO_TEST_SUITE_END()
