// One contract, two stores: every case here runs against MemoryStore and against RedisStore
// (on a real redis-server), so the two cannot drift apart.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/job_id.hpp"
#include "core/sha256.hpp"
#include "storage/memory_store.hpp"
#include "storage/redis/redis_store.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using namespace nox;
using nox::test::run_task;

namespace {

struct MemoryBackend {
  asio::io_context ioc;
  nox::test::TempDir dir{"nox-memory-"};
  std::unique_ptr<MemoryStore> store =
      std::make_unique<MemoryStore>(ioc.get_executor(), MemoryStoreOptions{dir.path(), 100000});
  ~MemoryBackend() { store.reset(); }
};

// "" when started, else why not (use_future needs a default-constructible result).
asio::awaitable<std::string> start_redis(RedisStore* store) {
  Result<Done> started = co_await store->start(5s);
  co_return started ? std::string() : started.error().message;
}

struct RedisBackend {
  test::RedisServer server;
  asio::io_context ioc;
  std::unique_ptr<RedisStore> store;

  RedisBackend() {
    RedisStoreOptions options;
    options.url = server.url();
    store = std::make_unique<RedisStore>(ioc.get_executor(), options);
    const std::string failure = run_task(ioc, start_redis(store.get()));
    if (!failure.empty()) throw std::runtime_error("RedisStore did not start: " + failure);
  }
  ~RedisBackend() {
    store->stop();
    ioc.restart();
    ioc.run_for(1s);
  }
};

using Backends = boost::mpl::list<MemoryBackend, RedisBackend>;

std::string describe(const StoreError& e) {
  static const char* names[] = {"not_found", "conflict", "unavailable", "invalid", "full", "quota"};
  return std::string(names[static_cast<int>(e.code)]) + ": " + e.message;
}

// Boost.Test evaluates a check's message even when the check passes.
template <class T>
std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : describe(r.error());
}

template <class T>
bool is(const Result<T>& r, StoreErrc code) {
  return !r.ok() && r.error().code == code;
}

// A job as the routes hand it to the store. Creation times are distinct and increasing so
// that "newest first" means the same in both stores.
Job make_job(std::string engine = "echo", int priority = 0, std::vector<std::string> tags = {},
             int max_attempts = 1) {
  static TimeMs last = 0;
  Job job;
  job.id = new_job_id();
  json::array tag_array;
  for (auto& t : tags) tag_array.emplace_back(t);
  job.spec = {{"engine", engine},     {"task", "energy"},  {"method", "gfn2"},
              {"priority", priority}, {"tags", tag_array}, {"max_attempts", max_attempts},
              {"name", "water"}};
  job.priority = priority;
  job.max_attempts = max_attempts;
  last = std::max(now_ms(), last + 1);
  job.created_at = last;
  return job;
}

const std::vector<std::string> no_tags;

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<Job> must_create(Store& store, Job job) {
  Result<Job> created = co_await store.create(std::move(job));
  BOOST_TEST_REQUIRE(created.ok(), why(created));
  co_return created.value();
}

asio::awaitable<Job> must_claim(Store& store, std::string worker, Lease lease = 30s) {
  Result<std::optional<Job>> claimed = co_await store.claim(worker, lease);
  BOOST_TEST_REQUIRE(claimed.ok(), why(claimed));
  BOOST_TEST_REQUIRE(claimed->has_value());
  co_return **claimed;
}

asio::awaitable<std::vector<JobEvent>> all_events(Store& store, std::string job_id = {}) {
  std::vector<JobEvent> out;
  std::string after;
  for (;;) {
    Result<EventBatch> batch = co_await store.read_events(after, 100, 0ms);
    BOOST_TEST_REQUIRE(batch.ok(), why(batch));
    BOOST_TEST_REQUIRE(!batch->reset);
    if (batch->events.empty()) break;
    after = batch->events.back().id;
    for (auto& e : batch->events)
      if (job_id.empty() || e.job_id == job_id) out.push_back(std::move(e));
  }
  co_return out;
}

std::string types_of(const std::vector<JobEvent>& events) {
  std::string out;
  for (const auto& e : events) out += std::string(out.empty() ? "" : ",") + std::string(to_string(e.type));
  return out;
}

std::string error_code_of(const Job& job) {
  if (!job.error.is_object()) return {};
  const json::value* code = job.error.get_object().if_contains("code");
  return code && code->is_string() ? std::string(code->get_string()) : std::string();
}

// "a-b" -> "a-(b+n)": an id this log has not issued yet (both stores' ids have this shape).
std::string later_id(const std::string& id, int n) {
  const auto dash = id.find('-');
  return id.substr(0, dash + 1) + std::to_string(std::stoull(id.substr(dash + 1)) + n);
}

// ---- cases (one coroutine each; the store outlives them) ----

asio::awaitable<void> create_and_get_case(Store& store) {
  Job job = make_job("xtb", 3, {"screening"}, 2);
  job.state = JobState::running;  // ignored: a new job is pending
  Job created = co_await must_create(store, job);
  BOOST_TEST((created.state == JobState::pending));
  BOOST_TEST(created.created_at == job.created_at);

  Result<Job> got = co_await store.get(job.id);
  BOOST_TEST_REQUIRE(got.ok(), why(got));
  BOOST_TEST(got->id == job.id);
  BOOST_TEST((got->state == JobState::pending));
  BOOST_TEST(got->spec == job.spec);
  BOOST_TEST(got->created_at == job.created_at);
  BOOST_TEST(got->priority == 3);
  BOOST_TEST(got->max_attempts == 2);
  BOOST_TEST(got->attempts == 0);
  BOOST_TEST(got->started_at == 0);
  BOOST_TEST(got->finished_at == 0);
  BOOST_TEST(got->result.is_null());
  BOOST_TEST(got->error.is_null());
  BOOST_TEST(got->worker_id.empty());
  BOOST_TEST(got->engine() == "xtb");
  BOOST_TEST(got->tags() == std::vector<std::string>{"screening"});

  BOOST_TEST(is(co_await store.create(job), StoreErrc::conflict));
  BOOST_TEST(is(co_await store.get(new_job_id()), StoreErrc::not_found));

  auto events = co_await all_events(store);
  BOOST_TEST_REQUIRE(events.size() == 1u);  // the refused duplicate appended nothing
  BOOST_TEST((events[0].type == EventType::submitted));
  BOOST_TEST(events[0].job_id == job.id);
  BOOST_TEST((events[0].state == JobState::pending));
  BOOST_TEST(events[0].time > 0);
  Result<std::string> last = co_await store.last_event_id();
  BOOST_TEST_REQUIRE(last.ok());
  BOOST_TEST(*last == events[0].id);
}

