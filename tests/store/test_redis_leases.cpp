// RedisStore's scripts at scale and under outages, driven through the store: lost attempts
// have their own budget, a live instance keeps its leases (and time while nobody reached
// Redis does not count), a dead one loses them at once, the secondary indexes answer every
// filter in a few commands, and per-job keys stay bounded.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/job_id.hpp"
#include "storage/redis/redis_connection.hpp"
#include "storage/redis/job_blob.hpp"
#include "storage/redis/redis_store.hpp"
#include "tests/store/redis_store_env.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using namespace nox;
using nox::redis::Command;
using nox::redis::Reply;
using nox::test::run_task;

namespace {

using Env = test::RedisStoreEnv;

Job make_job(std::string engine = "echo", std::vector<std::string> tags = {"bench"}, TimeMs created_at = 0) {
  Job job;
  job.id = new_job_id();
  json::array tag_array;
  for (auto& t : tags) tag_array.emplace_back(t);
  job.spec = {{"engine", engine},
              {"task", "energy"},
              {"method", "gfn2"},
              {"molecule", {{"xyz", "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}}},
              {"tags", tag_array}};
  job.created_at = created_at ? created_at : now_ms();
  return job;
}

// run_task needs a default-constructible value: the wrappers answer optional<Result<T>>.
template <class T>
Result<T> go(Env& env, asio::awaitable<std::optional<Result<T>>> task) {
  return *run_task(env.ioc, std::move(task));
}

std::string why(const StoreError& e) { return e.message; }
template <class T>
std::string why(const Result<T>& r) {
  return r.ok() ? std::string() : why(r.error());
}

asio::awaitable<std::optional<Result<Job>>> create(RedisStore* store, Job job) {
  Result<Job> r = co_await store->create(std::move(job));
  co_return r;
}

asio::awaitable<void> create_into(RedisStore* store, Job job, int* left) {
  Result<Job> r = co_await store->create(std::move(job));
  if (!r) throw std::runtime_error("create: " + why(r));
  --*left;
}

asio::awaitable<std::string> claim_id(RedisStore* store, std::string worker, Lease lease = 30s) {
  Result<std::optional<Job>> r = co_await store->claim(worker, lease);
  if (!r) co_return "error: " + why(r);
  co_return *r ? (*r)->id : std::string();
}

asio::awaitable<std::optional<Result<Job>>> finish(RedisStore* store, std::string id, std::string worker, Finish done) {
  Result<Job> r = co_await store->finish(id, worker, done);
  co_return r;
}

asio::awaitable<std::optional<Result<Job>>> get(RedisStore* store, std::string id) {
  Result<Job> r = co_await store->get(id);
  co_return r;
}

asio::awaitable<std::size_t> requeue(RedisStore* store) {
  Result<std::size_t> r = co_await store->requeue_expired();
  if (!r) throw std::runtime_error("requeue_expired: " + why(r));
  co_return *r;
}

asio::awaitable<void> beat(RedisStore* store, std::string id, std::chrono::milliseconds ttl) {
  WorkerInfo me{id, "host", "127.0.0.1:1", 2, 1, now_ms(), 0};
  auto r = co_await store->heartbeat(me, ttl);
  if (!r) throw std::runtime_error("heartbeat: " + why(r));
}

asio::awaitable<std::vector<JobEvent>> history(RedisStore* store, std::string id) {
  Result<std::vector<JobEvent>> r = co_await store->job_events(id);
  if (!r) throw std::runtime_error("job_events: " + why(r));
  co_return *r;
}

asio::awaitable<std::optional<Result<JobPage>>> list_page(RedisStore* store, ListQuery query) {
  Result<JobPage> r = co_await store->list(query);
  co_return r;
}

asio::awaitable<void> progress(RedisStore* store, std::string id, int n) {
  for (int i = 0; i < n; ++i) {
    json::object numbers{{"step", i}};
    Result<Done> r = co_await store->record_progress(id, std::move(numbers));
    if (!r) throw std::runtime_error("progress: " + why(r));
  }
}

asio::awaitable<std::optional<Result<Job>>> cancel(RedisStore* store, std::string id) {
  Result<Job> r = co_await store->cancel(id);
  co_return r;
}

asio::awaitable<std::optional<Result<Done>>> remove(RedisStore* store, std::string id) {
  Result<Done> r = co_await store->remove(id);
  co_return r;
}

asio::awaitable<std::size_t> sweep(RedisStore* store, std::chrono::milliseconds retention) {
  Result<std::size_t> r = co_await store->sweep_retention(retention);
  if (!r) throw std::runtime_error(why(r));
  co_return *r;
}

Finish retryable_failure() {
  Finish f;
  f.state = JobState::failed;
  f.error = json::object{{"code", "engine_failed"}, {"message", "crashed"}};
  f.retryable = true;
  return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_leases)

// --- A: lost attempts have their own budget ---

BOOST_AUTO_TEST_CASE(a_lost_attempt_runs_again_until_max_lost_and_spends_no_attempt) {
  Env env;
  RedisStore& store = env.open();
  Job job = make_job();
  job.max_attempts = 1;
  job.max_lost = 2;
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  for (int round = 1; round <= 3; ++round) {
    const std::string worker = "w" + std::to_string(round);
    BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, worker)) == job.id);
    // The lease runs out (its owner never heartbeat: only the lease tells).
    env.redis(Command{"ZADD", store.key("leases"), "1", job.id});
    BOOST_TEST(run_task(env.ioc, requeue(&store)) == 1u);
    Result<Job> now = go(env, get(&store, job.id));
    BOOST_TEST_REQUIRE(now.ok());
    BOOST_TEST(now->lost == round);
    BOOST_TEST(now->attempts == round);
    if (round <= 2) {
      BOOST_TEST((now->state == JobState::pending), "round " << round);
    } else {
      BOOST_TEST((now->state == JobState::failed));
      BOOST_TEST(now->error.at("code").as_string() == "lost");
      const std::string message(now->error.at("message").as_string());
      BOOST_TEST(message.find("3 times") != std::string::npos, message);
      BOOST_TEST(env.score(store.key("idx:failed:echo"), job.id).has_value());
    }
  }
  const auto events = run_task(env.ioc, history(&store, job.id));
  std::vector<std::string> types;
  for (const auto& e : events) types.emplace_back(to_string(e.type));
  BOOST_TEST(types == (std::vector<std::string>{"submitted", "started", "retrying", "started", "retrying",
                                                "started", "failed"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(max_attempts_bounds_only_the_jobs_own_failures) {
  Env env;
  RedisStore& store = env.open();
  Job job = make_job();
  job.max_attempts = 2;
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "dies")) == job.id);
  env.redis(Command{"ZADD", store.key("leases"), "1", job.id});
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 1u);
  // Attempt 2 fails on its own: the first own failure of 2 allowed, so it runs again.
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w")) == job.id);
  Result<Job> after = go(env, finish(&store, job.id, "w", retryable_failure()));
  BOOST_TEST_REQUIRE(after.ok(), why(after));
  BOOST_TEST((after->state == JobState::pending));
  BOOST_TEST(env.score(store.key("idx:pending:echo"), job.id).has_value());
  BOOST_TEST(!env.score(store.key("idx:running:echo"), job.id).has_value());
  // Attempt 3: the second own failure ends it.
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w")) == job.id);
  after = go(env, finish(&store, job.id, "w", retryable_failure()));
  BOOST_TEST_REQUIRE(after.ok(), why(after));
  BOOST_TEST((after->state == JobState::failed));
  BOOST_TEST(after->attempts == 3);
  BOOST_TEST(after->lost == 1);
}

// --- B: leases that survive outages, takeover of dead instances ---

BOOST_AUTO_TEST_CASE(a_live_owner_keeps_its_expired_lease) {
  Env env;
  RedisStore& store = env.open();
  Job job = make_job();
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  run_task(env.ioc, beat(&store, "alive", 10s));
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "alive")) == job.id);
  env.redis(Command{"ZADD", store.key("leases"), "1", job.id});  // renewals were missed
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 0u);
  BOOST_TEST((go(env, get(&store, job.id))->state == JobState::running));
  // The lease now ends with the owner's heartbeat: looked at again only then.
  BOOST_TEST(*env.score(store.key("leases"), job.id) == *env.score(store.key("workers_seen"), "alive"));
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 0u);
}

