// Issue 3's scenarios against real processes: several noxd sharing one redis-server,
// an instance killed with SIGKILL while it runs jobs, and Redis restarting under load.
#include <regex>
#include <sys/wait.h>
#include <set>

#include "server/sse_format.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sse_client.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

int count_started(const std::string& log) {
  static const std::regex started("job [0-9a-f]{32} started");
  return static_cast<int>(std::distance(std::sregex_iterator(log.begin(), log.end(), started), std::sregex_iterator()));
}

std::vector<std::string> submit_batch(HttpClient& client, const std::string& spec, int count) {
  std::string body = "[";
  for (int i = 0; i < count; ++i) body += (i ? "," : "") + spec;
  auto reply = client.post_json("/jobs/batch", body + "]");
  BOOST_REQUIRE_MESSAGE(reply.status == 202, reply.body);
  std::vector<std::string> ids;
  const auto accepted = reply.json();
  for (const auto& job : accepted.at("jobs").as_array()) ids.emplace_back(job.at("job_id").as_string());
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_scenarios)

BOOST_AUTO_TEST_CASE(three_instances_share_the_queue_and_every_job) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1"};
  NoxdProcess a(flags), b(flags), c(flags);
  HttpClient client_a(a.port()), client_b(b.port()), client_c(c.port());

  const auto ids = submit_batch(client_a, job_spec_json("xtb", "energy", molecule_xyz("water")), 200);
  for (const auto& id : ids) {
    auto status = wait_until_finished(client_a, id, 180s);
    BOOST_TEST(json_string(status, "state") == "completed");
  }
  // Every instance ran some of them, each within its one slot, and none ran a job twice.
  const int ran_a = count_started(a.log()), ran_b = count_started(b.log()), ran_c = count_started(c.log());
  BOOST_TEST(ran_a > 0);
  BOOST_TEST(ran_b > 0);
  BOOST_TEST(ran_c > 0);
  BOOST_TEST(ran_a + ran_b + ran_c == 200);
  // Any instance answers for any job, and lists all of them.
  for (auto* client : {&client_a, &client_b, &client_c}) {
    BOOST_TEST(client->get("/jobs/" + ids[17]).status == 200);
    auto page = client->get("/jobs?limit=1000&state=completed").json();
    BOOST_TEST(page.at("jobs").as_array().size() == 200u);
  }
  auto workers = client_b.get("/workers").json().at("workers").as_array();
  BOOST_TEST(workers.size() == 3u);
  for (const auto& w : workers) BOOST_TEST(w.at("slots").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(killed_instance_jobs_run_again_or_fail_as_lost) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> fast_lease{"--redis-url", redis.url(), "--lease-s", "2"};
  auto doomed = std::make_unique<NoxdProcess>(std::vector<std::string>{"--redis-url", redis.url(), "--lease-s", "2",
                                                                       "--slots", "2"});
  HttpClient client(doomed->port());
  const auto slow = molecule_xyz("triacontane");
  const auto retried = submit(client, job_spec_json("xtb", "optimize_hessian", slow, "\"max_attempts\":2"));
  // max_lost 0: the first lost attempt ends it (by default a lost attempt runs again).
  const auto lost = submit(client, job_spec_json("xtb", "optimize_hessian", slow, "\"max_lost\":0"));
  BOOST_REQUIRE_EQUAL(wait_for_state(client, retried, "running"), "running");
  BOOST_REQUIRE_EQUAL(wait_for_state(client, lost, "running"), "running");
  doomed->kill_hard();  // no drain, no hand-back: only the lease tells
  doomed.reset();

  NoxdProcess survivor(fast_lease);
  HttpClient other(survivor.port());
  auto failed = wait_until_finished(other, lost, 60s);
  BOOST_TEST(json_string(failed, "state") == "failed");
  auto record = other.get("/jobs/" + lost).json();
  BOOST_TEST(record.at("error").at("code").as_string() == "lost");
  BOOST_TEST(record.at("attempts").as_int64() == 1);
  BOOST_TEST(record.at("lost").as_int64() == 1);

  // The other job runs again on the survivor: attempt 2.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::int64_t attempts = 0;
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    auto job = other.get("/jobs/" + retried).json();
    attempts = job.at("attempts").as_int64();
    state = std::string(job.at("state").as_string());
    if (attempts == 2 && state == "running") break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(attempts == 2);
  BOOST_TEST(state == "running");
  BOOST_TEST(other.request("POST", "/jobs/" + retried + "/cancel").status == 200);
}