asio::awaitable<void> status_json_case(Store& store) {
  BOOST_TEST(is(co_await store.status_json(new_job_id()), StoreErrc::not_found));
  Job job = make_job("xtb", 1, {"t"});
  job.owner = "alice";
  job.spec["molecule"] =
      json::object{{"xyz", "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}};
  co_await must_create(store, job);
  co_await must_claim(store, "w");
  json::object numbers{{"step", 2}};
  co_await store.record_progress(job.id, numbers);
  Finish done;
  done.result = json::object{{"energy", -5.07}};
  co_await store.finish(job.id, "w", done);
  Result<Job> got = co_await store.get(job.id);
  Result<StatusText> status = co_await store.status_json(job.id);
  BOOST_TEST_REQUIRE(status.ok(), why(status));
  // Exactly what the default (serializing get()) answers.
  BOOST_TEST(json::parse(status->json) == job_status_json(*got));
  BOOST_TEST(json::parse(status->json).at("formula") == "H2O");
  // The owner comes with it (and with the record), for the routes' owner check.
  BOOST_TEST(status->owner == "alice");
  BOOST_TEST(got->owner == "alice");
}

asio::awaitable<void> list_pages_and_filters_case(Store& store) {
  Result<JobPage> empty = co_await store.list(ListQuery());
  BOOST_TEST_REQUIRE(empty.ok());
  BOOST_TEST(empty->jobs.empty());
  BOOST_TEST(empty->next_cursor.empty());

  std::vector<std::string> ids;  // in creation order
  for (int i = 0; i < 7; ++i) {
    Job job = make_job(i % 2 ? "xtb" : "echo", 0, {i < 3 ? "first" : "later"});
    ids.push_back(job.id);
    co_await must_create(store, job);
  }
  Job running = co_await must_claim(store, "w1");  // the oldest: ids[0]
  BOOST_TEST(running.id == ids[0]);

  std::vector<std::string> seen;
  ListQuery query;
  query.limit = 3;
  int pages = 0;
  for (;;) {
    Result<JobPage> page = co_await store.list(query);
    BOOST_TEST_REQUIRE(page.ok(), why(page));
    ++pages;
    for (const Job& j : page->jobs) seen.push_back(j.id);
    if (page->next_cursor.empty()) break;
    BOOST_TEST_REQUIRE(page->jobs.size() == 3u);
    query.cursor = page->next_cursor;
  }
  BOOST_TEST(pages == 3);
  BOOST_TEST(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));

  // Exactly `limit` left: no cursor pointing at an empty page.
  ListQuery six;
  six.limit = 6;
  Result<JobPage> first_six = co_await store.list(six);
  six.cursor = first_six->next_cursor;
  BOOST_TEST_REQUIRE(!six.cursor.empty());
  six.limit = 1;
  Result<JobPage> last_one = co_await store.list(six);
  BOOST_TEST_REQUIRE(last_one->jobs.size() == 1u);
  BOOST_TEST(last_one->jobs[0].id == ids[0]);
  BOOST_TEST(last_one->next_cursor.empty());

  ListQuery by_engine;
  by_engine.engine = "xtb";
  Result<JobPage> xtb = co_await store.list(by_engine);
  BOOST_TEST_REQUIRE(xtb->jobs.size() == 3u);
  BOOST_TEST(xtb->jobs[0].id == ids[5]);
  BOOST_TEST(xtb->jobs[2].id == ids[1]);

  ListQuery by_tag;
  by_tag.tag = "first";
  by_tag.limit = 2;
  Result<JobPage> tagged = co_await store.list(by_tag);
  BOOST_TEST_REQUIRE(tagged->jobs.size() == 2u);
  BOOST_TEST(tagged->jobs[0].id == ids[2]);
  BOOST_TEST(!tagged->next_cursor.empty());
  by_tag.cursor = tagged->next_cursor;
  Result<JobPage> tagged_rest = co_await store.list(by_tag);
  BOOST_TEST_REQUIRE(tagged_rest->jobs.size() == 1u);
  BOOST_TEST(tagged_rest->jobs[0].id == ids[0]);
  BOOST_TEST(tagged_rest->next_cursor.empty());

  ListQuery by_state;
  by_state.state = JobState::running;
  Result<JobPage> run = co_await store.list(by_state);
  BOOST_TEST_REQUIRE(run->jobs.size() == 1u);
  BOOST_TEST(run->jobs[0].id == ids[0]);
  by_state.state = JobState::completed;
  BOOST_TEST((co_await store.list(by_state))->jobs.empty());

  ListQuery bad;
  bad.cursor = "not a cursor";
  BOOST_TEST(is(co_await store.list(bad), StoreErrc::invalid));
}

asio::awaitable<void> claim_by_priority_then_age_case(Store& store) {
  Result<std::optional<Job>> none = co_await store.claim("w", 30s);
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(!none->has_value());

  const std::vector<int> priorities = {0, 5, 5, -1, 10};
  std::vector<std::string> ids;
  for (int p : priorities) {
    Job job = make_job("echo", p);
    ids.push_back(job.id);
    co_await must_create(store, job);
  }
  const std::vector<std::string> expected = {ids[4], ids[1], ids[2], ids[0], ids[3]};
  for (const std::string& id : expected) {
    Job claimed = co_await must_claim(store, "worker-a", 30s);
    BOOST_TEST(claimed.id == id);
    BOOST_TEST((claimed.state == JobState::running));
    BOOST_TEST(claimed.worker_id == "worker-a");
    BOOST_TEST(claimed.attempts == 1);
    BOOST_TEST(claimed.started_at > 0);
  }
  Result<std::optional<Job>> drained = co_await store.claim("w", 30s);
  BOOST_TEST(!drained->has_value());

  Result<QueueStats> stats = co_await store.stats();
  BOOST_TEST_REQUIRE(stats.ok());
  BOOST_TEST(stats->pending == 0u);
  BOOST_TEST(stats->running == 5u);

  auto started = co_await all_events(store, ids[4]);
  BOOST_TEST_REQUIRE(started.size() == 2u);
  BOOST_TEST((started[1].type == EventType::started));
  BOOST_TEST((started[1].state == JobState::running));
  BOOST_TEST(started[1].data.at("worker") == "worker-a");
  BOOST_TEST(started[1].data.at("attempt") == 1);
}

asio::awaitable<void> finish_is_a_compare_and_set_case(Store& store) {
  Job job = co_await must_create(store, make_job());
  BOOST_TEST(is(co_await store.finish(job.id, "w1", Finish()), StoreErrc::conflict));  // still pending
  co_await must_claim(store, "w1");

  Finish wrong_owner;
  wrong_owner.result = json::object{{"energy", -5.07}};
  Result<Job> stolen = co_await store.finish(job.id, "w2", wrong_owner);
  BOOST_TEST_REQUIRE(is(stolen, StoreErrc::conflict));
  BOOST_TEST((stolen.error().current_state == JobState::running));

  Finish done;
  done.result = json::object{{"energy", -5.07}, {"gap_ev", 14.2}, {"geometry", json::array{1, 2}}};
  Result<Job> finished = co_await store.finish(job.id, "w1", done);
  BOOST_TEST_REQUIRE(finished.ok(), why(finished));
  BOOST_TEST((finished->state == JobState::completed));
  BOOST_TEST(finished->result == done.result);
  BOOST_TEST(finished->finished_at >= finished->started_at);
  BOOST_TEST(finished->worker_id.empty());

  Result<Job> again = co_await store.finish(job.id, "w1", done);
  BOOST_TEST_REQUIRE(is(again, StoreErrc::conflict));
  BOOST_TEST((again.error().current_state == JobState::completed));
  BOOST_TEST(is(co_await store.finish(new_job_id(), "w1", done), StoreErrc::not_found));

  Result<Job> got = co_await store.get(job.id);
  BOOST_TEST((got->state == JobState::completed));
  BOOST_TEST(got->result == done.result);

  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,completed");
  // The event carries the result's scalars only.
  BOOST_TEST(events.back().data.at("result") == (json::object{{"energy", -5.07}, {"gap_ev", 14.2}}));
}

asio::awaitable<void> failures_retry_while_attempts_remain_case(Store& store) {
  Job job = co_await must_create(store, make_job("echo", 0, no_tags, 2));
  co_await must_claim(store, "w1");
  Finish crash;
  crash.state = JobState::failed;
  crash.error = json::object{{"code", "engine_crashed"}, {"message", "exit 139"}};
  crash.retryable = true;
  Result<Job> retried = co_await store.finish(job.id, "w1", crash);
  BOOST_TEST_REQUIRE(retried.ok(), why(retried));
  BOOST_TEST((retried->state == JobState::pending));
  BOOST_TEST(retried->finished_at == 0);
  BOOST_TEST(error_code_of(*retried) == "engine_crashed");

  Job second = co_await must_claim(store, "w2");
  BOOST_TEST(second.id == job.id);
  BOOST_TEST(second.attempts == 2);
  BOOST_TEST(second.error.is_null());  // a new attempt starts clean
  // Out of attempts: a retryable failure is final now.
  Result<Job> failed = co_await store.finish(job.id, "w2", crash);
  BOOST_TEST_REQUIRE(failed.ok());
  BOOST_TEST((failed->state == JobState::failed));
  BOOST_TEST(failed->finished_at > 0);
  BOOST_TEST(error_code_of(*failed) == "engine_crashed");

  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,retrying,started,failed");
  BOOST_TEST((events[2].state == JobState::pending));
  BOOST_TEST(events[2].data.at("attempt") == 1);
  BOOST_TEST(events[2].data.at("error") == crash.error);
  BOOST_TEST(events[4].data.at("error") == crash.error);

  // Not retryable: failed at once even with attempts left.
  Job other = co_await must_create(store, make_job("echo", 0, no_tags, 5));
  co_await must_claim(store, "w1");
  crash.retryable = false;
  Result<Job> final_failure = co_await store.finish(other.id, "w1", crash);
  BOOST_TEST((final_failure->state == JobState::failed));
}

asio::awaitable<void> cancel_case(Store& store) {
  Job pending = co_await must_create(store, make_job());
  Result<Job> cancelled = co_await store.cancel(pending.id);
  BOOST_TEST_REQUIRE(cancelled.ok(), why(cancelled));
  BOOST_TEST((cancelled->state == JobState::cancelled));
  BOOST_TEST(cancelled->finished_at > 0);
  BOOST_TEST(error_code_of(*cancelled) == "cancelled");
  // It left the queue.
  Result<std::optional<Job>> none = co_await store.claim("w", 30s);
  BOOST_TEST(!none->has_value());
  Result<Job> twice = co_await store.cancel(pending.id);
  BOOST_TEST_REQUIRE(is(twice, StoreErrc::conflict));
  BOOST_TEST((twice.error().current_state == JobState::cancelled));
  BOOST_TEST(is(co_await store.cancel(new_job_id()), StoreErrc::not_found));

  // A running job: its owner finds out at renew and cannot finish it any more.
  Job running = co_await must_create(store, make_job());
  co_await must_claim(store, "w1");
  Result<Job> killed = co_await store.cancel(running.id);
  BOOST_TEST((killed->state == JobState::cancelled));
  Result<Done> renewed = co_await store.renew(running.id, "w1", 30s);
  BOOST_TEST_REQUIRE(is(renewed, StoreErrc::conflict));
  BOOST_TEST((renewed.error().current_state == JobState::cancelled));
  BOOST_TEST(is(co_await store.finish(running.id, "w1", Finish()), StoreErrc::conflict));
  Result<QueueStats> stats = co_await store.stats();
  BOOST_TEST(stats->running == 0u);
  BOOST_TEST(stats->pending == 0u);

  Finish done;
  Job completed = co_await must_create(store, make_job());
  co_await must_claim(store, "w1");
  co_await store.finish(completed.id, "w1", done);
  BOOST_TEST(is(co_await store.cancel(completed.id), StoreErrc::conflict));

  BOOST_TEST(types_of(co_await all_events(store, running.id)) == "submitted,started,cancelled");
}

asio::awaitable<void> remove_case(Store& store) {
  Job job = co_await must_create(store, make_job());
  Result<Done> refused = co_await store.remove(job.id);
  BOOST_TEST_REQUIRE(is(refused, StoreErrc::conflict));
  BOOST_TEST((refused.error().current_state == JobState::pending));
  BOOST_TEST(is(co_await store.remove(new_job_id()), StoreErrc::not_found));

  co_await store.cancel(job.id);
  std::vector<Artifact> files = {{"out.log", "text/plain", "log"}};
  BOOST_TEST((co_await store.put_artifacts(job.id, files)).ok());
  Result<Done> removed = co_await store.remove(job.id);
  BOOST_TEST_REQUIRE(removed.ok(), why(removed));
  BOOST_TEST(is(co_await store.get(job.id), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.artifact_info(job.id, "out.log"), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.read_artifact(job.id, "out.log", 0, 3), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.list_artifacts(job.id), StoreErrc::not_found));
  BOOST_TEST((co_await store.list(ListQuery()))->jobs.empty());
  BOOST_TEST(is(co_await store.remove(job.id), StoreErrc::not_found));

  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,cancelled,deleted");
  BOOST_TEST((events.back().state == JobState::cancelled));
}

asio::awaitable<void> progress_case(Store& store) {
  Job job = co_await must_create(store, make_job());
  json::object numbers{{"step", 3}, {"energy", -5.1}};
  Result<Done> early = co_await store.record_progress(job.id, numbers);
  BOOST_TEST_REQUIRE(is(early, StoreErrc::conflict));
  BOOST_TEST((early.error().current_state == JobState::pending));
  BOOST_TEST(is(co_await store.record_progress(new_job_id(), numbers), StoreErrc::not_found));

  co_await must_claim(store, "w1");
  BOOST_TEST((co_await store.record_progress(job.id, numbers)).ok());
  numbers["step"] = 4;
  BOOST_TEST((co_await store.record_progress(job.id, numbers)).ok());
  Result<Job> got = co_await store.get(job.id);
  BOOST_TEST(got->progress == numbers);
  BOOST_TEST((got->state == JobState::running));

  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,progress,progress");
  BOOST_TEST(events.back().data.at("progress") == numbers);
  BOOST_TEST((events.back().state == JobState::running));
}

asio::awaitable<void> leases_expire_and_requeue_case(Store& store) {
  // Regression: with the default max_attempts 1, a job whose instance died was failed `lost`
  // instead of running again. Lost attempts have their own budget (max_lost).
  Job fresh = make_job("echo", 0, no_tags, 1);
  fresh.max_lost = 1;
  Job job = co_await must_create(store, fresh);

  // Renewed in time: nothing moves.
  co_await must_claim(store, "w1", 150ms);
  co_await sleep_for(80ms);
  BOOST_TEST((co_await store.renew(job.id, "w1", 2s)).ok());
  BOOST_TEST(is(co_await store.renew(job.id, "w2", 2s), StoreErrc::conflict));
  BOOST_TEST(is(co_await store.renew(new_job_id(), "w1", 2s), StoreErrc::not_found));
  co_await sleep_for(150ms);
  BOOST_TEST(*(co_await store.requeue_expired()) == 0u);
  BOOST_TEST(((co_await store.get(job.id))->state == JobState::running));

  // w1 disappears (it never sent a heartbeat): after its lease the job runs again elsewhere.
  BOOST_TEST((co_await store.renew(job.id, "w1", 50ms)).ok());
  co_await sleep_for(120ms);
  Result<std::size_t> moved = co_await store.requeue_expired();
  BOOST_TEST_REQUIRE(moved.ok(), why(moved));
  BOOST_TEST(*moved == 1u);
  Result<Job> requeued = co_await store.get(job.id);
  BOOST_TEST((requeued->state == JobState::pending));
  BOOST_TEST(requeued->attempts == 1);
  BOOST_TEST(requeued->lost == 1);
  BOOST_TEST(requeued->worker_id.empty());
  BOOST_TEST(error_code_of(*requeued) == "lost");
  // The late owner cannot report any more.
  BOOST_TEST(is(co_await store.finish(job.id, "w1", Finish()), StoreErrc::conflict));

  Job second = co_await must_claim(store, "w2", 50ms);
  BOOST_TEST(second.attempts == 2);
  co_await sleep_for(120ms);
  BOOST_TEST(*(co_await store.requeue_expired()) == 1u);
  Result<Job> lost = co_await store.get(job.id);
  BOOST_TEST((lost->state == JobState::failed));
  BOOST_TEST(error_code_of(*lost) == "lost");
  BOOST_TEST(lost->lost == 2);
  BOOST_TEST(lost->finished_at > 0);
  BOOST_TEST(*(co_await store.requeue_expired()) == 0u);

  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,retrying,started,failed");
  BOOST_TEST(events[2].data.at("error").at("code") == "lost");
  BOOST_TEST(events[4].data.at("error").at("code") == "lost");
}

// A lost attempt does not spend max_attempts: the job's own failure afterwards still retries.
asio::awaitable<void> lost_attempts_have_their_own_budget_case(Store& store) {
  Job job = co_await must_create(store, make_job("echo", 0, no_tags, 2));
  co_await must_claim(store, "gone", 30ms);
  co_await sleep_for(80ms);
  BOOST_TEST(*(co_await store.requeue_expired()) == 1u);
  co_await must_claim(store, "w", 30s);
  Finish crash;
  crash.state = JobState::failed;
  crash.error = json::object{{"code", "crashed"}, {"message", "signal 11"}};
  crash.retryable = true;
  Result<Job> retried = co_await store.finish(job.id, "w", crash);
  BOOST_TEST_REQUIRE(retried.ok(), why(retried));
  BOOST_TEST((retried->state == JobState::pending));  // own attempts 1 of 2
  co_await must_claim(store, "w", 30s);
  Result<Job> failed = co_await store.finish(job.id, "w", crash);
  BOOST_TEST_REQUIRE(failed.ok(), why(failed));
  BOOST_TEST((failed->state == JobState::failed));  // own attempts 2 of 2
  BOOST_TEST(failed->attempts == 3);
  BOOST_TEST(failed->lost == 1);
}

WorkerInfo worker_named(std::string id) {
  WorkerInfo w;
  w.id = std::move(id);
  w.host = "test";
  w.slots = 1;
  return w;
}

// Regression (outage longer than the lease): a sweep took the leases of an instance that was
// only cut off, and that instance killed its own healthy jobs. A lease whose owner still
// heartbeats is never taken.
asio::awaitable<void> fresh_heartbeat_keeps_its_leases_case(Store& store) {
  Job job = co_await must_create(store, make_job());
  BOOST_TEST((co_await store.heartbeat(worker_named("alive"), 5s)).ok());
  co_await must_claim(store, "alive", 50ms);
  co_await sleep_for(150ms);  // the lease is over, the heartbeat is not
  BOOST_TEST(*(co_await store.requeue_expired()) == 0u);
  BOOST_TEST(((co_await store.get(job.id))->state == JobState::running));
  BOOST_TEST((co_await store.renew(job.id, "alive", 30s)).ok());
}

// An instance whose heartbeat ran out is gone: its jobs are taken over at once, without
// waiting for their (long) leases.
asio::awaitable<void> dead_instance_is_taken_over_at_once_case(Store& store) {
  Job job = co_await must_create(store, make_job());
  BOOST_TEST((co_await store.heartbeat(worker_named("dying"), 60ms)).ok());
  co_await must_claim(store, "dying", 10min);
  BOOST_TEST(*(co_await store.requeue_expired()) == 0u);
  co_await sleep_for(200ms);
  BOOST_TEST(*(co_await store.requeue_expired()) == 1u);
  Result<Job> back = co_await store.get(job.id);
  BOOST_TEST((back->state == JobState::pending));
  BOOST_TEST(back->lost == 1);
  BOOST_TEST(is(co_await store.renew(job.id, "dying", 30s), StoreErrc::conflict));
}

// The ids of every page of a listing, following the cursors.
asio::awaitable<std::vector<std::string>> all_pages(Store& store, ListQuery query) {
  std::vector<std::string> ids;
  for (int guard = 0; guard < 100; ++guard) {
    Result<JobPage> page = co_await store.list(query);
    BOOST_TEST_REQUIRE(page.ok(), why(page));
    for (const auto& j : page->jobs) ids.push_back(j.id);
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
  }
  co_return ids;
}

// Every filter combination pages correctly through a store where matches are rare.
asio::awaitable<void> list_filters_on_a_big_store_case(Store& store) {
  std::vector<std::string> rare_xtb;  // newest last
  std::size_t bobs = 0;
  for (int i = 0; i < 1500; ++i) {
    const bool rare = i % 300 == 7;
    Job job = make_job(rare ? "xtb" : "echo", 0, rare ? std::vector<std::string>{"rare", "x"} : no_tags);
    job.owner = rare ? "carol" : (i % 2 == 1 ? "bob" : "");  // "": open mode's
    co_await must_create(store, job);
    if (rare) rare_xtb.push_back(job.id);
    if (!rare && i % 2 == 1) ++bobs;
  }
  // Run one of the rare ones to completion so states differ.
  while (true) {
    Job claimed = co_await must_claim(store, "w");
    Finish done;
    done.result = json::object{{"energy_eh", -1.0}};
    BOOST_TEST_REQUIRE((co_await store.finish(claimed.id, "w", done)).ok());
    if (claimed.id == rare_xtb.front()) break;
  }
  const std::vector<std::string> newest_first(rare_xtb.rbegin(), rare_xtb.rend());
  ListQuery by_tag;
  by_tag.tag = "rare";
  by_tag.limit = 2;
  std::vector<std::string> got = co_await all_pages(store, by_tag);
  BOOST_TEST(got == newest_first);
  ListQuery tag_and_engine = by_tag;
  tag_and_engine.engine = "xtb";
  got = co_await all_pages(store, tag_and_engine);
  BOOST_TEST(got == newest_first);
  ListQuery engine_and_state;
  engine_and_state.engine = "xtb";
  engine_and_state.state = JobState::completed;
  got = co_await all_pages(store, engine_and_state);
  BOOST_TEST(got == std::vector<std::string>{rare_xtb.front()});
  ListQuery tag_pending = by_tag;
  tag_pending.state = JobState::pending;
  got = co_await all_pages(store, tag_pending);
  BOOST_TEST(got == std::vector<std::string>(newest_first.begin(), newest_first.end() - 1));
  ListQuery none;
  none.tag = "absent";
  got = co_await all_pages(store, none);
  BOOST_TEST(got.empty());
  ListQuery all;
  all.limit = 1000;
  got = co_await all_pages(store, all);
  BOOST_TEST(got.size() == 1500u);
  // Owners (issue 8): an owner's index, alone or with the other filters.
  ListQuery carols;
  carols.owner = "carol";
  carols.limit = 2;
  got = co_await all_pages(store, carols);
  BOOST_TEST(got == newest_first);
  ListQuery carols_done = carols;
  carols_done.state = JobState::completed;
  got = co_await all_pages(store, carols_done);
  BOOST_TEST(got == std::vector<std::string>{rare_xtb.front()});
  ListQuery carols_tagged = carols;
  carols_tagged.tag = "rare";
  carols_tagged.engine = "xtb";
  got = co_await all_pages(store, carols_tagged);
  BOOST_TEST(got == newest_first);
  ListQuery bob_rare = carols_tagged;
  bob_rare.owner = "bob";
  got = co_await all_pages(store, bob_rare);
  BOOST_TEST(got.empty());
  ListQuery bob_all;
  bob_all.owner = "bob";
  bob_all.limit = 1000;
  got = co_await all_pages(store, bob_all);
  BOOST_TEST(got.size() == bobs);
  ListQuery nobody;
  nobody.owner = "dave";
  got = co_await all_pages(store, nobody);
  BOOST_TEST(got.empty());
}

// What an Idempotency-Key's first answer is kept as: the first write wins.
asio::awaitable<void> remembered_answers_case(Store& store) {
  Result<std::optional<std::string>> none = co_await store.recall_answer("jobs:k1");
  BOOST_TEST_REQUIRE(none.ok(), why(none));
  BOOST_TEST(!none->has_value());
  BOOST_TEST((co_await store.remember_answer("jobs:k1", "first", 1h)).ok());
  BOOST_TEST((co_await store.remember_answer("jobs:k1", "second", 1h)).ok());
  Result<std::optional<std::string>> got = co_await store.recall_answer("jobs:k1");
  BOOST_TEST_REQUIRE(got.ok(), why(got));
  BOOST_TEST(got->value_or("") == "first");
  BOOST_TEST((co_await store.remember_answer("jobs:short", "x", 50ms)).ok());
  co_await sleep_for(150ms);
  BOOST_TEST((co_await store.remember_answer("jobs:k2", "y", 1h)).ok());  // lets the memory store forget
  BOOST_TEST(!(co_await store.recall_answer("jobs:short"))->has_value());
}

asio::awaitable<void> read_events_after_an_id_case(Store& store) {
  Result<std::string> none = co_await store.last_event_id();
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(none->empty());
  Result<EventBatch> nothing = co_await store.read_events("", 10, 0ms);
  BOOST_TEST(nothing->events.empty());
  BOOST_TEST(!nothing->reset);

  for (int i = 0; i < 5; ++i) co_await must_create(store, make_job());
  Result<EventBatch> first_two = co_await store.read_events("", 2, 0ms);
  BOOST_TEST_REQUIRE(first_two->events.size() == 2u);
  BOOST_TEST(!first_two->reset);
  Result<EventBatch> rest = co_await store.read_events(first_two->events.back().id, 10, 0ms);
  BOOST_TEST_REQUIRE(rest->events.size() == 3u);
  BOOST_TEST(rest->events.front().id != first_two->events.back().id);
  Result<std::string> last = co_await store.last_event_id();
  BOOST_TEST(*last == rest->events.back().id);
  Result<EventBatch> caught_up = co_await store.read_events(*last, 10, 0ms);
  BOOST_TEST(caught_up->events.empty());
  BOOST_TEST(!caught_up->reset);

  // Ids this log never issued: the reader must reload.
  BOOST_TEST((co_await store.read_events("bogus", 10, 0ms))->reset);
  BOOST_TEST((co_await store.read_events(later_id(*last, 1000), 10, 0ms))->reset);
}

asio::awaitable<void> create_after(Store& store, std::chrono::milliseconds delay, Job job) {
  co_await sleep_for(delay);
  co_await store.create(std::move(job));
}

asio::awaitable<void> read_events_waits_for_new_ones_case(Store& store) {
  co_await must_create(store, make_job());
  Result<std::string> last = co_await store.last_event_id();

  auto t0 = std::chrono::steady_clock::now();
  Result<EventBatch> timed_out = co_await store.read_events(*last, 10, 200ms);
  BOOST_TEST(timed_out->events.empty());
  BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 180ms));

  Job later = make_job();
  asio::co_spawn(co_await asio::this_coro::executor, create_after(store, 100ms, later), asio::detached);
  t0 = std::chrono::steady_clock::now();
  Result<EventBatch> woken = co_await store.read_events(*last, 10, 5s);
  BOOST_TEST_REQUIRE(woken.ok(), why(woken));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
  BOOST_TEST_REQUIRE(woken->events.size() == 1u);
  BOOST_TEST(woken->events[0].job_id == later.id);
}