BOOST_AUTO_TEST_CASE(a_dead_owners_jobs_are_taken_back_at_once) {
  Env env;
  RedisStore& store = env.open();
  Job mine = make_job(), theirs = make_job();
  BOOST_TEST_REQUIRE(go(env, create(&store, mine)).ok());
  BOOST_TEST_REQUIRE(go(env, create(&store, theirs)).ok());
  run_task(env.ioc, beat(&store, "dead", 10s));
  run_task(env.ioc, beat(&store, "alive", 10s));
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "dead", 300s)) == mine.id);
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "alive", 300s)) == theirs.id);
  // "dead" stops heartbeating: its heartbeat runs out long before its 300 s lease.
  env.redis(Command{"ZADD", store.key("workers_seen"), std::to_string(env.redis_now() - 1), "dead"});
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 1u);
  Result<Job> taken = go(env, get(&store, mine.id));
  BOOST_TEST((taken->state == JobState::pending));
  BOOST_TEST(taken->lost == 1);
  BOOST_TEST((go(env, get(&store, theirs.id))->state == JobState::running));
  // Forgotten once its jobs are back in the queue.
  BOOST_TEST(!env.score(store.key("workers_seen"), "dead").has_value());
  BOOST_TEST(env.number(Command{"HEXISTS", store.key("workers"), "dead"}) == 0);
  BOOST_TEST(run_task(env.ioc, claim_id(&store, "alive")) == mine.id);
}

