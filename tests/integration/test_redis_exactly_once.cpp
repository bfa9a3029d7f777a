// Exactly-once transitions on Redis (issue 7, finding 3): a state-changing script carries an
// operation id and answers a re-issued call with its first outcome, and RedisStore re-issues
// a call whose answer was lost (timeout, connection lost after the write) instead of
// reporting a failure for a command that ran.
//   - against a scripted fake peer: the lost answer, the re-sent bytes, the retry window;
//   - against a real redis-server: a replay applies nothing twice and answers the same;
//   - end to end: Redis frozen past the command timeout during thousands of submissions,
//     claims and finishes on two instances (RedisStore driven directly, and two real noxd):
//     no job lost, none created twice, none run twice.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/job_id.hpp"
#include "storage/redis/redis_connection.hpp"
#include "storage/redis/redis_store.hpp"
#include "tests/support/fake_redis.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/molecules.hpp"
#include "tests/support/noxd_process.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using nox::redis::Command;
using nox::redis::Reply;
using nox::test::FakeRedis;
using nox::test::run_task;

namespace nox {

// The seam RedisStore grants this file (a friend): fix the operation id, read the window.
struct RedisStoreTestPeer {
  static void fix_op_id(RedisStore& store, std::string op_id) { store.fixed_op_id_ = std::move(op_id); }
  static std::chrono::milliseconds retry_window(const RedisStore& store) { return store.retry_window(); }
  static std::chrono::milliseconds op_ttl(const RedisStore& store) { return store.op_ttl(); }
  static std::uint64_t connects(const RedisStore& store) { return store.commands_->stats().connects; }
};

}  // namespace nox