// Issue 7, finding 5: with the defaults (max_attempts 1, max_lost 3) the job of an instance
// killed with SIGKILL runs again on another one, as soon as the dead instance's heartbeat runs
// out (not after its whole lease).
BOOST_AUTO_TEST_CASE(a_killed_instances_job_runs_again_elsewhere_by_default) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1"};
  auto doomed = std::make_unique<NoxdProcess>(flags);
  HttpClient client(doomed->port());
  const auto id = submit(client, job_spec_json("xtb", "hessian", molecule_xyz("decane")));
  BOOST_REQUIRE_EQUAL(wait_for_state(client, id, "running"), "running");
  NoxdProcess survivor(flags);
  HttpClient other(survivor.port());
  SseClient stream(survivor.port(), "/jobs/" + id + "/events");
  BOOST_REQUIRE_EQUAL(stream.status(), 200);
  for (bool started = false; !started;) {  // the history: submitted, started (progress maybe)
    auto e = stream.next(10s);
    BOOST_REQUIRE(e);
    started = e->type == "started";
  }

  const auto killed_at = std::chrono::steady_clock::now();
  doomed->kill_hard();
  doomed.reset();
  std::vector<std::string> types;
  std::optional<std::chrono::steady_clock::duration> takeover;
  while (auto e = stream.next(60s)) {
    if (e->type == "progress") continue;
    types.push_back(e->type);
    if (e->type == "started" && !takeover) takeover = std::chrono::steady_clock::now() - killed_at;
    if (e->type == "completed" || e->type == "failed") break;
  }
  BOOST_TEST(types == (std::vector<std::string>{"retrying", "started", "completed"}), boost::test_tools::per_element());
  BOOST_REQUIRE(takeover);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*takeover).count();
  BOOST_TEST_MESSAGE("takeover after kill -9 (kill -> started on the other instance): " << ms << " ms");
  BOOST_TEST(ms < 15000);  // the lease is 30 s: only the heartbeat running out can be this quick
  auto record = other.get("/jobs/" + id).json();
  BOOST_TEST(record.at("state").as_string() == "completed");
  BOOST_TEST(record.at("attempts").as_int64() == 2);
  BOOST_TEST(record.at("lost").as_int64() == 1);
  BOOST_TEST(count_started(survivor.log()) == 1);
}

// Issue 7, finding 4: Redis down (stopped, restarted from its AOF) for twice the lease while
// xtb jobs run on two instances. When it is back, no sweep takes a lease from an instance that
// is merely coming back (time nobody could reach Redis does not count, and a live instance
// keeps its leases): every job completes on the instance that started it, none is killed,
// none runs twice. (The renewal period, a third of the lease, is longer than the sweep's
// second, so on the old code a sweep came first after the outage and took the jobs.)
BOOST_AUTO_TEST_CASE(running_jobs_outlive_a_redis_outage_of_twice_the_lease) {
  RedisServerOptions durable;
  durable.appendonly = true;
  RedisServer redis(durable);
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1", "--lease-s", "6"};
  NoxdProcess a(flags), b(flags);
  HttpClient client(a.port());
  const auto ids = submit_batch(client, job_spec_json("xtb", "hessian", molecule_xyz("decane")), 4);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::size_t running = 0;
  while (running < 2 && std::chrono::steady_clock::now() < deadline) {
    running = client.get("/jobs?state=running").json().at("jobs").as_array().size();
    if (running < 2) std::this_thread::sleep_for(50ms);
  }
  BOOST_REQUIRE_EQUAL(running, 2u);

  redis.stop();
  std::this_thread::sleep_for(12s);  // the outage itself: twice the 6 s lease
  redis.start();
  const auto back_by = std::chrono::steady_clock::now() + 30s;
  while (client.get("/ready").status != 200 && std::chrono::steady_clock::now() < back_by)
    std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE_EQUAL(client.get("/ready").status, 200);

  for (const auto& id : ids) {
    auto status = wait_until_finished(client, id, 180s);
    BOOST_TEST(json_string(status, "state") == "completed", id);
    auto record = client.get("/jobs/" + id).json();
    BOOST_TEST(record.at("attempts").as_int64() == 1, id);
    BOOST_TEST(record.at("lost").as_int64() == 0, id);
  }
  // One `started` per job in all, and no instance stopped a job over its lease.
  BOOST_TEST(count_started(a.log()) + count_started(b.log()) == 4);
  BOOST_TEST(a.log().find("lease not renewed") == std::string::npos, a.log());
  BOOST_TEST(b.log().find("lease not renewed") == std::string::npos, b.log());
}