asio::awaitable<void> job_events_case(Store& store) {
  Job a = co_await must_create(store, make_job());
  Job b = co_await must_create(store, make_job());
  co_await must_claim(store, "w");
  co_await store.cancel(b.id);
  Result<std::vector<JobEvent>> history = co_await store.job_events(a.id);
  BOOST_TEST_REQUIRE(history.ok());
  BOOST_TEST(types_of(*history) == "submitted,started");
  Result<std::vector<JobEvent>> other = co_await store.job_events(b.id);
  BOOST_TEST(types_of(*other) == "submitted,cancelled");
}

// The calculation cache gives a job another's files without reading them into noxd.
asio::awaitable<void> copy_artifacts_case(Store& store) {
  std::vector<Artifact> files = {{"xtbopt.xyz", "chemical/x-xyz", "3\n\nO 0 0 0\n"},
                                 {"xtbrestart", "application/octet-stream", std::string("\0\x01\xff\0", 4)}};
  Job original = co_await must_create(store, make_job());
  Job cached = co_await must_create(store, make_job());
  BOOST_TEST((co_await store.put_artifacts(original.id, files)).ok());
  BOOST_TEST(is(co_await store.copy_artifacts(new_job_id(), cached.id), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.copy_artifacts(original.id, new_job_id()), StoreErrc::not_found));

  Result<Done> copied = co_await store.copy_artifacts(original.id, cached.id);
  BOOST_TEST_REQUIRE(copied.ok(), why(copied));
  Result<std::vector<ArtifactInfo>> listed = co_await store.list_artifacts(cached.id);
  BOOST_TEST_REQUIRE(listed.ok());
  Result<std::vector<ArtifactInfo>> originals = co_await store.list_artifacts(original.id);
  auto by_name = [](auto& x, auto& y) { return x.name < y.name; };
  std::sort(listed->begin(), listed->end(), by_name);
  std::sort(originals->begin(), originals->end(), by_name);
  BOOST_TEST_REQUIRE(listed->size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST((*listed)[i].name == (*originals)[i].name);
    BOOST_TEST((*listed)[i].size == (*originals)[i].size);
    BOOST_TEST((*listed)[i].sha256 == (*originals)[i].sha256);
    BOOST_TEST((*listed)[i].media_type == (*originals)[i].media_type);
  }
  Result<std::string> bytes = co_await store.read_artifact(cached.id, "xtbrestart", 0, 100);
  BOOST_TEST(*bytes == files[1].bytes);

  // Replacing a file of one job changes nothing of the other's.
  std::vector<Artifact> replaced = {{"xtbopt.xyz", "chemical/x-xyz", "1\n\nH 0 0 0\n"}};
  BOOST_TEST((co_await store.put_artifacts(original.id, replaced)).ok());
  Result<std::string> kept = co_await store.read_artifact(cached.id, "xtbopt.xyz", 0, 100);
  BOOST_TEST(*kept == files[0].bytes);
  Result<std::string> changed = co_await store.read_artifact(original.id, "xtbopt.xyz", 0, 100);
  BOOST_TEST(*changed == replaced[0].bytes);

  // Deleting the original leaves the copy whole; copying again is harmless.
  co_await store.cancel(original.id);
  BOOST_TEST((co_await store.remove(original.id)).ok());
  Result<std::string> after = co_await store.read_artifact(cached.id, "xtbopt.xyz", 0, 100);
  BOOST_TEST(*after == files[0].bytes);
  BOOST_TEST(is(co_await store.copy_artifacts(original.id, cached.id), StoreErrc::not_found));
  BOOST_TEST((co_await store.list_artifacts(cached.id))->size() == 2u);
}