namespace {

using nox::Finish;
using nox::Job;
using nox::RedisStore;
using nox::RedisStoreOptions;
using nox::RedisStoreTestPeer;
using nox::Result;

Job make_job() {
  Job job;
  job.id = nox::new_job_id();
  job.spec = {{"engine", "echo"},
              {"task", "energy"},
              {"method", "gfn2"},
              {"molecule", {{"xyz", "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}}},
              {"tags", json::array{"once"}}};
  job.created_at = nox::now_ms();
  return job;
}

asio::awaitable<std::string> start_store(RedisStore* store) {
  Result<nox::Done> started = co_await store->start(5s);
  co_return started ? std::string() : started.error().message;
}

struct Outcome {
  bool ok = false;
  std::string error;
  std::string id;          // the job's (claim: "" when the queue was empty)
  json::object record;     // job_to_record of the answer
};

template <class T>
Outcome failed(const Result<T>& r) {
  return Outcome{false, r.error().message, {}, {}};
}

asio::awaitable<Outcome> create(RedisStore* store, Job job) {
  Result<Job> r = co_await store->create(std::move(job));
  if (!r) co_return failed(r);
  co_return Outcome{true, {}, r->id, nox::job_to_record(*r)};
}

asio::awaitable<Outcome> claim(RedisStore* store, std::string worker) {
  Result<std::optional<Job>> r = co_await store->claim(worker, 30s);
  if (!r) co_return failed(r);
  if (!*r) co_return Outcome{true, {}, {}, {}};
  co_return Outcome{true, {}, (*r)->id, nox::job_to_record(**r)};
}

asio::awaitable<Outcome> finish(RedisStore* store, std::string id, std::string worker) {
  Finish done;
  done.result = json::object{{"energy", -5.070544}};
  Result<Job> r = co_await store->finish(id, worker, done);
  if (!r) co_return failed(r);
  co_return Outcome{true, {}, r->id, nox::job_to_record(*r)};
}

asio::awaitable<std::size_t> event_count(RedisStore* store, std::string id) {
  Result<std::vector<nox::JobEvent>> events = co_await store->job_events(std::move(id));
  co_return events ? events->size() : 0;
}

// A store on `url` with short timeouts, started (the fake peer answers SCRIPT LOAD itself).
struct Instance {
  asio::io_context& ioc;
  std::unique_ptr<RedisStore> store;
  Instance(asio::io_context& context, const std::string& url, std::chrono::milliseconds command_timeout,
           std::chrono::milliseconds connect_timeout)
      : ioc(context) {
    RedisStoreOptions options;
    options.url = url;
    options.command_timeout = command_timeout;
    options.connect_timeout = connect_timeout;
    store = std::make_unique<RedisStore>(ioc.get_executor(), options);
    const std::string failure = run_task(ioc, start_store(store.get()));
    if (!failure.empty()) throw std::runtime_error("RedisStore did not start: " + failure);
  }
  ~Instance() {
    store->stop();
    ioc.restart();
    ioc.run_for(200ms);
  }
};

// EVALSHA <sha> <numkeys> key... arg...: the last key and the last argument.
std::string last_key(const FakeRedis::Received& r) {
  const std::size_t keys = std::stoul(r.argv.at(2));
  return r.argv.at(2 + keys);
}

asio::awaitable<Reply> raw_exec(std::shared_ptr<nox::redis::Connection> c, Command command,
                                std::chrono::milliseconds timeout = {}) {
  nox::redis::Response r = co_await c->exec(std::move(command), timeout);
  if (!r.ok()) throw std::runtime_error("raw Redis command failed: " + r.message);
  co_return r.reply();
}

asio::awaitable<bool> raw_connected(std::shared_ptr<nox::redis::Connection> c) {
  bool up = co_await c->wait_connected(5s);
  co_return up;
}

// Counts of each event type per job, from the whole event log.
std::map<std::string, std::map<std::string, int>> events_per_job(const Reply& entries) {
  std::map<std::string, std::map<std::string, int>> out;
  for (const Reply& entry : *entries.array()) {
    const auto& fields = *(*entry.array())[1].array();
    std::string type, job;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (*fields[i].text() == "type") type = *fields[i + 1].text();
      if (*fields[i].text() == "job_id") job = *fields[i + 1].text();
    }
    ++out[job][type];
  }
  return out;
}

// The load of the freeze test: what was handed out, answered and failed.
struct Load {
  std::size_t total = 3000;
  std::size_t next = 0;  // jobs handed to creators
  std::size_t created = 0, claimed = 0, finished = 0, freezes_started = 0, freezes = 0;
  std::vector<std::string> failures;
  std::vector<std::string> created_ids, claimed_ids;
  std::set<std::string> running;  // claimed, not yet finished
  std::vector<std::string> freeze_errors;
};

struct Freezer {
  static asio::awaitable<void> run(std::shared_ptr<nox::redis::Connection> raw, Load* load,
                                   std::chrono::milliseconds length) {
    ++load->freezes_started;
    const std::string seconds = std::to_string(length.count() / 1000.0);
    Command sleep;
    sleep.push(std::vector<std::string>{"DEBUG", "SLEEP", seconds});
    nox::redis::Response slept = co_await raw->exec(std::move(sleep), 10s);
    if (slept.ok() && slept.reply().is_error()) {
      // enable-debug-command is off: a script that spins on TIME blocks Redis the same way.
      const std::string spin =
          "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
          "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s >= tonumber(ARGV[1]) * 1000 "
          "return 1";
      Command eval;
      eval.push(std::vector<std::string>{"EVAL", spin, "0", std::to_string(length.count())});
      slept = co_await raw->exec(std::move(eval), 10s);
    }
    if (!slept.ok() || slept.reply().is_error())
      load->freeze_errors.push_back(slept.ok() ? slept.reply().describe() : slept.message);
    ++load->freezes;
  }
};

struct Worker {
  static asio::awaitable<void> creator(RedisStore* store, Load* load,
                                       std::shared_ptr<nox::redis::Connection> raw, std::chrono::milliseconds freeze) {
    while (load->next < load->total) {
      ++load->next;
      Job job = make_job();
      const std::string id = job.id;
      Outcome r = co_await create(store, std::move(job));
      if (!r.ok) {
        load->failures.push_back("create " + id + ": " + r.error);
        continue;
      }
      load->created_ids.push_back(id);
      // The first freeze when a third of the jobs exist (claims and creates are in flight).
      if (++load->created == load->total / 3)
        asio::co_spawn(co_await asio::this_coro::executor, Freezer::run(raw, load, freeze), asio::detached);
    }
  }
  static asio::awaitable<void> claimer(RedisStore* store, Load* load, std::string worker,
                                       std::shared_ptr<nox::redis::Connection> raw, std::chrono::milliseconds freeze) {
    while (load->claimed < load->total && load->failures.size() < 50) {
      Outcome r = co_await claim(store, worker);
      if (!r.ok) {
        load->failures.push_back("claim by " + worker + ": " + r.error);
        continue;
      }
      if (r.id.empty()) {
        if (load->next >= load->total && load->created + load->failures.size() >= load->total &&
            load->claimed >= load->created)
          break;
        co_await store->wait_for_work(50ms);
        continue;
      }
      load->claimed_ids.push_back(r.id);
      // The second freeze half way through the claims (finishes are in flight too).
      if (++load->claimed == load->total / 2)
        asio::co_spawn(co_await asio::this_coro::executor, Freezer::run(raw, load, freeze), asio::detached);
      Outcome f = co_await finish(store, r.id, worker);
      if (!f.ok) {
        load->failures.push_back("finish " + r.id + " by " + worker + ": " + f.error);
        continue;
      }
      ++load->finished;
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_exactly_once)

BOOST_AUTO_TEST_CASE(a_lost_answer_is_recovered_by_resending_the_same_evalsha) {
  FakeRedis peer;
  // claim #1: no answer on the first connection, answered when re-sent on the next one.
  peer.expect("EVALSHA", FakeRedis::silence());
  peer.expect("EVALSHA", FakeRedis::reply("*1\r\n$5\r\nempty\r\n"));
  // claim #2: the connection drops after the command was written.
  peer.expect("EVALSHA", FakeRedis::drop());
  peer.expect("EVALSHA", FakeRedis::reply("*1\r\n$5\r\nempty\r\n"));
  asio::io_context ioc;
  Instance instance(ioc, peer.url(), 200ms, 1000ms);
  RedisStore& store = *instance.store;

  Outcome first = run_task(ioc, claim(&store, "w"));
  BOOST_TEST(first.ok, first.error);
  BOOST_TEST(first.id.empty());
  Outcome second = run_task(ioc, claim(&store, "w"));
  BOOST_TEST(second.ok, second.error);
  BOOST_TEST_REQUIRE(peer.wait_scripted(4, 5s));
  BOOST_TEST(peer.errors().empty());

  const auto seen = peer.scripted();
  BOOST_TEST_REQUIRE(seen.size() == 4u);
  // The re-issue is the same command byte for byte, on a new connection.
  BOOST_TEST((seen[0].bytes == seen[1].bytes));
  BOOST_TEST(seen[0].connection != seen[1].connection);
  BOOST_TEST((seen[2].bytes == seen[3].bytes));
  BOOST_TEST(seen[2].connection != seen[3].connection);
  // Its operation key is the last key; the record's time to live the last argument.
  const std::string op = last_key(seen[0]);
  BOOST_TEST(op.rfind(store.key("op:"), 0) == 0, op);
  BOOST_TEST(op.size() == store.key("op:").size() + 32);
  BOOST_TEST(std::stoll(seen[0].argv.back()) == RedisStoreTestPeer::op_ttl(store).count());
  BOOST_TEST(RedisStoreTestPeer::op_ttl(store) >= 2 * RedisStoreTestPeer::retry_window(store));
  // Each logical call has an id of its own.
  BOOST_TEST(last_key(seen[2]) != op);
}

BOOST_AUTO_TEST_CASE(an_answer_lost_for_longer_than_the_retry_window_is_unavailable) {
  FakeRedis peer;
  for (int i = 0; i < 40; ++i) peer.expect("EVALSHA", FakeRedis::silence());
  asio::io_context ioc;
  Instance instance(ioc, peer.url(), 100ms, 200ms);
  RedisStore& store = *instance.store;
  const auto window = RedisStoreTestPeer::retry_window(store);
  BOOST_TEST(window.count() == 600);  // 4 command timeouts + one connect timeout

  const auto t0 = std::chrono::steady_clock::now();
  Outcome lost = run_task(ioc, claim(&store, "w"));
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(!lost.ok);
  BOOST_TEST(lost.error.find("unknown") != std::string::npos, lost.error);
  BOOST_TEST((took >= window));
  BOOST_TEST((took < window + 1500ms));
  // Every attempt was the same command, each on a connection of its own.
  const auto seen = peer.scripted();
  BOOST_TEST_REQUIRE(seen.size() >= 2u);
  std::set<int> connections;
  for (const auto& r : seen) {
    BOOST_TEST((r.bytes == seen[0].bytes));
    connections.insert(r.connection);
  }
  BOOST_TEST(connections.size() == seen.size());
}

BOOST_AUTO_TEST_CASE(a_replayed_operation_answers_the_first_outcome_and_applies_once) {
  nox::test::RedisServer server;
  asio::io_context ioc;
  Instance instance(ioc, server.url(), 5000ms, 2000ms);
  RedisStore& store = *instance.store;
  const Job job = make_job();
  const Job other = make_job();

  RedisStoreTestPeer::fix_op_id(store, "00000000000000000000000000000001");
  Outcome created = run_task(ioc, create(&store, job));
  Outcome again = run_task(ioc, create(&store, job));  // would be a conflict without the replay
  BOOST_TEST(created.ok, created.error);
  BOOST_TEST(again.ok, again.error);
  BOOST_TEST((created.record == again.record));
  RedisStoreTestPeer::fix_op_id(store, "");
  BOOST_TEST(run_task(ioc, create(&store, other)).ok);
  BOOST_TEST(!run_task(ioc, create(&store, job)).ok);  // a new operation is refused: it exists

  RedisStoreTestPeer::fix_op_id(store, "00000000000000000000000000000002");
  Outcome claimed = run_task(ioc, claim(&store, "w"));
  Outcome claimed_again = run_task(ioc, claim(&store, "w"));
  BOOST_TEST_REQUIRE(claimed.ok, claimed.error);
  BOOST_TEST_REQUIRE(claimed_again.ok, claimed_again.error);
  BOOST_TEST(claimed.id == job.id);
  // The same answer, field for field (nested arrays, integers and strings came back alike).
  BOOST_TEST((claimed.record == claimed_again.record));
  BOOST_TEST(claimed_again.record.at("attempts").as_int64() == 1);
  RedisStoreTestPeer::fix_op_id(store, "");
  BOOST_TEST(run_task(ioc, claim(&store, "w")).id == other.id);  // the first claim took only one job

  RedisStoreTestPeer::fix_op_id(store, "00000000000000000000000000000003");
  Outcome finished = run_task(ioc, finish(&store, job.id, "w"));
  Outcome finished_again = run_task(ioc, finish(&store, job.id, "w"));
  BOOST_TEST(finished.ok, finished.error);
  BOOST_TEST(finished_again.ok, finished_again.error);
  BOOST_TEST((finished.record == finished_again.record));
  RedisStoreTestPeer::fix_op_id(store, "");
  BOOST_TEST(!run_task(ioc, finish(&store, job.id, "w")).ok);  // a new finish: no longer running

  BOOST_TEST(server.cli("XLEN " + store.key("events")) == "5");
  BOOST_TEST(run_task(ioc, event_count(&store, job.id)) == 3u);  // submitted, started, completed
  BOOST_TEST_MESSAGE("bytes of an operation's record (MEMORY USAGE): create "
                     << server.cli("MEMORY USAGE " + store.key("op:00000000000000000000000000000001"))
                     << ", claim " << server.cli("MEMORY USAGE " + store.key("op:00000000000000000000000000000002"))
                     << ", finish " << server.cli("MEMORY USAGE " + store.key("op:00000000000000000000000000000003")));
  const long long ttl = std::stoll(server.cli("PTTL " + store.key("op:00000000000000000000000000000002")));
  BOOST_TEST(ttl > 0);
  BOOST_TEST(ttl <= RedisStoreTestPeer::op_ttl(store).count());
}

// The test. Redis is frozen (DEBUG SLEEP, or a busy script where DEBUG is disabled)
// for three command timeouts, twice, while two instances submit, claim and finish 3,000 jobs.
BOOST_AUTO_TEST_CASE(redis_frozen_past_the_command_timeout_loses_and_duplicates_nothing) {
  nox::test::RedisServer server;
  asio::io_context ioc;
  constexpr auto command_timeout = 250ms;
  constexpr auto freeze = 3 * command_timeout;
  Instance a(ioc, server.url(), command_timeout, 500ms);
  Instance b(ioc, server.url(), command_timeout, 500ms);
  BOOST_TEST_REQUIRE((RedisStoreTestPeer::retry_window(*a.store) > freeze + 500ms));

  nox::redis::ConnectionConfig config;
  config.url = std::get<nox::redis::Url>(nox::redis::parse_url(server.url()));
  auto raw = nox::redis::Connection::create(ioc.get_executor(), config);
  raw->start();
  BOOST_TEST_REQUIRE(run_task(ioc, raw_connected(raw)));
  Load load;

  std::size_t running = 0;
  auto spawn = [&](asio::awaitable<void> task) {
    ++running;
    asio::co_spawn(ioc, std::move(task), [&running](std::exception_ptr e) {
      --running;
      if (e) std::rethrow_exception(e);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) spawn(Worker::creator(i % 2 ? a.store.get() : b.store.get(), &load, raw, freeze));
  for (int i = 0; i < 4; ++i) {
    spawn(Worker::claimer(a.store.get(), &load, "a" + std::to_string(i), raw, freeze));
    spawn(Worker::claimer(b.store.get(), &load, "b" + std::to_string(i), raw, freeze));
  }
  ioc.restart();
  const auto give_up = std::chrono::steady_clock::now() + 120s;
  while ((running > 0 || load.freezes < load.freezes_started) && std::chrono::steady_clock::now() < give_up)
    ioc.run_one_for(1s);
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE(load.total << " jobs created, claimed and finished on two instances in " << took
                                << " s with two freezes of " << freeze.count() << " ms; reconnects: "
                                << RedisStoreTestPeer::connects(*a.store) - 1 << " + "
                                << RedisStoreTestPeer::connects(*b.store) - 1);
  BOOST_TEST_REQUIRE(running == 0u);
  BOOST_TEST(load.freezes == 2u);
  BOOST_TEST(load.freeze_errors.empty(), (load.freeze_errors.empty() ? "" : load.freeze_errors.front()));
  // The freezes did cut connections (a command timed out), else this proved nothing.
  BOOST_TEST(RedisStoreTestPeer::connects(*a.store) + RedisStoreTestPeer::connects(*b.store) > 2u);

  // No call answered a failure for a transition that ran, or at all.
  BOOST_TEST(load.failures.empty(), load.failures.size() << " failures, the first: "
                                                         << (load.failures.empty() ? "" : load.failures.front()));
  BOOST_TEST(load.created == load.total);
  BOOST_TEST(load.claimed == load.total);
  BOOST_TEST(load.finished == load.total);
  BOOST_TEST(std::set<std::string>(load.claimed_ids.begin(), load.claimed_ids.end()).size() ==
             load.claimed_ids.size());  // no job handed out twice

  // The log: each job submitted once, started once, completed once; no job nobody created.
  Reply entries = run_task(ioc, raw_exec(raw, Command{"XRANGE", a.store->key("events"), "-", "+"}, 10s));
  const auto per_job = events_per_job(entries);
  const std::set<std::string> created(load.created_ids.begin(), load.created_ids.end());
  std::size_t wrong = 0;
  for (const auto& [id, types] : per_job) {
    auto count = [&types](const std::string& type) {
      auto it = types.find(type);
      return it == types.end() ? 0 : it->second;
    };
    const bool right = created.contains(id) && types.size() == 3 && count("submitted") == 1 &&
                       count("started") == 1 && count("completed") == 1;
    if (!right && ++wrong <= 5) {
      std::string counts;
      for (const auto& [type, n] : types) counts += " " + type + "=" + std::to_string(n);
      BOOST_TEST_MESSAGE("job " << id << (created.contains(id) ? "" : " (its creation failed)") << ":" << counts);
    }
  }
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(per_job.size() == load.total);

  // Operations answered at their first attempt had their records deleted (batched UNLINK);
  // only re-issued ones and the last unflushed batch of each instance wait for their TTL.
  Reply ops = run_task(ioc, raw_exec(raw, Command{"KEYS", a.store->key("op:*")}, 10s));
  BOOST_TEST_MESSAGE("operation records left after " << 3 * load.total << " transitions: " << ops.array()->size());
  BOOST_TEST(ops.array()->size() < 1000u);
  raw->close();
}

// The same through two real noxd (--redis-command-timeout-s 0.25), submitting over HTTP.
BOOST_AUTO_TEST_CASE(noxd_on_a_frozen_redis_answers_every_submission_and_runs_each_job_once) {
  nox::test::RedisServer redis;
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--redis-command-timeout-s", "0.25", "--slots", "4"};
  nox::test::NoxdProcess a(flags);
  nox::test::NoxdProcess b(flags);
  const std::string spec = nox::test::job_spec_json("echo", "energy", nox::test::molecule_xyz("water"));
  constexpr int total = 2000;
  constexpr int submitters = 4;

  std::mutex mutex;
  std::condition_variable progress;
  int submitted = 0;
  std::vector<std::string> accepted;
  std::vector<std::string> refused;
  auto submit_share = [&](std::uint16_t port) {
    nox::test::HttpClient client(port);
    for (int i = 0; i < total / submitters; ++i) {
      auto reply = client.post_json("/jobs", spec);
      std::lock_guard lock(mutex);
      if (reply.status == 202) {
        accepted.emplace_back(reply.json().at("job_id").as_string());
      } else {
        refused.push_back(std::to_string(reply.status) + " " + reply.body);
      }
      ++submitted;
      progress.notify_all();
    }
  };
  // Freezes Redis once `at` submissions were answered; DEBUG SLEEP, or a spinning script.
  auto freeze_at = [&](int at) {
    {
      std::unique_lock lock(mutex);
      progress.wait(lock, [&] { return submitted >= at; });
    }
    if (redis.cli("DEBUG SLEEP 0.75") != "OK")
      redis.cli("EVAL \"local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
                "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s >= 750000 return 1\" 0");
  };

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < submitters; ++i) threads.emplace_back(submit_share, i % 2 ? a.port() : b.port());
  freeze_at(total / 3);
  freeze_at(2 * total / 3);
  for (auto& t : threads) t.join();

  BOOST_TEST(refused.empty(), refused.size() << " submissions refused, the first: "
                                             << (refused.empty() ? "" : refused.front()));
  nox::test::HttpClient client(a.port());
  const auto finished_by = std::chrono::steady_clock::now() + 60s;
  std::size_t unfinished = 0;
  for (const std::string& id : accepted) {
    for (;;) {
      const auto state = client.get("/jobs/" + id + "/status").json().at("state").as_string();
      if (state == "completed" || state == "failed" || state == "cancelled") break;
      if (std::chrono::steady_clock::now() > finished_by) {
        ++unfinished;
        break;
      }
      std::this_thread::sleep_for(20ms);  // polling a job that is still running
    }
  }
  BOOST_TEST(unfinished == 0u);
  BOOST_TEST_MESSAGE(total << " echo jobs through two noxd with Redis frozen twice for 750 ms: "
                           << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                           << " s");

  asio::io_context ioc;
  nox::redis::ConnectionConfig config;
  config.url = std::get<nox::redis::Url>(nox::redis::parse_url(redis.url()));
  auto raw = nox::redis::Connection::create(ioc.get_executor(), config);
  raw->start();
  BOOST_TEST_REQUIRE(run_task(ioc, raw_connected(raw)));
  Reply entries = run_task(ioc, raw_exec(raw, Command{"XRANGE", "nox:{nox}:events", "-", "+"}, 10s));
  raw->close();
  const auto per_job = events_per_job(entries);
  const std::set<std::string> ids(accepted.begin(), accepted.end());
  BOOST_TEST(ids.size() == accepted.size());  // no id answered twice
  std::size_t wrong = 0;
  for (const auto& [id, types] : per_job) {
    auto count = [&types](const std::string& type) {
      auto it = types.find(type);
      return it == types.end() ? 0 : it->second;
    };
    // Exactly one submitted and one completed; one started (a retried attempt would add one).
    const bool right = ids.contains(id) && count("submitted") == 1 && count("completed") == 1 &&
                       count("started") == 1 + count("retrying");
    if (!right && ++wrong <= 5) {
      std::string counts;
      for (const auto& [type, n] : types) counts += " " + type + "=" + std::to_string(n);
      BOOST_TEST_MESSAGE("job " << id << (ids.contains(id) ? "" : " (its submission was refused)") << ":" << counts);
    }
  }
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(per_job.size() == accepted.size());
  BOOST_TEST(accepted.size() == static_cast<std::size_t>(total));
}

BOOST_AUTO_TEST_SUITE_END()