BOOST_AUTO_TEST_CASE(redis_restart_loses_nothing) {
  RedisServerOptions durable;
  durable.appendonly = true;
  RedisServer redis(durable);
  redis.start();
  NoxdProcess noxd({"--redis-url", redis.url(), "--slots", "2"});
  HttpClient client(noxd.port());
  BOOST_REQUIRE_EQUAL(client.get("/ready").status, 200);

  const auto before = submit_batch(client, job_spec_json("echo", "energy", molecule_xyz("water")), 50);
  // A job that finishes while Redis is down: its result is written once Redis is back.
  const auto during = submit(client, job_spec_json("xtb", "hessian", molecule_xyz("decane")));
  BOOST_REQUIRE_EQUAL(wait_for_state(client, during, "running"), "running");
  redis.stop();

  auto ready = client.get("/ready");
  BOOST_TEST(ready.status == 503);
  BOOST_TEST(!ready.header("retry-after").empty());
  auto refused = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water")));
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(!refused.header("retry-after").empty());
  BOOST_TEST(error_code(refused) == "store_unavailable");
  std::this_thread::sleep_for(3s);  // the decane Hessian (~1.5 s) ends during the outage

  redis.start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (client.get("/ready").status != 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE_EQUAL(client.get("/ready").status, 200);
  auto status = wait_until_finished(client, during, 60s);
  BOOST_TEST(json_string(status, "state") == "completed");
  BOOST_TEST(client.get("/jobs/" + during).json().at("attempts").as_int64() == 1);
  for (const auto& id : before) BOOST_TEST(json_string(wait_until_finished(client, id), "state") == "completed");
  auto after = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  BOOST_TEST(json_string(wait_until_finished(client, after), "state") == "completed");
  // Exactly the 52 jobs exist: nothing lost, nothing duplicated.
  auto all = client.get("/jobs?limit=1000").json();
  BOOST_TEST(all.at("jobs").as_array().size() == 52u);
}

BOOST_AUTO_TEST_CASE(sse_resumes_across_instances_without_gap) {
  RedisServer redis;
  redis.start();
  NoxdProcess a({"--redis-url", redis.url()}), b({"--redis-url", redis.url()});
  HttpClient client(a.port());
  const auto spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  std::vector<SseEvent> first;
  {
    SseClient stream(a.port(), "/events");
    std::this_thread::sleep_for(200ms);
    submit(client, spec);
    submit(client, spec);
    for (int i = 0; i < 6; ++i) {
      auto e = stream.next(15s);
      BOOST_REQUIRE(e);
      first.push_back(*e);
    }
  }
  submit(client, spec);  // while disconnected
  // Resume on the other instance from the 3rd event: 3 remaining + 3 new, no gap, no duplicate.
  SseClient resumed(b.port(), "/events", {{"Last-Event-ID", first[2].id}});
  std::vector<SseEvent> rest;
  for (int i = 0; i < 6; ++i) {
    auto e = resumed.next(15s);
    BOOST_REQUIRE(e);
    rest.push_back(*e);
  }
  BOOST_TEST(rest[0].id == first[3].id);
  BOOST_TEST(rest[1].id == first[4].id);
  BOOST_TEST(rest[2].id == first[5].id);
  std::set<std::string> ids;
  for (const auto& e : rest) ids.insert(e.id);
  BOOST_TEST(ids.size() == 6u);
}

BOOST_AUTO_TEST_CASE(sse_resumes_across_an_instance_restart) {
  RedisServer redis;
  redis.start();
  const auto spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  std::string last_seen;
  {
    NoxdProcess before({"--redis-url", redis.url()});
    HttpClient client(before.port());
    SseClient stream(before.port(), "/events");
    std::this_thread::sleep_for(200ms);
    submit(client, spec);
    for (int i = 0; i < 2; ++i) {
      auto e = stream.next(15s);
      BOOST_REQUIRE(e);
      last_seen = e->id;  // after `started`; `completed` is still to come
    }
  }  // the instance stops (SIGTERM) with the stream open
  NoxdProcess after({"--redis-url", redis.url()});
  HttpClient client(after.port());
  const auto later = submit(client, spec);
  SseClient resumed(after.port(), "/events", {{"Last-Event-ID", last_seen}});
  std::vector<std::string> types;
  for (int i = 0; i < 4; ++i) {
    auto e = resumed.next(15s);
    BOOST_REQUIRE(e);
    BOOST_TEST(nox::event_id_after(e->id, last_seen));
    types.push_back(e->type);
  }
  BOOST_TEST(types == (std::vector<std::string>{"completed", "submitted", "started", "completed"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(graceful_stop)

BOOST_AUTO_TEST_CASE(sigterm_hands_back_running_jobs_and_closes_streams) {
  RedisServer redis;
  redis.start();
  auto first = std::make_unique<NoxdProcess>(std::vector<std::string>{"--redis-url", redis.url(), "--slots", "1"});
  HttpClient client(first->port());
  const auto id = submit(client, job_spec_json("xtb", "optimize_hessian", molecule_xyz("triacontane")));
  BOOST_REQUIRE_EQUAL(wait_for_state(client, id, "running"), "running");
  SseClient stream(first->port(), "/events");
  BOOST_REQUIRE_EQUAL(stream.status(), 200);

  const auto t0 = std::chrono::steady_clock::now();
  const int status = first->stop();
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  const bool quick = std::chrono::steady_clock::now() - t0 < 10s;
  BOOST_TEST(quick);  // xtb was killed, not waited for
  while (stream.next(2s)) {
  }
  BOOST_TEST(stream.ended());  // the stream got its last chunk

  NoxdProcess second({"--redis-url", redis.url(), "--slots", "1"});
  HttpClient other(second.port());
  auto job = other.get("/jobs/" + id).json();
  BOOST_TEST(job.at("state").as_string() == "failed");
  BOOST_TEST(job.at("error").at("code").as_string() == "interrupted");
}

// Regression: SIGTERM with idle SSE streams and no running job stopped the loop before the
// streams had written their last chunk: 20 of 20 ended short (curl exit 18).
void check_idle_streams_end_cleanly(std::vector<std::string> flags) {
  auto noxd = std::make_unique<NoxdProcess>(std::move(flags));
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 20; ++i) {
    streams.push_back(std::make_unique<SseClient>(noxd->port(), i % 2 ? "/events" : "/events?engine=xtb"));
    BOOST_REQUIRE_EQUAL(streams.back()->status(), 200);
  }
  const int status = noxd->stop();
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  int ended = 0;
  for (auto& stream : streams) {
    while (stream->next(2s)) {
    }
    ended += stream->ended() ? 1 : 0;
  }
  BOOST_TEST(ended == 20, ended << " of 20 streams got their last chunk");
}

BOOST_AUTO_TEST_CASE(sigterm_ends_every_idle_stream_with_its_last_chunk) {
  check_idle_streams_end_cleanly({"--slots", "1"});
  RedisServer redis;
  redis.start();
  check_idle_streams_end_cleanly({"--slots", "1", "--redis-url", redis.url()});
}

BOOST_AUTO_TEST_SUITE_END()