asio::awaitable<void> artifacts_case(Store& store) {
  std::vector<Artifact> files = {{"xtbopt.xyz", "chemical/x-xyz", "3\n\nO 0 0 0\n"},
                                 {"xtbrestart", "application/octet-stream", std::string("\0\x01\xff\0", 4)}};
  BOOST_TEST(is(co_await store.put_artifacts(new_job_id(), files), StoreErrc::not_found));
  Job job = co_await must_create(store, make_job());
  std::vector<Artifact> escaping = {{"../etc/passwd", "text/plain", "x"}};
  BOOST_TEST(is(co_await store.put_artifacts(job.id, escaping), StoreErrc::invalid));
  BOOST_TEST((co_await store.list_artifacts(job.id))->empty());

  BOOST_TEST((co_await store.put_artifacts(job.id, files)).ok());
  Result<std::vector<ArtifactInfo>> listed = co_await store.list_artifacts(job.id);
  BOOST_TEST_REQUIRE(listed.ok());
  auto infos = *listed;
  std::sort(infos.begin(), infos.end(), [](auto& x, auto& y) { return x.name < y.name; });
  BOOST_TEST_REQUIRE(infos.size() == 2u);
  BOOST_TEST(infos[0].name == "xtbopt.xyz");
  BOOST_TEST(infos[0].size == files[0].bytes.size());
  BOOST_TEST(infos[0].media_type == "chemical/x-xyz");
  BOOST_TEST(infos[1].name == "xtbrestart");
  BOOST_TEST(infos[1].size == 4u);

  // The SHA-256 is kept (computed by the store when the producer gave none).
  BOOST_TEST(infos[0].sha256 == sha256_hex(files[0].bytes));
  BOOST_TEST(infos[1].sha256 == sha256_hex(files[1].bytes));
  Result<ArtifactInfo> info = co_await store.artifact_info(job.id, "xtbrestart");
  BOOST_TEST_REQUIRE(info.ok(), why(info));
  BOOST_TEST(info->size == 4u);
  BOOST_TEST(info->media_type == "application/octet-stream");
  BOOST_TEST(info->sha256 == sha256_hex(files[1].bytes));
  Result<std::string> binary = co_await store.read_artifact(job.id, "xtbrestart", 0, 4);
  BOOST_TEST_REQUIRE(binary.ok(), why(binary));
  BOOST_TEST((*binary == files[1].bytes));
  // Reads are ranges: fewer bytes only at the end, none past it.
  BOOST_TEST((*(co_await store.read_artifact(job.id, "xtbrestart", 1, 2)) == std::string("\x01\xff", 2)));
  BOOST_TEST((*(co_await store.read_artifact(job.id, "xtbrestart", 2, 100)) == std::string("\xff\0", 2)));
  BOOST_TEST((co_await store.read_artifact(job.id, "xtbrestart", 4, 100))->empty());
  BOOST_TEST(is(co_await store.artifact_info(job.id, "missing.log"), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.read_artifact(job.id, "missing.log", 0, 10), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.artifact_info(new_job_id(), "xtbopt.xyz"), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.list_artifacts(new_job_id()), StoreErrc::not_found));

  // Writing a name again replaces it.
  std::vector<Artifact> replacement = {{"xtbopt.xyz", "chemical/x-xyz", "1\n\nH 0 0 0\n"}};
  BOOST_TEST((co_await store.put_artifacts(job.id, replacement)).ok());
  Result<std::string> replaced = co_await store.read_artifact(job.id, "xtbopt.xyz", 0, 1000);
  BOOST_TEST(*replaced == "1\n\nH 0 0 0\n");
  BOOST_TEST((co_await store.artifact_info(job.id, "xtbopt.xyz"))->sha256 == sha256_hex("1\n\nH 0 0 0\n"));
  BOOST_TEST((co_await store.list_artifacts(job.id))->size() == 2u);
}

