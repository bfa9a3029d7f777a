#pragma once
// RedisStore: the shared, durable Store. Jobs, queue, leases, events, artifacts and workers
// live in one Redis (key layout in DESIGN.md "Storage"), so any number of instances share
// the work. Every multi-key change is one Lua script (scripts/*.lua, EVALSHA) doing the
// compare-and-set and the XADD of its event together. One pipelined connection carries
// the scripts; one the reads that answer requests (records, indexes, events), so that a read
// never waits behind queued scripts; one the artifacts' bytes; two the blocking reads (BLPOP
// for work, XREAD BLOCK for events), which would otherwise hold up everything behind them.
//
// Errors: Redis down or answering with an error -> StoreErrc::unavailable (retry later);
// never an exception for expected failures.
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

#include "storage/redis/redis_connection.hpp"
#include "storage/store.hpp"

namespace nox {

struct RedisStoreOptions {
  std::string url = "redis://127.0.0.1:6379";
  // Keys are "<prefix>:{<prefix>}:...": several deployments can share one Redis, and the
  // hash tag keeps each deployment's keys in one Cluster slot.
  std::string prefix = "nox";
  std::size_t events_maxlen = 100000;                 // XADD MAXLEN ~ (older ids answer `reset`)
  std::size_t artifact_max_bytes = 64 * 1024 * 1024;  // per artifact; larger: StoreErrc::invalid
  std::chrono::milliseconds command_timeout{5000};
  std::uint64_t max_jobs = 0;  // jobs kept at most (create answers StoreErrc::full beyond); 0: no bound
  // A gap longer than this in the store's `clock` (no sweep or heartbeat reached Redis: it was
  // stopped, or no instance could reach it) moves every lease and heartbeat deadline on by the
  // gap: time nobody could renew does not count. Well below the heartbeat ttl minus its period.
  std::chrono::milliseconds outage_threshold{2000};
  // A worker silent this long is dropped from the worker list even if no sweep took back its jobs.
  std::chrono::milliseconds worker_forget_after{10LL * 60 * 1000};
  // Batches of index entries (about twice the page each) one GET /jobs reads at most: a filter
  // that matches few of them answers a short page with a next_cursor rather than reading on.
  std::size_t list_scan_rounds = 4;
  std::chrono::milliseconds connect_timeout{2000};
};

class RedisStore final : public Store {
 public:
  // Throws std::invalid_argument when the URL cannot be parsed (a configuration error).
  RedisStore(boost::asio::any_io_executor executor, RedisStoreOptions options);
  // The same without throwing: the store, or why the options are unusable.
  static std::variant<std::unique_ptr<RedisStore>, std::string> make(boost::asio::any_io_executor executor,
                                                                     RedisStoreOptions options);
  ~RedisStore() override;

  // Starts the connections' run loops (they reconnect on their own from then on), waits up
  // to `max_wait` for Redis and loads the scripts. unavailable when Redis was not reached in
  // time: the store still works as soon as Redis comes up. StoreErrc::invalid when this Redis
  // holds another layout of records (an older Nox's): nothing is read or written then.
  boost::asio::awaitable<Result<Done>> start(std::chrono::milliseconds max_wait);
  // Closes the connections; operations answer unavailable afterwards. Lets io_context::run end.
  void stop();

  std::string_view kind() const override { return "redis"; }
  bool pipelines() const override { return true; }
  boost::asio::awaitable<bool> ping() override;

  using Store::create;
  boost::asio::awaitable<Result<Job>> create(Job job, CreateBounds bounds) override;
  boost::asio::awaitable<Result<std::uint64_t>> unfinished_of_owner(std::string owner) override;
  boost::asio::awaitable<Result<Job>> get(std::string id) override;
  boost::asio::awaitable<Result<JobPage>> list(ListQuery query) override;
  // One GET of the record; the result is not decompressed.
  boost::asio::awaitable<Result<StatusText>> status_json(std::string id) override;
  boost::asio::awaitable<Result<Job>> cancel(std::string id) override;
  boost::asio::awaitable<Result<Done>> remove(std::string id) override;
  boost::asio::awaitable<Result<Job>> retry(std::string id, boost::json::object spec,
                                            boost::json::object event_data) override;
  boost::asio::awaitable<Result<Job>> resolve_waiting(std::string id, std::string on, Finish outcome) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> waiting_for(std::string id, std::size_t max) override;