BOOST_AUTO_TEST_CASE(time_while_nobody_reached_redis_does_not_count) {
  Env env;
  RedisStoreOptions options;
  options.outage_threshold = 2s;
  RedisStore& store = env.open(options);
  Job job = make_job();
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  run_task(env.ioc, beat(&store, "w", 10s));
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w", 3s)) == job.id);
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 0u);  // the clock is recorded
  // Seen from Redis's clock, a 60 s outage: the last sweep, the heartbeat and the lease are
  // all 60 s older than they were.
  const std::int64_t gap = 60000;
  const std::int64_t clock = std::stoll(*env.redis(Command{"GET", store.key("clock")}).text());
  const std::int64_t seen = *env.score(store.key("workers_seen"), "w");
  const std::int64_t lease = *env.score(store.key("leases"), job.id);
  env.redis(Command{"SET", store.key("clock"), std::to_string(clock - gap)});
  env.redis(Command{"ZADD", store.key("workers_seen"), std::to_string(seen - gap), "w"});
  env.redis(Command{"ZADD", store.key("leases"), std::to_string(lease - gap), job.id});
  // Another instance's sweep comes first after the outage: nothing is taken.
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 0u);
  BOOST_TEST((go(env, get(&store, job.id))->state == JobState::running));
  BOOST_TEST(*env.score(store.key("workers_seen"), "w") >= seen);
  BOOST_TEST(*env.score(store.key("leases"), job.id) >= lease);

  // A gap below the threshold is ordinary time: a heartbeat that really ran out loses the job.
  const std::int64_t now = env.redis_now();
  env.redis(Command{"SET", store.key("clock"), std::to_string(now - 1000)});
  env.redis(Command{"ZADD", store.key("workers_seen"), std::to_string(now - 500), "w"});
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 1u);
  BOOST_TEST((go(env, get(&store, job.id))->state == JobState::pending));
}

BOOST_AUTO_TEST_CASE(the_first_heartbeat_after_an_outage_moves_deadlines_on) {
  Env env;
  RedisStore& store = env.open();
  Job job = make_job();
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  run_task(env.ioc, beat(&store, "a", 10s));
  run_task(env.ioc, beat(&store, "b", 10s));
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "a", 3s)) == job.id);
  const std::int64_t gap = 30000;
  const std::int64_t clock = std::stoll(*env.redis(Command{"GET", store.key("clock")}).text());
  const std::int64_t seen = *env.score(store.key("workers_seen"), "a");
  env.redis(Command{"SET", store.key("clock"), std::to_string(clock - gap)});
  env.redis(Command{"ZADD", store.key("workers_seen"), std::to_string(seen - gap), "a"});
  env.redis(Command{"ZADD", store.key("leases"), "1", job.id});
  // b's heartbeat reaches Redis first, then b's sweep: a keeps its job.
  run_task(env.ioc, beat(&store, "b", 10s));
  BOOST_TEST(*env.score(store.key("workers_seen"), "a") >= seen);
  BOOST_TEST(run_task(env.ioc, requeue(&store)) == 0u);
  BOOST_TEST((go(env, get(&store, job.id))->state == JobState::running));
}

// --- C: secondary indexes ---