asio::awaitable<void> workers_case(Store& store) {
  BOOST_TEST((co_await store.workers())->empty());
  WorkerInfo a{"instance-a", "node1", "127.0.0.1:8080", 4, 1, 1700000000000, 0};
  WorkerInfo b{"instance-b", "node2", "127.0.0.1:8081", 2, 0, 1700000000001, 0};
  const TimeMs before = now_ms();
  BOOST_TEST((co_await store.heartbeat(a, 10s)).ok());
  BOOST_TEST((co_await store.heartbeat(b, 100ms)).ok());
  Result<std::vector<WorkerInfo>> both = co_await store.workers();
  BOOST_TEST_REQUIRE(both->size() == 2u);
  const WorkerInfo& got = (*both)[0];
  BOOST_TEST(got.id == "instance-a");
  BOOST_TEST(got.host == "node1");
  BOOST_TEST(got.listen == "127.0.0.1:8080");
  BOOST_TEST(got.slots == 4);
  BOOST_TEST(got.busy == 1);
  BOOST_TEST(got.started_at == 1700000000000);
  BOOST_TEST(got.last_heartbeat >= before);

  co_await sleep_for(200ms);
  a.busy = 3;
  BOOST_TEST((co_await store.heartbeat(a, 10s)).ok());
  Result<std::vector<WorkerInfo>> alive = co_await store.workers();
  BOOST_TEST_REQUIRE(alive->size() == 1u);
  BOOST_TEST((*alive)[0].id == "instance-a");
  BOOST_TEST((*alive)[0].busy == 3);
}

asio::awaitable<void> retention_sweep_case(Store& store) {
  Job done = co_await must_create(store, make_job());
  Job waiting = co_await must_create(store, make_job());
  co_await must_claim(store, "w");
  std::vector<Artifact> log = {{"out.log", "text/plain", "x"}};
  BOOST_TEST((co_await store.put_artifacts(done.id, log)).ok());
  co_await store.finish(done.id, "w", Finish());
  BOOST_TEST(*(co_await store.sweep_retention(1h)) == 0u);
  co_await sleep_for(50ms);
  Result<std::size_t> swept = co_await store.sweep_retention(10ms);
  BOOST_TEST_REQUIRE(swept.ok(), why(swept));
  BOOST_TEST(*swept == 1u);
  BOOST_TEST(is(co_await store.get(done.id), StoreErrc::not_found));
  BOOST_TEST(is(co_await store.artifact_info(done.id, "out.log"), StoreErrc::not_found));
  BOOST_TEST((co_await store.get(waiting.id)).ok());
  Result<JobPage> left = co_await store.list(ListQuery());
  BOOST_TEST_REQUIRE(left->jobs.size() == 1u);
  BOOST_TEST(left->jobs[0].id == waiting.id);
  BOOST_TEST(*(co_await store.sweep_retention(10ms)) == 0u);

  auto events = co_await all_events(store, done.id);
  BOOST_TEST(types_of(events) == "submitted,started,completed,deleted");
  BOOST_TEST(events.back().data.at("reason") == "retention");
}

asio::awaitable<void> wait_for_work_case(Store& store) {
  // Nothing queued: waits the whole time (and returns then).
  auto t0 = std::chrono::steady_clock::now();
  co_await store.wait_for_work(300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((took >= 280ms));
  BOOST_TEST((took < 1500ms));

  // Work arriving meanwhile wakes it early.
  asio::co_spawn(co_await asio::this_coro::executor, create_after(store, 100ms, make_job()), asio::detached);
  t0 = std::chrono::steady_clock::now();
  co_await store.wait_for_work(5s);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));

  // Work already queued: returns at once.
  t0 = std::chrono::steady_clock::now();
  co_await store.wait_for_work(5s);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 500ms));
  co_await must_claim(store, "w");
}

// Queued jobs per owner (issue 8): create() refuses beyond the owner's cap of unfinished jobs,
// counted as jobs enter and leave pending/running, in the same step as the insert.
Job owned_job(std::string owner, int max_attempts = 1, int priority = 0) {
  Job job = make_job("echo", priority, no_tags, max_attempts);
  job.owner = std::move(owner);
  return job;
}

asio::awaitable<Result<Job>> create_capped(Store& store, Job job, std::uint64_t cap) {
  CreateBounds bounds;
  bounds.max_unfinished_of_owner = cap;
  co_return co_await store.create(std::move(job), bounds);
}

asio::awaitable<std::uint64_t> unfinished(Store& store, std::string owner) {
  Result<std::uint64_t> held = co_await store.unfinished_of_owner(std::move(owner));
  BOOST_TEST_REQUIRE(held.ok(), why(held));
  co_return *held;
}

asio::awaitable<void> unfinished_jobs_per_owner_are_bounded_case(Store& store) {
  BOOST_TEST(co_await unfinished(store, "alice") == 0u);
  Job first = owned_job("alice", 2, 5);  // claimed first, every time
  Result<Job> made = co_await create_capped(store, first, 3);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(made.ok());
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(made.ok());
  const Job refused = owned_job("alice");
  Result<Job> fourth = co_await create_capped(store, refused, 3);
  BOOST_TEST_REQUIRE(is(fourth, StoreErrc::quota));
  const std::string message = fourth.error().message;
  BOOST_TEST(message.find("alice has 3 unfinished") != std::string::npos, message);
  BOOST_TEST(co_await unfinished(store, "alice") == 3u);
  Result<Job> gone = co_await store.get(refused.id);
  BOOST_TEST(is(gone, StoreErrc::not_found));  // nothing of it was kept
  // Others, open mode's jobs (no owner) and unbounded creates are not held by alice's cap.
  made = co_await create_capped(store, owned_job("bob"), 3);
  BOOST_TEST(made.ok());
  made = co_await create_capped(store, owned_job(""), 3);
  BOOST_TEST(made.ok());
  made = co_await store.create(owned_job("alice"));
  BOOST_TEST(made.ok());
  BOOST_TEST(co_await unfinished(store, "alice") == 4u);
  BOOST_TEST(co_await unfinished(store, "bob") == 1u);

  // Running still counts; a retry (back to pending) still counts; a final failure frees one.
  Job claimed = co_await must_claim(store, "w1");
  BOOST_TEST(claimed.id == first.id);
  Finish retry;
  retry.state = JobState::failed;
  retry.error = json::object{{"code", "crashed"}, {"message", "signal 9"}};
  retry.retryable = true;
  made = co_await store.finish(first.id, "w1", retry);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST((made->state == JobState::pending));
  BOOST_TEST(co_await unfinished(store, "alice") == 4u);
  claimed = co_await must_claim(store, "w1");
  BOOST_TEST(claimed.id == first.id);
  made = co_await store.finish(first.id, "w1", retry);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST((made->state == JobState::failed));
  BOOST_TEST(co_await unfinished(store, "alice") == 3u);
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(is(made, StoreErrc::quota));

  // Completing or cancelling frees room; deleting a finished job changes nothing.
  claimed = co_await must_claim(store, "w1");
  made = co_await store.finish(claimed.id, "w1", Finish());
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST(co_await unfinished(store, "alice") == 2u);
  ListQuery alices_pending;
  alices_pending.state = JobState::pending;
  alices_pending.owner = "alice";
  Result<JobPage> page = co_await store.list(alices_pending);
  BOOST_TEST_REQUIRE(page.ok(), why(page));
  BOOST_TEST_REQUIRE(page->jobs.size() == 2u);
  made = co_await store.cancel(page->jobs.front().id);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST(co_await unfinished(store, "alice") == 1u);
  Result<Done> removed = co_await store.remove(first.id);
  BOOST_TEST_REQUIRE(removed.ok(), why(removed));
  BOOST_TEST(co_await unfinished(store, "alice") == 1u);
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(made.ok());
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(made.ok());
  made = co_await create_capped(store, owned_job("alice"), 3);
  BOOST_TEST(is(made, StoreErrc::quota));
}

// The calculation cache's part in the store: the latest job of a calculation key is joined by
// the next one (created waiting on it) unless it failed or was cancelled; a wait ends completed
// with the result, or queued; a waiting job can be cancelled.
asio::awaitable<Result<Job>> create_keyed(Store& store, Job job, std::string key, bool join = true) {
  CreateBounds bounds;
  bounds.calculation_key = std::move(key);
  bounds.join_calculation = join;
  co_return co_await store.create(std::move(job), bounds);
}

