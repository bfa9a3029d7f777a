#pragma once
// Dispatcher: claims queued jobs from the store while this instance has free slots,
// runs them (in-process engines at once, subprocess engines on the Runner's pool),
// keeps their leases alive, and writes each outcome back in one store transition.
// Also the instance's housekeeping: heartbeat, expired-lease requeue, retention.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <random>

#include "core/engine_breaker.hpp"
#include "core/retry_policy.hpp"
#include "core/metrics.hpp"
#include "engines/engine_registry.hpp"
#include "engines/runner.hpp"
#include "storage/store.hpp"

namespace nox {

struct DispatcherOptions {
  std::string worker_id;
  std::string host;
  std::string listen;
  std::size_t slots = 1;
  // false: an API-only instance (role api): run() claims nothing, slots() is 0
  bool runs_jobs = true;
  // Routing: the compute tags this instance offers and the queues it serves (empty: all).
  std::vector<std::string> offered_tags;
  std::vector<std::string> served_queues;
  // The server's retry policy (core/retry_policy.hpp); a job's spec may override it.
  RetryPolicy retry;
  // The engine circuit breaker (core/engine_breaker.hpp).
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_cooldown{300000};
  Lease lease{30000};
  std::chrono::milliseconds housekeeping_interval{1000};
  // An instance whose heartbeat is older than this is gone: its running jobs are taken over.
  std::chrono::milliseconds worker_timeout{10000};
  std::chrono::milliseconds retention{7LL * 24 * 3600 * 1000};
};

class Dispatcher {
 public:
  Dispatcher(boost::asio::any_io_executor loop, Store& store, Runner& runner, const EngineRegistry& engines,
             DispatcherOptions options);

  // The claim loop; returns after stop() (at once on an instance that runs no jobs).
  boost::asio::awaitable<void> run();
  // Heartbeat, requeue of expired leases, retention sweep; returns after stop().
  boost::asio::awaitable<void> housekeeping();
  // Every quarter second: scheduled jobs whose run_at has come go to the queue (Store::promote_due).
  boost::asio::awaitable<void> promote_scheduled();

  // Kills the job's process if it runs here (after the store has marked it cancelled). Every
  // instance calls it for each `cancelled` event of the log, so a cancel made through any
  // instance reaches the process within the log's delivery time, not at the next renewal.
  void cancel_local(const std::string& job_id);
  // Stops claiming and kills running attempts; they are handed back as `interrupted`.
  void stop();
  // Returns once no attempt runs here any more.
  boost::asio::awaitable<void> drained();
  // Called once when an instance asked to drain has no attempt left (main.cpp: stop as on SIGTERM).
  std::function<void()> on_drained;
  WorkerMode mode() const { return mode_; }

  std::size_t busy() const { return busy_; }
  std::size_t slots() const { return options_.runs_jobs ? options_.slots : 0; }
  const std::string& worker_id() const { return options_.worker_id; }
  // Outcomes and durations of the attempts this instance ran, lost leases, sweeps (/metrics).
  const JobMetrics& metrics() const { return metrics_; }
  // The engines this instance's circuit breaker has taken out of its claims (/health, /metrics).
  const EngineBreaker& breaker() const { return breaker_; }

 private:
  struct Running {
    std::shared_ptr<ProcessControl> control;
    std::shared_ptr<boost::asio::steady_timer> lease_timer;
  };

  boost::asio::awaitable<void> run_job(Job job);
  // The slots a job takes here: its threads, at most all of this instance's.
  std::size_t slots_for(const Job& job) const;
  boost::asio::awaitable<void> complete_in_process(Job job, const Engine& engine);
  boost::asio::awaitable<void> keep_lease(std::string job_id, std::shared_ptr<ProcessControl> control,
                                          std::shared_ptr<boost::asio::steady_timer> timer);
  boost::asio::awaitable<void> record_progress(std::string job_id, boost::json::object progress);
  // Counts a claimed job against what the next claim may take (slots, in-process budget) and
  // as an attempt in flight.
  void reserve(const Job& job);
  // Starts a reserved job: in-process engines at once, subprocess engines on their slots.
  boost::asio::awaitable<void> launch(Job job);
  // launch() for each, from the loop's next turn.
  boost::asio::awaitable<void> start_reserved(std::vector<Job> jobs);
  // Stores what a cancelled attempt left (its partial log) when the job is cancelled in the store.
  boost::asio::awaitable<void> keep_partial_files(std::string job_id, std::vector<Artifact> artifacts);
  // Renews every lease held here now (after the store was unreachable, before any sweep).
  boost::asio::awaitable<void> renew_all();
  // Writes the outcome (retrying while the store is unreachable); the state the store recorded
  // (pending when the job will run again), or nullopt when the outcome was no longer ours.
  boost::asio::awaitable<std::optional<JobState>> write_outcome(std::string job_id, std::vector<Artifact> artifacts,
                                                                Finish finish);
  // A failed attempt: whether, when and with what spec the job runs again (core/retry_policy.hpp).
  void plan_next_attempt(const Job& job, Finish& finish);
  // Tells the circuit breaker how an attempt of `engine` ended; logs when it takes the engine out.
  // When it does, the attempt's error says so (engine_taken_out: engine, instance, until).
  void note_for_breaker(const std::string& engine, Finish& finish);
  // Acts on the mode an operator asked of this instance (read with each heartbeat).
  void follow_mode(WorkerMode asked);
  // Counts an attempt's outcome for /metrics.
  void count_outcome(const Job& job, std::optional<JobState> recorded, double seconds);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds duration);
  void notify_slot_freed();

  boost::asio::any_io_executor loop_;
  Store& store_;
  Runner& runner_;
  const EngineRegistry& engines_;
  const std::vector<std::string> in_process_engines_;  // named in every claim (they need no slot)
  DispatcherOptions options_;
  std::size_t busy_ = 0;              // slots taken by subprocesses (a job's threads each)
  std::size_t attempts_in_flight_ = 0;  // until their outcome is written (drain waits for these)
  std::size_t in_process_in_flight_ = 0;  // in-process jobs whose outcome is being written
  bool stopping_ = false;
  WorkerMode mode_ = WorkerMode::active;
  std::map<std::string, Running> running_;
  boost::asio::steady_timer slot_signal_;
  boost::asio::steady_timer stop_signal_;
  JobMetrics metrics_;
  EngineBreaker breaker_;
  std::minstd_rand jitter_{std::random_device{}()};  // spreads retries of many jobs apart
};

}  // namespace nox