BOOST_AUTO_TEST_CASE(the_scripts_keep_the_indexes) {
  Env env;
  RedisStore& store = env.open();
  Job done = make_job("echo", {"x", "y"}), cancelled = make_job("xtb", {"y"}), running = make_job("xtb", {});
  for (const Job& j : {done, cancelled, running}) BOOST_TEST_REQUIRE(go(env, create(&store, j)).ok());
  auto in = [&](const std::string& index, const std::string& id) { return env.score(store.key(index), id).has_value(); };
  // One index per (state, engine) pair, scored by creation time: a job is in exactly one.
  BOOST_TEST(in("idx:pending:echo", done.id));
  BOOST_TEST(*env.score(store.key("idx:pending:echo"), done.id) == done.created_at);
  BOOST_TEST(in("idx:pending:xtb", cancelled.id));
  BOOST_TEST(in("idx:tag:x", done.id));
  BOOST_TEST(in("idx:tag:y", done.id));
  BOOST_TEST(in("idx:tag:y", cancelled.id));
  BOOST_TEST(!in("idx:tag:x", cancelled.id));
  BOOST_TEST(env.number(Command{"SCARD", store.key("engines")}) == 2);

  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w")) == done.id);
  BOOST_TEST(in("idx:running:echo", done.id));
  BOOST_TEST(!in("idx:pending:echo", done.id));
  BOOST_TEST_REQUIRE(go(env, finish(&store, done.id, "w", Finish{})).ok());
  BOOST_TEST(in("idx:completed:echo", done.id));
  BOOST_TEST(!in("idx:running:echo", done.id));
  BOOST_TEST_REQUIRE(go(env, cancel(&store, cancelled.id)).ok());
  BOOST_TEST(in("idx:cancelled:xtb", cancelled.id));
  BOOST_TEST(!in("idx:pending:xtb", cancelled.id));
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w")) == running.id);
  BOOST_TEST_REQUIRE(go(env, cancel(&store, running.id)).ok());
  BOOST_TEST(in("idx:cancelled:xtb", running.id));
  BOOST_TEST(!in("idx:running:xtb", running.id));

  BOOST_TEST_REQUIRE(go(env, remove(&store, done.id)).ok());
  for (const char* index : {"idx:completed:echo", "idx:tag:x", "idx:tag:y"}) BOOST_TEST(!in(index, done.id), index);
  BOOST_TEST(in("idx:tag:y", cancelled.id));
  // The retention sweep drops them too.
  // (Retention 0 takes what finished before this millisecond.)
  const std::int64_t last_finished = go(env, get(&store, running.id))->finished_at;
  while (env.redis_now() <= last_finished) env.ioc.poll();
  BOOST_TEST(run_task(env.ioc, sweep(&store, 0ms)) == 2u);
  for (const char* index : {"idx:cancelled:xtb", "idx:tag:y"}) {
    BOOST_TEST(!in(index, cancelled.id), index);
    BOOST_TEST(!in(index, running.id), index);
  }
  BOOST_TEST(*env.redis(Command{"GET", store.key("count")}).text() == "0");
}