asio::awaitable<void> calculation_keys_case(Store& store) {
  const std::string key = std::string(64, 'a');
  Result<Job> leader = co_await create_keyed(store, make_job("xtb"), key);
  BOOST_TEST_REQUIRE(leader.ok(), why(leader));
  BOOST_TEST((leader->state == JobState::pending));
  BOOST_TEST(leader->waiting_on.empty());

  // Joined: waiting on the leader, not queued; listed as waiting; counted by the waiters read.
  Result<Job> joined = co_await create_keyed(store, make_job("xtb"), key);
  BOOST_TEST_REQUIRE(joined.ok(), why(joined));
  BOOST_TEST((joined->state == JobState::waiting));
  BOOST_TEST(joined->waiting_on == leader->id);
  Result<Job> got = co_await store.get(joined->id);
  BOOST_TEST_REQUIRE(got.ok());
  BOOST_TEST((got->state == JobState::waiting));
  BOOST_TEST(got->waiting_on == leader->id);
  ListQuery waiting;
  waiting.state = JobState::waiting;
  Result<JobPage> listed = co_await store.list(waiting);
  BOOST_TEST_REQUIRE(listed.ok());
  BOOST_TEST_REQUIRE(listed->jobs.size() == 1u);
  BOOST_TEST(listed->jobs[0].waiting_on == leader->id);
  Result<std::vector<std::string>> waiters = co_await store.waiting_for(leader->id, 10);
  BOOST_TEST_REQUIRE(waiters.ok());
  BOOST_TEST((*waiters == std::vector<std::string>{joined->id}));

  // Another key, or join off: queued (join off makes it the latest of its key).
  Result<Job> other = co_await create_keyed(store, make_job("xtb"), std::string(64, 'b'));
  BOOST_TEST((other->state == JobState::pending));
  Result<Job> fresh = co_await create_keyed(store, make_job("xtb"), key, /*join=*/false);
  BOOST_TEST_REQUIRE(fresh.ok());
  BOOST_TEST((fresh->state == JobState::pending));
  Result<Job> joins_fresh = co_await create_keyed(store, make_job("xtb"), key);
  BOOST_TEST(joins_fresh->waiting_on == fresh->id);
  Result<Job> cancelled = co_await store.cancel(joins_fresh->id);
  BOOST_TEST_REQUIRE(cancelled.ok(), why(cancelled));
  BOOST_TEST((cancelled->state == JobState::cancelled));
  waiters = co_await store.waiting_for(fresh->id, 10);
  BOOST_TEST(waiters->empty());

  // Only a waiting job's wait ends, and only on the job it waits on.
  Finish shared;
  shared.result = json::object{{"energy_eh", -5.07}};
  BOOST_TEST(is(co_await store.resolve_waiting(joined->id, other->id, shared), StoreErrc::conflict));
  BOOST_TEST(is(co_await store.resolve_waiting(leader->id, leader->id, shared), StoreErrc::conflict));
  Result<Job> completed = co_await store.resolve_waiting(joined->id, leader->id, shared);
  BOOST_TEST_REQUIRE(completed.ok(), why(completed));
  BOOST_TEST((completed->state == JobState::completed));
  BOOST_TEST(completed->cached_from == leader->id);
  BOOST_TEST(completed->waiting_on.empty());
  BOOST_TEST(completed->finished_at > 0);
  got = co_await store.get(joined->id);
  BOOST_TEST(got->result == json::value(json::object{{"energy_eh", -5.07}}));
  BOOST_TEST(got->cached_from == leader->id);
  waiters = co_await store.waiting_for(leader->id, 10);
  BOOST_TEST(waiters->empty());
  auto events = co_await all_events(store, joined->id);
  BOOST_TEST(types_of(events) == "submitted,completed");
  BOOST_TEST((events[0].state == JobState::waiting));

  // A failed latest is not joined: the next job leads (and runs).
  Job runs = co_await must_claim(store, "w");
  BOOST_TEST(runs.id == leader->id);
  Finish failed;
  failed.state = JobState::failed;
  failed.error = json::object{{"code", "engine_failed"}, {"message", "x"}};
  Result<Job> leader_failed = co_await store.finish(leader->id, "w", failed);
  BOOST_TEST_REQUIRE(leader_failed.ok());
  const std::string key2 = std::string(64, 'c');
  Result<Job> first = co_await create_keyed(store, make_job("xtb"), key2);
  Result<Job> second = co_await create_keyed(store, make_job("xtb"), key2);
  BOOST_TEST_REQUIRE(second.ok());
  BOOST_TEST(second->waiting_on == first->id);
  Result<Job> cancelled_first = co_await store.cancel(first->id);
  BOOST_TEST_REQUIRE(cancelled_first.ok());
  Result<Job> third = co_await create_keyed(store, make_job("xtb"), key2);
  BOOST_TEST((third->state == JobState::pending));  // the latest was cancelled: it leads

  // A wait that ends without a result: queued, and claimable like any pending job.
  Finish queue_it;
  queue_it.state = JobState::pending;
  Result<Job> queued = co_await store.resolve_waiting(second->id, first->id, queue_it);
  BOOST_TEST_REQUIRE(queued.ok(), why(queued));
  BOOST_TEST((queued->state == JobState::pending));
  events = co_await all_events(store, second->id);
  BOOST_TEST(types_of(events) == "submitted,queued");
  bool claimed_it = false;
  for (int i = 0; i < 5 && !claimed_it; ++i) {
    Result<std::optional<Job>> next = co_await store.claim("w", 30s);
    BOOST_TEST_REQUIRE(next.ok());
    if (!next->has_value()) break;
    claimed_it = (*next)->id == second->id;
  }
  BOOST_TEST(claimed_it);
}

// A job with threads costs that many slots of a claim (at most the instance's total); one that
// does not fit stays first in the queue, so small jobs behind it do not overtake it.
asio::awaitable<void> claims_count_threads_against_slots_case(Store& store) {
  Job wide = make_job("xtb");
  wide.spec["threads"] = 2;
  Job narrow = make_job("xtb");
  co_await must_create(store, wide);
  co_await must_create(store, narrow);
  ClaimBudget one{.slots = 1, .total_slots = 4, .in_process = 8};
  Result<std::vector<Job>> claimed = co_await store.claim_within("w", 30s, one);
  BOOST_TEST_REQUIRE(claimed.ok(), why(claimed));
  BOOST_TEST(claimed->empty());  // the wide job is first and needs 2
  ClaimBudget two = one;
  two.slots = 2;
  claimed = co_await store.claim_within("w", 30s, two);
  BOOST_TEST_REQUIRE(claimed.ok(), why(claimed));
  BOOST_TEST_REQUIRE(claimed->size() == 1u);  // 2 slots: the wide job only
  BOOST_TEST(claimed->front().id == wide.id);
  BOOST_TEST(claimed->front().threads() == 2);
  // More threads than the instance has: it costs all of them, not more (it still runs).
  Job wider = make_job("xtb");
  wider.spec["threads"] = 16;
  co_await must_create(store, wider);
  ClaimBudget all = one;
  all.slots = 5;
  claimed = co_await store.claim_within("w", 30s, all);
  BOOST_TEST_REQUIRE(claimed.ok(), why(claimed));
  BOOST_TEST_REQUIRE(claimed->size() == 2u);  // narrow (1) and wider (capped at 4)
  BOOST_TEST(claimed->at(0).id == narrow.id);
  BOOST_TEST(claimed->at(1).id == wider.id);
}

// A job whose run_at is still to come is scheduled: not claimable, and not joined to its
// calculation; promote_due moves it to the queue once due (event `scheduled`); cancellable.
asio::awaitable<void> scheduled_jobs_wait_until_due_case(Store& store) {
  Job later = make_job("xtb");
  later.spec["run_at"] = to_rfc3339(now_ms() + 400);
  Job cancelled = make_job("xtb");
  cancelled.spec["run_at"] = to_rfc3339(now_ms() + 60000);
  Job past = make_job("xtb");
  past.spec["run_at"] = to_rfc3339(now_ms() - 1000);
  Result<Job> made = co_await create_keyed(store, later, std::string(64, 'd'));
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST((made->state == JobState::scheduled));
  BOOST_TEST(made->waiting_on.empty());
  made = co_await store.create(cancelled);
  BOOST_TEST((made->state == JobState::scheduled));
  made = co_await store.create(past);
  BOOST_TEST((made->state == JobState::pending));  // already due
  Result<std::optional<Job>> claimed = co_await store.claim("w", 30s);
  BOOST_TEST_REQUIRE(claimed.ok());
  BOOST_TEST_REQUIRE(claimed->has_value());
  BOOST_TEST((*claimed)->id == past.id);
  claimed = co_await store.claim("w", 30s);
  BOOST_TEST(!claimed->has_value());  // the scheduled ones are not in the queue
  Result<std::size_t> moved = co_await store.promote_due();
  BOOST_TEST_REQUIRE(moved.ok(), why(moved));
  BOOST_TEST(*moved == 0u);
  ListQuery scheduled;
  scheduled.state = JobState::scheduled;
  Result<JobPage> listed = co_await store.list(scheduled);
  BOOST_TEST(listed->jobs.size() == 2u);
  Result<Job> stopped = co_await store.cancel(cancelled.id);
  BOOST_TEST_REQUIRE(stopped.ok(), why(stopped));
  BOOST_TEST((stopped->state == JobState::cancelled));

  co_await sleep_for(450ms);
  moved = co_await store.promote_due();
  BOOST_TEST_REQUIRE(moved.ok(), why(moved));
  BOOST_TEST(*moved == 1u);  // the cancelled one is not promoted
  moved = co_await store.promote_due();
  BOOST_TEST(*moved == 0u);
  claimed = co_await store.claim("w", 30s);
  BOOST_TEST_REQUIRE(claimed->has_value());
  BOOST_TEST((*claimed)->id == later.id);
  auto events = co_await all_events(store, later.id);
  BOOST_TEST(types_of(events) == "submitted,scheduled,started");
  BOOST_TEST((events[0].state == JobState::scheduled));
  BOOST_TEST((events[1].state == JobState::pending));
}
// Workflows: a job created waiting on a parent (CreateBounds::wait_on, whatever its calculation
// key says) moves its wait to the next parent (a `progress` event naming it), then is queued
// with the spec it will run (its molecule taken from the parent) and claimed like any job.
asio::awaitable<void> dependency_waits_case(Store& store) {
  Job first = make_job("xtb");
  Job second = make_job("xtb");
  co_await must_create(store, first);
  co_await must_create(store, second);
  CreateBounds after_first;
  after_first.wait_on = first.id;
  after_first.calculation_key = std::string(64, 'e');
  Result<Job> child = co_await store.create(make_job("xtb"), after_first);
  BOOST_TEST_REQUIRE(child.ok(), why(child));
  BOOST_TEST((child->state == JobState::waiting));
  BOOST_TEST(child->waiting_on == first.id);
  Result<QueueStats> counted = co_await store.stats();
  BOOST_TEST_REQUIRE(counted.ok());
  BOOST_TEST(counted->waiting == 1u);  // what a batch's check against max_queued counts too
  Result<std::vector<std::string>> waiters = co_await store.waiting_for(first.id, 10);
  BOOST_TEST((*waiters == std::vector<std::string>{child->id}));

  // The first parent ended: the child now waits on the second.
  Finish next;
  next.state = JobState::waiting;
  next.wait_on = second.id;
  Result<Job> moved = co_await store.resolve_waiting(child->id, first.id, next);
  BOOST_TEST_REQUIRE(moved.ok(), why(moved));
  BOOST_TEST((moved->state == JobState::waiting));
  BOOST_TEST(moved->waiting_on == second.id);
  waiters = co_await store.waiting_for(first.id, 10);
  BOOST_TEST(waiters->empty());
  waiters = co_await store.waiting_for(second.id, 10);
  BOOST_TEST((*waiters == std::vector<std::string>{child->id}));
  BOOST_TEST(is(co_await store.resolve_waiting(child->id, first.id, next), StoreErrc::conflict));
  Result<Job> got = co_await store.get(child->id);
  BOOST_TEST(got->waiting_on == second.id);

  // Both parents done: queued with the spec it runs.
  Finish queue_it;
  queue_it.state = JobState::pending;
  queue_it.spec = child->spec;
  queue_it.spec["name"] = "from its parent";
  Result<Job> queued = co_await store.resolve_waiting(child->id, second.id, queue_it);
  BOOST_TEST_REQUIRE(queued.ok(), why(queued));
  BOOST_TEST((queued->state == JobState::pending));
  got = co_await store.get(child->id);
  BOOST_TEST(got->spec.at("name").as_string() == "from its parent");
  BOOST_TEST(got->waiting_on.empty());
  auto events = co_await all_events(store, child->id);
  BOOST_TEST(types_of(events) == "submitted,progress,queued");
  BOOST_TEST(events[1].data.at("waiting_on").as_string() == second.id);
  bool claimed_it = false;
  for (int i = 0; i < 5 && !claimed_it; ++i) {
    Result<std::optional<Job>> claimed = co_await store.claim("w", 30s);
    BOOST_TEST_REQUIRE(claimed.ok());
    if (!claimed->has_value()) break;
    claimed_it = (*claimed)->id == child->id;
    if (claimed_it) BOOST_TEST((*claimed)->spec.at("name").as_string() == "from its parent");
  }
  BOOST_TEST(claimed_it);

  // A failed parent fails its waiting child.
  Result<Job> orphan = co_await store.create(make_job("xtb"), after_first);
  Finish fail_it;
  fail_it.state = JobState::failed;
  fail_it.error = json::object{{"code", "dependency_failed"}, {"message", "x"}};
  Result<Job> failed = co_await store.resolve_waiting(orphan->id, first.id, fail_it);
  BOOST_TEST_REQUIRE(failed.ok(), why(failed));
  BOOST_TEST((failed->state == JobState::failed));
  got = co_await store.get(orphan->id);
  BOOST_TEST(got->error.at("code").as_string() == "dependency_failed");
}
// POST /jobs/{id}/retry: a failed or cancelled job runs again as the same job, its history and
// attempts kept, its last error gone, with a new spec when one is given; nothing else retries.
asio::awaitable<void> retry_by_hand_case(Store& store) {
  Job job = make_job("xtb");
  job.owner = "alice";
  co_await must_create(store, job);
  Job running = co_await must_claim(store, "w");
  Finish failed;
  failed.state = JobState::failed;
  failed.error = json::object{{"code", "scf_not_converged"}, {"message", "x"}};
  BOOST_TEST_REQUIRE((co_await store.finish(job.id, "w", failed)).ok());
  Result<std::uint64_t> held = co_await store.unfinished_of_owner("alice");
  BOOST_TEST(*held == 0u);
  json::object spec = running.spec;
  spec["keywords"] = json::object{{"electronic_temperature", 1000}};
  const json::object by_request{{"by", "request"}};
  Result<Job> again = co_await store.retry(job.id, spec, by_request);
  BOOST_TEST_REQUIRE(again.ok(), why(again));
  BOOST_TEST((again->state == JobState::pending));
  BOOST_TEST(again->error.is_null());
  held = co_await store.unfinished_of_owner("alice");
  BOOST_TEST(*held == 1u);  // unfinished again
  BOOST_TEST(is(co_await store.retry(job.id, {}, {}), StoreErrc::conflict));  // pending: nothing to retry
  Job second = co_await must_claim(store, "w");
  BOOST_TEST(second.id == job.id);
  BOOST_TEST(second.attempts == 2);
  BOOST_TEST(second.spec.at("keywords").at("electronic_temperature").to_number<double>() == 1000.0);
  Finish done;
  done.result = json::object{{"energy_eh", -5.0}};
  BOOST_TEST_REQUIRE((co_await store.finish(job.id, "w", done)).ok());
  BOOST_TEST(is(co_await store.retry(job.id, {}, {}), StoreErrc::conflict));  // completed
  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,failed,retrying,started,completed");
  BOOST_TEST(events[3].data.at("by").as_string() == "request");
  // A cancelled job too, its spec unchanged when none is given.
  Job other = make_job("xtb");
  co_await must_create(store, other);
  BOOST_TEST_REQUIRE((co_await store.cancel(other.id)).ok());
  Result<Job> revived = co_await store.retry(other.id, {}, by_request);
  BOOST_TEST_REQUIRE(revived.ok(), why(revived));
  Result<Job> got = co_await store.get(other.id);
  BOOST_TEST((got->state == JobState::pending));
  BOOST_TEST(got->spec == other.spec);
  BOOST_TEST(is(co_await store.retry(new_job_id(), {}, {}), StoreErrc::not_found));
}
// Back-pressure: at most max_unfinished_total unfinished jobs in the whole store, whoever owns
// them (scheduled and waiting ones count); a job that ends frees room for one more.
asio::awaitable<void> unfinished_jobs_in_all_are_bounded_case(Store& store) {
  CreateBounds two;
  two.max_unfinished_total = 2;
  Job first = make_job("xtb");
  first.owner = "alice";
  Result<Job> made = co_await store.create(first, two);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  Job later = make_job("xtb");
  later.spec["run_at"] = to_rfc3339(now_ms() + 60000);  // scheduled counts too
  made = co_await store.create(later, two);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  Job refused = make_job("xtb");
  refused.owner = "bob";
  made = co_await store.create(refused, two);
  BOOST_TEST_REQUIRE(is(made, StoreErrc::busy));
  BOOST_TEST(made.error().message.find("max_queued") != std::string::npos, made.error().message);
  BOOST_TEST(is(co_await store.get(refused.id), StoreErrc::not_found));
  made = co_await store.create(make_job("xtb"));  // unbounded creates are not held
  BOOST_TEST(made.ok());
  BOOST_TEST_REQUIRE((co_await store.cancel(made->id)).ok());
  BOOST_TEST_REQUIRE((co_await store.cancel(later.id)).ok());
  made = co_await store.create(refused, two);  // one ended: room again
  BOOST_TEST(made.ok(), why(made));
}