  boost::asio::awaitable<Result<std::optional<Job>>> claim(std::string worker_id, Lease lease) override;
  // One script call claims them all (at most 100 per call).
  boost::asio::awaitable<Result<std::vector<Job>>> claim_batch(std::string worker_id, Lease lease,
                                                               std::size_t max) override;
  // One script call: at most 100 jobs, of which 32 in-process ones.
  boost::asio::awaitable<Result<std::vector<Job>>> claim_within(std::string worker_id, Lease lease,
                                                                ClaimBudget budget) override;
  boost::asio::awaitable<Result<std::size_t>> promote_due() override;
  boost::asio::awaitable<void> wait_for_work(std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<Done>> renew(std::string id, std::string worker_id, Lease lease) override;
  boost::asio::awaitable<Result<Job>> finish(std::string id, std::string worker_id, Finish finish) override;
  boost::asio::awaitable<Result<Done>> record_progress(std::string id, boost::json::object progress) override;
  boost::asio::awaitable<Result<std::size_t>> requeue_expired() override;
  boost::asio::awaitable<Result<QueueStats>> stats() override;
  // redis_store_control.cpp
  boost::asio::awaitable<Result<QueueOverview>> queue_overview() override;
  boost::asio::awaitable<Result<QueueControl>> control_queue(std::string name, QueueControlChange change) override;
  boost::asio::awaitable<Result<ScheduleRecord>> create_schedule(ScheduleRecord schedule) override;
  boost::asio::awaitable<Result<ScheduleRecord>> get_schedule(std::string id) override;
  boost::asio::awaitable<Result<std::vector<ScheduleRecord>>> list_schedules(std::string owner) override;
  boost::asio::awaitable<Result<ScheduleRecord>> save_schedule(ScheduleRecord schedule) override;
  boost::asio::awaitable<Result<Done>> remove_schedule(std::string id) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> due_schedules(TimeMs now, std::size_t max) override;

  boost::asio::awaitable<Result<Done>> put_artifacts(std::string id,
                                                     std::vector<Artifact> artifacts) override;
  boost::asio::awaitable<Result<Done>> copy_artifacts(std::string from, std::string to) override;
  boost::asio::awaitable<Result<std::vector<ArtifactInfo>>> list_artifacts(std::string id) override;
  boost::asio::awaitable<Result<ArtifactInfo>> artifact_info(std::string id, std::string name) override;
  // GETRANGE on its own connection: a download never queues a status read behind its chunks.
  boost::asio::awaitable<Result<std::string>> read_artifact(std::string id, std::string name, std::uint64_t offset,
                                                            std::size_t length) override;

  boost::asio::awaitable<Result<EventBatch>> read_events(std::string after_id, std::size_t max,
                                                         std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<std::string>> last_event_id() override;
  // From the job's own list of event ids (kept by the scripts), not a scan of the whole log.
  boost::asio::awaitable<Result<std::vector<JobEvent>>> job_events(std::string job_id) override;

  // redis_answers.cpp
  boost::asio::awaitable<Result<Done>> remember_answer(std::string key, std::string answer,
                                                       std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<Result<std::optional<std::string>>> recall_answer(std::string key) override;

  boost::asio::awaitable<Result<WorkerMode>> heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<Result<Done>> control_worker(std::string id, WorkerMode mode) override;
  boost::asio::awaitable<Result<std::vector<WorkerInfo>>> workers() override;
  boost::asio::awaitable<Result<std::size_t>> sweep_retention(std::chrono::milliseconds retention) override;
  void write_metrics(PrometheusText& text) const override;
  boost::asio::awaitable<Result<std::chrono::milliseconds>> take_tokens(std::string bucket, double rate, double burst,
                                                                        double cost) override;

  // The full name of a key ("<prefix>:{<prefix>}:<suffix>"), for tests and tools.
  std::string key(std::string_view suffix) const { return base_ + std::string(suffix); }
  const RedisStoreOptions& options() const { return options_; }
  // The command connection's last error ("" when fine), for /health.
  const std::string& last_error() const { return commands_->last_error(); }

 private:
  enum Script {
    create_script,
    claim_script,
    renew_script,
    finish_script,
    cancel_script,
    remove_script,
    progress_script,
    requeue_script,
    sweep_script,
    put_artifacts_script,
    heartbeat_script,
    workers_script,
    take_tokens_script,
    resolve_waiting_script,
    promote_due_script,
    retry_script,
    queue_overview_script,
    schedule_save_script,
    queue_control_script,
    copy_artifacts_script,
    script_count
  };
  struct LoadedScript {
    const char* name;
    std::string source;
    std::string sha;  // empty until SCRIPT LOAD answered
    // Changes state: runs at most once per operation id (lib.lua's nox_once records the
    // answer under "<base>op:<id>" and answers it again to a re-issued call).
    bool once = false;
  };

  // EVALSHA (loading the script first or again after NOSCRIPT). A Redis error reply or a
  // connection failure becomes unavailable; otherwise the script's reply.
  boost::asio::awaitable<Result<redis::Reply>> eval(Script script, std::vector<std::string> keys,
                                                    std::vector<std::string_view> args);
  boost::asio::awaitable<Result<Done>> load_script(Script script);
  // list() of a batch whose jobs' ids were made from its id: read by id, no index.
  boost::asio::awaitable<Result<JobPage>> list_batch(ListQuery query, std::string batch_id, std::size_t size);

  // eval() with a given operation id (a new random one per logical call; "" for scripts that
  // are not `once`). When the answer is lost (timeout, connection lost after the write) the
  // same command is sent again once reconnected, until retry_window() has passed.
  boost::asio::awaitable<Result<redis::Reply>> eval_op(Script script, std::vector<std::string> keys,
                                                       std::vector<std::string_view> args, std::string op_id);
  // How long a call whose answer was lost keeps re-issuing, and how long Redis keeps an
  // operation's answer (longer: a re-issue always finds the first outcome).
  std::chrono::milliseconds retry_window() const;
  std::chrono::milliseconds op_ttl() const;
  // An operation answered at its first attempt was sent exactly once: its record can never be
  // asked for again, so it is deleted (UNLINK, batched) instead of living out its TTL.
  void forget_op(std::string op_key);
  boost::asio::awaitable<Result<ScheduleRecord>> write_schedule(std::string_view mode, ScheduleRecord schedule);
  friend struct RedisStoreTestPeer;  // tests/integration/test_redis_exactly_once.cpp
  boost::asio::awaitable<Result<std::vector<redis::Reply>>> exec(redis::Command command);
  boost::asio::awaitable<Result<std::vector<redis::Reply>>> read(redis::Command command);  // on reads_
  boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds duration);

  boost::asio::any_io_executor executor_;
  RedisStoreOptions options_;
  std::string base_;  // "<prefix>:{<prefix>}:"
  std::shared_ptr<redis::Connection> commands_;
  std::shared_ptr<redis::Connection> work_waits_;   // BLPOP on the wake list
  std::shared_ptr<redis::Connection> event_waits_;  // XREAD BLOCK on the event stream
  std::shared_ptr<redis::Connection> artifacts_;    // artifact bytes in and out (big replies and writes)
  // Reads of records, indexes and events (GET /jobs..., /status, /health): never queued
  // behind the scripts on commands_, which can hold a few milliseconds of work each.
  std::shared_ptr<redis::Connection> reads_;
  std::array<LoadedScript, script_count> scripts_;
  // One blocking read per connection at a time; other callers wait for it to return and
  // then look again, so none of them waits longer than it asked to.
  bool work_wait_active_ = false;
  bool last_claim_found_nothing_ = false;
  bool event_wait_active_ = false;
  boost::asio::steady_timer work_wait_done_;
  boost::asio::steady_timer event_wait_done_;
  bool stopped_ = false;
  // Group commit of finish(): the outcomes that arrive while a finish script is out go
  // together in the next one (one EVALSHA, one operation record for many jobs).
  struct PendingFinish;
  std::vector<std::shared_ptr<PendingFinish>> finish_queue_;
  bool finish_flushing_ = false;
  boost::asio::awaitable<void> flush_finishes();
  // The same for create() (a POST /jobs/batch creates concurrently).
  struct PendingCreate;
  std::vector<std::shared_ptr<PendingCreate>> create_queue_;
  bool create_flushing_ = false;
  boost::asio::awaitable<void> flush_creates();
  // Tests only (RedisStoreTestPeer): the operation id every eval uses; "" = a new one each.
  std::string fixed_op_id_;
  // The spec (JSON text) of each job this instance claimed and has not finished: a result is
  // compressed with its spec as the dictionary (job_blob::pack_result).
  std::unordered_map<std::string, std::string> claimed_specs_;
  std::string packed_result(const std::string& id, const boost::json::value& result);
  std::vector<std::string> forgettable_ops_;  // op keys for the next batched UNLINK
};

}  // namespace nox