BOOST_AUTO_TEST_CASE(filtered_lists_read_few_commands_and_page_correctly) {
  Env env;
  RedisStoreOptions options;
  RedisStore& store = env.open(options);
  struct Model {
    std::string id;
    TimeMs created;
    JobState state;
    std::string engine;
    std::vector<std::string> tags;
  };
  std::vector<Model> all;
  const TimeMs t0 = now_ms() - 100000;
  int left = 0;
  // 3,000 bulk jobs, half echo tagged a, half xtb tagged b (many in the same millisecond).
  for (int i = 0; i < 3000; ++i) {
    const bool echo = i % 2 == 0;
    Job job = make_job(echo ? "echo" : "xtb", {"bulk", echo ? "a" : "b"}, t0 + i / 3);
    all.push_back({job.id, job.created_at, JobState::pending, job.engine(), job.tags()});
    ++left;
    asio::co_spawn(env.ioc, create_into(&store, job, &left), asio::detached);
  }
  while (left > 0) env.ioc.run_one();
  // 40 rarer ones, in every state, newer than the bulk.
  std::vector<std::size_t> rare;
  for (int i = 0; i < 40; ++i) {
    const bool echo = i % 3 != 0;
    std::vector<std::string> tags = {"rare"};
    if (i % 4 == 0) tags.push_back(echo ? "b" : "a");  // a few cross the bulk's pairs
    Job job = make_job(echo ? "echo" : "xtb", tags, t0 + 2000 + i / 2);
    job.priority = 1000;  // claimed before the bulk
    BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
    all.push_back({job.id, job.created_at, JobState::pending, job.engine(), job.tags()});
    rare.push_back(all.size() - 1);
  }
  // A fifth cancelled, three fifths claimed (claims take the rare ones first: priority).
  for (std::size_t k = 0; k < rare.size(); ++k) {
    const int kind = static_cast<int>(k % 5);
    if (kind == 0) continue;
    if (kind == 4) {
      BOOST_TEST_REQUIRE(go(env, cancel(&store, all[rare[k]].id)).ok());
      continue;
    }
    BOOST_TEST_REQUIRE(!run_task(env.ioc, claim_id(&store, "w")).empty());
  }
  // Rather than predict which rare job each claim took, read every rare job's state back
  // from the store, and finish some of the running ones (completed or failed).
  int flip = 0;
  for (std::size_t k : rare) {
    Model& m = all[k];
    Result<Job> now = go(env, get(&store, m.id));
    BOOST_TEST_REQUIRE(now.ok());
    m.state = now->state;
    if (m.state != JobState::running) continue;
    if (++flip % 3 == 0) continue;  // stays running
    Finish f;
    if (flip % 3 == 2) {
      f.state = JobState::failed;
      f.error = json::object{{"code", "x"}, {"message", "y"}};
    }
    BOOST_TEST_REQUIRE(go(env, finish(&store, m.id, "w", f)).ok());
    m.state = f.state;
  }
  std::set<JobState> states;
  for (std::size_t k : rare) states.insert(all[k].state);
  BOOST_TEST(states.size() == 5u);

  // Newest first, (created, id) descending: the order every index gives.
  std::sort(all.begin(), all.end(), [](const Model& a, const Model& b) {
    return a.created != b.created ? a.created > b.created : a.id > b.id;
  });
  const std::vector<std::optional<JobState>> state_filters = {
      std::nullopt, JobState::pending, JobState::running, JobState::completed, JobState::failed, JobState::cancelled};
  const std::vector<std::optional<std::string>> engine_filters = {std::nullopt, "echo", "xtb", "none"};
  const std::vector<std::optional<std::string>> tag_filters = {std::nullopt, "bulk", "a", "b", "rare", "none"};
  std::int64_t worst_calls = 0;
  std::string worst;
  for (const auto& state : state_filters) {
    for (const auto& engine : engine_filters) {
      for (const auto& tag : tag_filters) {
        std::vector<std::string> expected;
        for (const Model& m : all) {
          if (state && m.state != *state) continue;
          if (engine && m.engine != *engine) continue;
          if (tag && std::find(m.tags.begin(), m.tags.end(), *tag) == m.tags.end()) continue;
          expected.push_back(m.id);
        }
        std::ostringstream name;
        name << "state=" << (state ? to_string(*state) : "-") << " engine=" << engine.value_or("-")
             << " tag=" << tag.value_or("-");
        // Whole listings only where they are short; the first pages of the long ones.
        const std::size_t limit = expected.size() > 200 ? 100 : 7;
        const std::size_t max_pages = expected.size() > 200 ? 3 : 1000;
        ListQuery query;
        query.state = state;
        query.engine = engine;
        query.tag = tag;
        query.limit = limit;
        std::vector<std::string> listed;
        std::size_t pages = 0;
        for (; pages < max_pages; ++pages) {
          const std::int64_t before = env.total_calls();
          Result<JobPage> page = go(env, list_page(&store, query));
          const std::int64_t calls = env.total_calls() - before;  // INFO itself is not counted
          BOOST_TEST_REQUIRE(page.ok(), why(page));
          BOOST_TEST(page->jobs.size() <= limit);
          if (calls > worst_calls) {
            worst_calls = calls;
            worst = name.str();
          }
          for (const Job& j : page->jobs) listed.push_back(j.id);
          if (page->next_cursor.empty()) break;
          query.cursor = page->next_cursor;
        }
        if (pages < max_pages) {
          BOOST_TEST(listed == expected, name.str() << ": " << listed.size() << " listed, " << expected.size()
                                                    << " expected");
        } else {
          BOOST_TEST_REQUIRE(listed.size() <= expected.size(), name.str());
          BOOST_TEST((std::equal(listed.begin(), listed.end(), expected.begin())), name.str());
        }
      }
    }
  }
  BOOST_TEST_MESSAGE("most Redis commands for one list request: " << worst_calls << " (" << worst << ")");
  // A few pages' worth of records, never one per job in the store (3,040 here).
  // Per round: two ranges per (state, engine) index merged (6 states x 2 engines) and a batch of GETs.
  BOOST_TEST(worst_calls <= 4 * (210 + 2 * 12) + 10, worst);
}