// A claim leaves the jobs of excluded engines (an engine the instance's circuit breaker took
// out) in their place and takes the jobs behind them.
asio::awaitable<void> claims_skip_excluded_engines_case(Store& store) {
  Job broken = make_job("mopac", 5);
  Job fine = make_job("xtb");
  co_await must_create(store, broken);
  co_await must_create(store, fine);
  ClaimBudget budget{.slots = 4, .total_slots = 4, .in_process = 4};
  budget.excluded_engines = {"mopac"};
  Result<std::vector<Job>> claimed = co_await store.claim_within("w", 30s, budget);
  BOOST_TEST_REQUIRE(claimed.ok(), why(claimed));
  BOOST_TEST_REQUIRE(claimed->size() == 1u);
  BOOST_TEST(claimed->front().id == fine.id);
  Result<Job> left = co_await store.get(broken.id);
  BOOST_TEST((left->state == JobState::pending));
  budget.excluded_engines.clear();
  claimed = co_await store.claim_within("w", 30s, budget);  // still first in line for others
  BOOST_TEST_REQUIRE(claimed->size() == 1u);
  BOOST_TEST(claimed->front().id == broken.id);
}
// A failed attempt that runs again after a backoff is scheduled until retry_at (not claimable),
// then queued by promote_due, and runs with the spec the retry rule gave it.
asio::awaitable<void> retries_wait_out_their_backoff_case(Store& store) {
  Job job = make_job("xtb", 0, {}, /*max_attempts=*/2);
  co_await must_create(store, job);
  Job running = co_await must_claim(store, "w");
  Finish failed;
  failed.state = JobState::failed;
  failed.error = json::object{{"code", "scf_not_converged"}, {"message", "x"}};
  failed.retryable = true;
  failed.retry_at = now_ms() + 300;
  failed.spec = running.spec;
  failed.spec["keywords"] = json::object{{"electronic_temperature", 1000}};
  failed.retry_note = json::object{{"next_attempt_at", to_rfc3339(failed.retry_at)}};
  Result<Job> retried = co_await store.finish(job.id, "w", failed);
  BOOST_TEST_REQUIRE(retried.ok(), why(retried));
  BOOST_TEST((retried->state == JobState::scheduled));
  Result<std::optional<Job>> claimed = co_await store.claim("w", 30s);
  BOOST_TEST(!claimed->has_value());  // waiting out its backoff
  co_await sleep_for(350ms);
  Result<std::size_t> moved = co_await store.promote_due();
  BOOST_TEST(*moved == 1u);
  Job again = co_await must_claim(store, "w");
  BOOST_TEST(again.id == job.id);
  BOOST_TEST(again.attempts == 2);
  BOOST_TEST(again.spec.at("keywords").at("electronic_temperature").to_number<double>() == 1000.0);
  auto events = co_await all_events(store, job.id);
  BOOST_TEST(types_of(events) == "submitted,started,retrying,scheduled,started");
  BOOST_TEST((events[2].state == JobState::scheduled));
  BOOST_TEST(events[2].data.at("next_attempt_at").as_string() == to_rfc3339(failed.retry_at));
  // The last attempt fails for good, whatever retry_at says.
  Result<Job> final_failure = co_await store.finish(job.id, "w", failed);
  BOOST_TEST_REQUIRE(final_failure.ok(), why(final_failure));
  BOOST_TEST((final_failure->state == JobState::failed));
  Result<std::size_t> none = co_await store.promote_due();
  BOOST_TEST(*none == 0u);
}
// Routing: a claim takes from the lanes its instance may take from (tags offered, queues
// served, not paused, under the queue's concurrency), best job first; GET /queue's counts follow.
asio::awaitable<void> routing_lanes_and_counts_case(Store& store) {
  Job for_gpu = make_job("xtb", 9);
  for_gpu.spec["requires"] = json::array{"gpu"};
  Job nightly = make_job("xtb", 5);
  nightly.spec["queue"] = "nightly";
  Job plain = make_job("xtb", 1);
  for (Job* job : {&for_gpu, &nightly, &plain}) co_await must_create(store, *job);
  Result<QueueOverview> overview = co_await store.queue_overview();
  BOOST_TEST_REQUIRE(overview.ok(), why(overview));
  BOOST_TEST(overview->pending == 3u);
  BOOST_TEST(overview->pending_by_priority[9] == 1u);
  BOOST_TEST(overview->pending_by_requirement["gpu"] == 1u);
  BOOST_TEST(overview->queues["nightly"].pending == 1u);
  BOOST_TEST(overview->queues["default"].pending == 2u);
  BOOST_TEST(overview->oldest_pending_created_at == for_gpu.created_at);
  Result<QueueStats> stats = co_await store.stats();
  BOOST_TEST(stats->pending == 3u);

  ClaimBudget budget;
  budget.slots = budget.in_process = 1;
  {
    auto step = co_await store.control_queue("nightly", QueueControlChange{.paused = true});
    BOOST_TEST_REQUIRE(step.ok());
    BOOST_TEST(step->paused);
    BOOST_TEST(step->concurrency == 0u);
  }
  Result<std::vector<Job>> claimed = co_await store.claim_within("w", 30s, budget);  // no gpu, nightly paused
  BOOST_TEST_REQUIRE(claimed->size() == 1u);
  BOOST_TEST(claimed->front().id == plain.id);
  claimed = co_await store.claim_within("w", 30s, budget);
  BOOST_TEST(claimed->empty());
  budget.served_queues = {"default"};
  {
    // Two changes of different controls both count: the concurrency keeps the pause...
    auto step = co_await store.control_queue("nightly", QueueControlChange{.concurrency = 1});
    BOOST_TEST_REQUIRE(step.ok());
    BOOST_TEST(step->paused);
    BOOST_TEST(step->concurrency == 1u);
    // ...and the resume keeps the concurrency.
    step = co_await store.control_queue("nightly", QueueControlChange{.paused = false});
    BOOST_TEST_REQUIRE(step.ok());
    BOOST_TEST(!step->paused);
    BOOST_TEST(step->concurrency == 1u);
  }
  claimed = co_await store.claim_within("w", 30s, budget);  // serves only default
  BOOST_TEST(claimed->empty());
  budget.served_queues.clear();
  budget.offered_tags = {"gpu", "fast"};
  budget.slots = budget.in_process = 4;
  claimed = co_await store.claim_within("w", 30s, budget);
  BOOST_TEST_REQUIRE(claimed->size() == 2u);
  BOOST_TEST(claimed->at(0).id == for_gpu.id);  // the best head among the lanes
  BOOST_TEST(claimed->at(1).id == nightly.id);
  Job second_nightly = make_job("xtb");
  second_nightly.spec["queue"] = "nightly";
  co_await must_create(store, second_nightly);
  claimed = co_await store.claim_within("w", 30s, budget);  // nightly runs one at a time
  BOOST_TEST(claimed->empty());
  overview = co_await store.queue_overview();
  BOOST_TEST(overview->queues["nightly"].running == 1u);
  BOOST_TEST(overview->queues["nightly"].control.concurrency == 1u);
  BOOST_TEST(overview->running == 3u);
  Finish done;
  {
    auto step = co_await store.finish(nightly.id, "w", done);
    BOOST_TEST(step.ok());
  }
  claimed = co_await store.claim_within("w", 30s, budget);
  BOOST_TEST_REQUIRE(claimed->size() == 1u);
  BOOST_TEST(claimed->front().id == second_nightly.id);
  {
    auto step = co_await store.control_queue("nightly", QueueControlChange{.paused = false, .concurrency = 0});
    BOOST_TEST_REQUIRE(step.ok());
    BOOST_TEST(!step->paused);
    BOOST_TEST(step->concurrency == 0u);
  }
  overview = co_await store.queue_overview();
  BOOST_TEST(overview->pending == 0u);
  BOOST_TEST(!overview->queues["nightly"].control.paused);
  BOOST_TEST(overview->queues["nightly"].control.concurrency == 0u);
}
// Schedules: created once, saved only over the revision read, due by their next fire time
// while not paused.
asio::awaitable<void> schedules_are_saved_over_their_revision_case(Store& store) {
  ScheduleRecord schedule{"s1", "alice", R"({"cron":"* * * * *"})", now_ms() - 1000, false, 0};
  Result<ScheduleRecord> created = co_await store.create_schedule(schedule);
  BOOST_TEST_REQUIRE(created.ok(), why(created));
  BOOST_TEST(created->revision == 1u);
  {
    auto step = co_await store.create_schedule(schedule);
    BOOST_TEST((!step.ok() && step.error().code == StoreErrc::conflict));
  }
  ScheduleRecord later{"s2", "bob", "{}", now_ms() + 60000, false, 0};
  {
    auto step = co_await store.create_schedule(later);
    BOOST_TEST(step.ok());
  }
  Result<std::vector<std::string>> due = co_await store.due_schedules(now_ms(), 10);
  BOOST_TEST_REQUIRE(due.ok(), why(due));
  BOOST_TEST((*due == std::vector<std::string>{"s1"}));
  ScheduleRecord advanced = *created;
  advanced.next_fire_at = now_ms() + 60000;
  Result<ScheduleRecord> saved = co_await store.save_schedule(advanced);
  BOOST_TEST_REQUIRE(saved.ok(), why(saved));
  BOOST_TEST(saved->revision == 2u);
  {
    auto step = co_await store.save_schedule(advanced);
    BOOST_TEST((!step.ok() && step.error().code == StoreErrc::conflict));
  }
  {
    auto step = co_await store.due_schedules(now_ms(), 10);
    BOOST_TEST((step.ok() && step->empty()));
  }
  ScheduleRecord paused = *saved;
  paused.paused = true;
  paused.next_fire_at = now_ms() - 5;
  {
    auto step = co_await store.save_schedule(paused);
    BOOST_TEST(step.ok());
  }
  {
    auto step = co_await store.due_schedules(now_ms(), 10);
    BOOST_TEST((step.ok() && step->empty()));
  }
  Result<ScheduleRecord> read = co_await store.get_schedule("s1");
  BOOST_TEST_REQUIRE(read.ok(), why(read));
  BOOST_TEST(read->paused);
  BOOST_TEST(read->owner == "alice");
  BOOST_TEST(read->body == R"({"cron":"* * * * *"})");
  BOOST_TEST(read->revision == 3u);
  {
    auto step = co_await store.list_schedules("");
    BOOST_TEST((step.ok() && step->size() == 2u));
  }
  Result<std::vector<ScheduleRecord>> bobs = co_await store.list_schedules("bob");
  BOOST_TEST_REQUIRE(bobs->size() == 1u);
  BOOST_TEST(bobs->front().id == "s2");
  {
    auto step = co_await store.remove_schedule("s1");
    BOOST_TEST(step.ok());
  }
  {
    auto step = co_await store.get_schedule("s1");
    BOOST_TEST((!step.ok() && step.error().code == StoreErrc::not_found));
  }
  {
    auto step = co_await store.remove_schedule("s1");
    BOOST_TEST((!step.ok() && step.error().code == StoreErrc::not_found));
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(store_contract)

#define NOX_CONTRACT_CASE(name)                            \
  BOOST_AUTO_TEST_CASE_TEMPLATE(name, Backend, Backends) { \
    Backend backend;                                       \
    run_task(backend.ioc, name##_case(*backend.store));    \
  }

NOX_CONTRACT_CASE(create_and_get)
NOX_CONTRACT_CASE(status_json)
NOX_CONTRACT_CASE(list_pages_and_filters)
NOX_CONTRACT_CASE(claim_by_priority_then_age)
NOX_CONTRACT_CASE(finish_is_a_compare_and_set)
NOX_CONTRACT_CASE(failures_retry_while_attempts_remain)
NOX_CONTRACT_CASE(cancel)
NOX_CONTRACT_CASE(remove)
NOX_CONTRACT_CASE(progress)
NOX_CONTRACT_CASE(leases_expire_and_requeue)
NOX_CONTRACT_CASE(read_events_after_an_id)
NOX_CONTRACT_CASE(read_events_waits_for_new_ones)
NOX_CONTRACT_CASE(job_events)
NOX_CONTRACT_CASE(artifacts)
NOX_CONTRACT_CASE(copy_artifacts)
NOX_CONTRACT_CASE(workers)
NOX_CONTRACT_CASE(retention_sweep)
NOX_CONTRACT_CASE(wait_for_work)
NOX_CONTRACT_CASE(lost_attempts_have_their_own_budget)
NOX_CONTRACT_CASE(fresh_heartbeat_keeps_its_leases)
NOX_CONTRACT_CASE(dead_instance_is_taken_over_at_once)
NOX_CONTRACT_CASE(list_filters_on_a_big_store)
NOX_CONTRACT_CASE(remembered_answers)
NOX_CONTRACT_CASE(unfinished_jobs_per_owner_are_bounded)
NOX_CONTRACT_CASE(calculation_keys)
NOX_CONTRACT_CASE(claims_count_threads_against_slots)
NOX_CONTRACT_CASE(scheduled_jobs_wait_until_due)
NOX_CONTRACT_CASE(dependency_waits)
NOX_CONTRACT_CASE(retry_by_hand)
NOX_CONTRACT_CASE(unfinished_jobs_in_all_are_bounded)
NOX_CONTRACT_CASE(claims_skip_excluded_engines)
NOX_CONTRACT_CASE(retries_wait_out_their_backoff)
NOX_CONTRACT_CASE(routing_lanes_and_counts)
NOX_CONTRACT_CASE(schedules_are_saved_over_their_revision)

BOOST_AUTO_TEST_SUITE_END()

// What only the memory store has: the files on disk behind its artifact listing.
BOOST_AUTO_TEST_SUITE(memory_store_files)

// A copy whose source loses a file midway (the source job removed while the file thread links)
// used to leave the files linked before it in the target's directory and the target's own file
// of that name deleted while still listed.
asio::awaitable<void> failed_copy_case(MemoryBackend& backend) {
  MemoryStore& store = *backend.store;
  Job original = co_await must_create(store, make_job());
  Job target = co_await must_create(store, make_job());
  std::vector<Artifact> originals = {{"a.xyz", "chemical/x-xyz", "3\n\nO 0 0 0\n"},
                                     {"b.txt", "text/plain", "the original's"}};
  std::vector<Artifact> own = {{"b.txt", "text/plain", "the target's own"}};
  BOOST_TEST_REQUIRE((co_await store.put_artifacts(original.id, originals)).ok());
  BOOST_TEST_REQUIRE((co_await store.put_artifacts(target.id, own)).ok());
  const std::filesystem::path data = backend.dir.path();
  std::filesystem::remove(data / "artifacts" / original.id / "b.txt");

  Result<Done> copied = co_await store.copy_artifacts(original.id, target.id);
  BOOST_TEST(is(copied, StoreErrc::unavailable));
  Result<std::vector<ArtifactInfo>> listed = co_await store.list_artifacts(target.id);
  BOOST_TEST_REQUIRE(listed->size() == 1u);
  BOOST_TEST((*listed)[0].name == "b.txt");
  Result<std::string> kept = co_await store.read_artifact(target.id, "b.txt", 0, 100);
  BOOST_TEST_REQUIRE(kept.ok(), why(kept));
  BOOST_TEST(*kept == own[0].bytes);
  std::vector<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(data / "artifacts" / target.id))
    on_disk.push_back(entry.path().filename().string());
  BOOST_TEST(on_disk == std::vector<std::string>{"b.txt"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_copy_that_fails_midway_leaves_the_target_as_it_was) {
  MemoryBackend backend;
  run_task(backend.ioc, failed_copy_case(backend));
}

BOOST_AUTO_TEST_SUITE_END()