BOOST_AUTO_TEST_CASE(entries_of_records_deleted_by_hand_are_skipped_and_cleaned) {
  Env env;
  RedisStore& store = env.open();
  Job kept = make_job("echo", {"t"}), gone = make_job("echo", {"t"});
  for (const Job& j : {kept, gone}) BOOST_TEST_REQUIRE(go(env, create(&store, j)).ok());
  for (int i = 0; i < 2; ++i) {
    const std::string id = run_task(env.ioc, claim_id(&store, "w"));
    BOOST_TEST_REQUIRE(go(env, finish(&store, id, "w", Finish{})).ok());
  }
  // Records never expire on their own (the sweep deletes them with their entries); one
  // deleted by hand leaves entries behind, which are dropped as they are met.
  env.redis(Command{"DEL", store.key("job:" + gone.id)});
  ListQuery query;
  query.tag = "t";
  Result<JobPage> page = go(env, list_page(&store, query));
  BOOST_TEST_REQUIRE(page.ok());
  BOOST_TEST_REQUIRE(page->jobs.size() == 1u);
  BOOST_TEST(page->jobs[0].id == kept.id);
  BOOST_TEST(!env.score(store.key("idx:tag:t"), gone.id).has_value());  // dropped as met
  BOOST_TEST(env.score(store.key("idx:completed:echo"), gone.id).has_value());  // not read by that list
  query.tag.reset();
  page = go(env, list_page(&store, query));
  BOOST_TEST_REQUIRE(page.ok());
  BOOST_TEST_REQUIRE(page->jobs.size() == 1u);
  BOOST_TEST(!env.score(store.key("idx:completed:echo"), gone.id).has_value());
  BOOST_TEST(env.score(store.key("idx:completed:echo"), kept.id).has_value());
}

// --- D: bounded ---

BOOST_AUTO_TEST_CASE(a_jobs_history_is_capped_and_keeps_its_first_event) {
  Env env;
  RedisStore& store = env.open();
  Job job = make_job();
  BOOST_TEST_REQUIRE(go(env, create(&store, job)).ok());
  BOOST_TEST_REQUIRE(run_task(env.ioc, claim_id(&store, "w")) == job.id);
  run_task(env.ioc, progress(&store, job.id, 300));
  BOOST_TEST(job_blob::history(*env.redis(Command{"GET", store.key("job:" + job.id)}).text()).size() == 200u);
  const auto events = run_task(env.ioc, history(&store, job.id));
  BOOST_TEST_REQUIRE(events.size() == 200u);
  BOOST_TEST((events.front().type == EventType::submitted));
  BOOST_TEST(events.back().data.at("progress").at("step").as_int64() == 299);
  BOOST_TEST(events[1].data.at("progress").at("step").as_int64() == 101);
}

BOOST_AUTO_TEST_CASE(create_is_refused_beyond_max_jobs) {
  Env env;
  RedisStoreOptions options;
  options.max_jobs = 3;
  RedisStore& store = env.open(options);
  std::vector<Job> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(make_job());
    BOOST_TEST_REQUIRE(go(env, create(&store, jobs.back())).ok());
  }
  Result<Job> refused = go(env, create(&store, make_job()));
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code == StoreErrc::full));
  BOOST_TEST(refused.error().message.find("3") != std::string::npos, refused.error().message);
  BOOST_TEST(*env.redis(Command{"GET", store.key("count")}).text() == "3");
  BOOST_TEST_REQUIRE(go(env, cancel(&store, jobs[0].id)).ok());
  BOOST_TEST_REQUIRE(go(env, remove(&store, jobs[0].id)).ok());
  BOOST_TEST(go(env, create(&store, make_job())).ok());
}

BOOST_AUTO_TEST_SUITE_END()
