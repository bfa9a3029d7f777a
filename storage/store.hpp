#pragma once
// Store: where jobs, the queue with leases, the event log, artifacts and workers live.
// Every operation is awaitable so that MemoryStore and RedisStore are interchangeable
// behind routes, the dispatcher and SSE. Every state change is a compare-and-set that
// appends exactly one event, or is refused whole.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/artifact.hpp"
#include "core/job.hpp"
#include "core/job_event.hpp"
#include "core/metrics.hpp"
#include "core/status_cache.hpp"
#include "storage/store_result.hpp"

namespace nox {

struct ListQuery {
  std::optional<JobState> state;
  std::optional<std::string> engine;
  std::optional<std::string> tag;
  std::optional<std::string> owner;  // set (never ""): this identity's jobs only
  std::size_t limit = 50;
  std::string cursor;  // opaque, from a previous JobPage::next_cursor; empty = first page
};

struct JobPage {
  std::vector<Job> jobs;    // newest first; `result` may be left null (a list shows statuses)
  std::string next_cursor;  // empty when there is no further page
};

// How an attempt ended, as the runner reports it.
struct Finish {
  JobState state = JobState::completed;  // completed | failed (resolve_waiting: also pending, waiting)
  boost::json::value result;             // completed: the parsed result
  boost::json::value error;              // failed: {"code","message",...}
  bool retryable = false;                // failed: may run again if attempts < max_attempts
  std::string wait_on;                   // resolve_waiting to waiting: the job to wait on next
  // resolve_waiting to pending, or finish when the job runs again: the spec it runs (empty: unchanged).
  boost::json::object spec;
  // finish when the job runs again (core/retry_policy.hpp): not before this time (0: at once;
  // the job is `scheduled` until then), and what the `retrying` event adds (next_attempt_at, changed).
  TimeMs retry_at = 0;
  boost::json::object retry_note;
};

struct EventBatch {
  std::vector<JobEvent> events;  // in log order, all strictly after the requested id
  bool reset = false;            // the requested id is older than the log keeps: reload state
};

// What an operator asked of an instance (POST /workers/{id}/pause, /resume, /drain): claim
// as usual; claim nothing (its running jobs go on); claim nothing and stop once its running
// jobs have finished.
enum class WorkerMode { active, paused, draining };
inline std::string_view to_string(WorkerMode mode) {
  return mode == WorkerMode::paused ? "paused" : mode == WorkerMode::draining ? "draining" : "active";
}
inline WorkerMode parse_worker_mode(std::string_view text) {
  return text == "paused" ? WorkerMode::paused : text == "draining" ? WorkerMode::draining : WorkerMode::active;
}

struct WorkerInfo {
  std::string id;
  std::string host;
  std::string listen;
  int slots = 0;
  int busy = 0;
  TimeMs started_at = 0;
  TimeMs last_heartbeat = 0;
  WorkerMode mode = WorkerMode::active;  // the one it acts on now
  std::vector<std::string> tags;         // compute tags it offers
  std::vector<std::string> queues;       // queues it serves (empty: all)
  std::vector<std::string> engines_out;  // engines its circuit breaker took out of its claims
};

struct QueueStats {
  std::size_t pending = 0;
  std::size_t running = 0;
  std::size_t scheduled = 0;
  std::size_t waiting = 0;  // for the jobs they depend on (or a calculation under way)
};

// A named queue's controls (POST /queues/{name}/pause, /resume, PUT /queues/{name}), the same
// for every instance on the store: a paused queue's jobs stay queued in their order; at most
// `concurrency` of its jobs run at once across all instances (0: no bound).
struct QueueControl {
  bool paused = false;
  std::uint64_t concurrency = 0;  // 0: no limit
};

// What one request changes of a queue's controls; the rest stays as it is.
struct QueueControlChange {
  std::optional<bool> paused;
  std::optional<std::uint64_t> concurrency;
};

struct QueueDepth {
  std::uint64_t pending = 0;
  std::uint64_t running = 0;
  QueueControl control;
};

// GET /queue: what an operator looks at first, each figure read in O(1) or O(queues) from
// counts the state changes keep, never by walking jobs.
struct QueueOverview {
  std::uint64_t pending = 0, running = 0, scheduled = 0, waiting = 0;
  std::map<int, std::uint64_t> pending_by_priority;
  std::map<std::string, QueueDepth> queues;  // every queue with jobs or controls; "default" always
  std::map<std::string, std::uint64_t> pending_by_requirement;  // compute tag -> pending jobs requiring it
  TimeMs oldest_pending_created_at = 0;  // 0: none pending
};

// A recurring schedule as the store keeps it (server/schedules.hpp gives `body` its meaning).
// The store indexes it by next_fire_at while it is not paused, and saves it only over the
// revision the caller read (compare-and-set), so that instances advancing a schedule together
// cannot both win.
struct ScheduleRecord {
  std::string id;
  std::string owner;  // "" in open mode
  std::string body;   // JSON text
  TimeMs next_fire_at = 0;
  bool paused = false;
  std::uint64_t revision = 0;  // 1 once created; +1 by every save
};
inline constexpr std::size_t max_schedules = 10000;

using Lease = std::chrono::milliseconds;

// What create() checks in the same step as it saves the job, so that concurrent submissions
// (on this instance or on others sharing Redis) cannot pass a bound together.
struct CreateBounds {
  // The job's owner may then hold at most this many unfinished (pending, scheduled, running)
  // jobs, this one included; 0: no bound. Jobs without an owner (open mode) are not bounded.
  std::uint64_t max_unfinished_of_owner = 0;
  // At most this many unfinished jobs in the whole store (max_queued), this one included; 0: no bound.
  std::uint64_t max_unfinished_total = 0;
  // The calculation cache (server/calculation_cache.hpp). With a calculation key: when
  // join_calculation and the latest job created with this key is still there and neither failed
  // nor was cancelled, the new job is created `waiting` on it (job.waiting_on), not queued;
  // otherwise it is queued and becomes the latest for the key (kept for calculation_key_ttl).
  std::string calculation_key;
  bool join_calculation = true;
  std::chrono::milliseconds calculation_key_ttl{std::chrono::hours(24 * 7)};
  // Workflows (server/dependencies.hpp): the job is created `waiting` on this job (one of its
  // parents), whatever its calculation key says; "" none.
  std::string wait_on;
};

struct ClaimBudget {
  std::size_t slots = 0;        // free slots: a job costs its threads (at most total_slots) of them
  std::size_t total_slots = 0;  // the instance's slots (0: one per job, whatever its threads)
  std::size_t in_process = 0;
  std::vector<std::string> in_process_engines;
  // Engines whose jobs this claim leaves in the queue (an engine taken out of this instance's
  // claims by its circuit breaker); jobs behind them are claimed, looking past at most
  // max_claim_skips of theirs.
  std::vector<std::string> excluded_engines;
  // Routing: the compute tags this instance offers (a job requiring others is left for an
  // instance that offers them), and the queues it serves (empty: all).
  std::vector<std::string> offered_tags;
  std::vector<std::string> served_queues;
};
inline constexpr std::size_t max_claim_skips = 200;

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string_view kind() const = 0;  // "memory" | "redis"
  // True when many operations in flight at once are cheaper than one after another
  // (Redis pipelines them on one connection); the memory store answers without waiting.
  virtual bool pipelines() const { return false; }
  // True when the store answers now (GET /ready).
  virtual boost::asio::awaitable<bool> ping() = 0;

  // --- jobs ---
  // Saves a new job (state pending) and enqueues it, or, when its run_at is still to come, keeps
  // it `scheduled` until promote_due(); appends `submitted`. conflict when a job
  // with that id exists (an Idempotency-Key replay relies on it); full beyond max_jobs;
  // quota beyond bounds.max_unfinished_of_owner; busy beyond bounds.max_unfinished_total.
  virtual boost::asio::awaitable<Result<Job>> create(Job job, CreateBounds bounds) = 0;
  boost::asio::awaitable<Result<Job>> create(Job job) { return create(std::move(job), CreateBounds{}); }
  // How many unfinished (pending, scheduled, running) jobs `owner` has: O(1), kept with every
  // change of state. A batch is refused whole when it would not fit.
  virtual boost::asio::awaitable<Result<std::uint64_t>> unfinished_of_owner(std::string owner) = 0;
  virtual boost::asio::awaitable<Result<Job>> get(std::string id) = 0;
  virtual boost::asio::awaitable<Result<JobPage>> list(ListQuery query) = 0;
  // GET /jobs/{id}/status, serialized (job_status_json), with the job's owner: the hottest read, so a store may
  // answer it without copying the whole record. The default serializes get().
  virtual boost::asio::awaitable<Result<StatusText>> status_json(std::string id);
  // pending|scheduled|running -> cancelled (conflict when already finished); appends `cancelled`.
  // A running job's owner notices at its next renew (or sooner, locally) and kills the process.
  virtual boost::asio::awaitable<Result<Job>> cancel(std::string id) = 0;
  // failed | cancelled -> pending (POST /jobs/{id}/retry): the same job runs again with its
  // history and attempts; its last result, error and progress go; `spec` replaces its spec when
  // not empty. Appends `retrying` with `event_data`. conflict in any other state.
  virtual boost::asio::awaitable<Result<Job>> retry(std::string id, boost::json::object spec,
                                                    boost::json::object event_data) = 0;
  // Ends the wait of a job created `waiting` on `on`: -> completed with outcome.result (its
  // cached_from becomes `on`), -> failed with outcome.error, or -> pending (queued: `queued`;
  // its spec replaced by outcome.spec when given). Or moves the wait to outcome.wait_on (state
  // waiting: the job still waits, on another parent; a `progress` event with its waiting_on).
  // conflict unless the job is waiting on `on`.
  virtual boost::asio::awaitable<Result<Job>> resolve_waiting(std::string id, std::string on, Finish outcome) = 0;
  // Up to `max` ids of the jobs waiting on `id`.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> waiting_for(std::string id, std::size_t max) = 0;
  // Removes a finished job with its artifacts; appends `deleted`. conflict unless terminal.
  virtual boost::asio::awaitable<Result<Done>> remove(std::string id) = 0;

  // --- queue with leases ---
  // Takes the best pending job: pending -> running, attempts+1, owner=worker; appends `started`.
  virtual boost::asio::awaitable<Result<std::optional<Job>>> claim(std::string worker_id, Lease lease) = 0;
  // Up to `max` claims at once (a store may answer them in one round trip); the default claims
  // one. Empty when the queue is.
  virtual boost::asio::awaitable<Result<std::vector<Job>>> claim_batch(std::string worker_id, Lease lease,
                                                                       std::size_t max);
  // Claims within a budget per kind of job: jobs of `budget.in_process_engines` (they run on
  // the loop and need no slot) count one each against budget.in_process, all others their
  // threads (capped at total_slots) against budget.slots; the claim stops at the first job
  // whose kind has not enough budget left (it stays first in the queue: a job asking for many
  // cores is not overtaken forever by small ones). The default claims min(slots, in_process)
  // jobs with claim_batch, one slot each.
  virtual boost::asio::awaitable<Result<std::vector<Job>>> claim_within(std::string worker_id, Lease lease,
                                                                        ClaimBudget budget);
  // Moves the scheduled jobs whose run_at has come to pending (event `scheduled`), earliest
  // first, a bounded number per call. Returns how many.
  virtual boost::asio::awaitable<Result<std::size_t>> promote_due() = 0;
  // Returns when work may have arrived, or after max_wait. Never busy-polls.
  virtual boost::asio::awaitable<void> wait_for_work(std::chrono::milliseconds max_wait) = 0;
  // Extends the lease; conflict when the job is no longer running under this worker (cancelled, lost).
  virtual boost::asio::awaitable<Result<Done>> renew(std::string id, std::string worker_id, Lease lease) = 0;
  // running (owned by worker) -> completed | failed, or -> pending with `retrying` when
  // finish.retryable and the job's own attempts (attempts - lost) are below max_attempts (->
  // scheduled until finish.retry_at when that is still to come; its spec replaced by
  // finish.spec when given).
  // Returns the record as it now is, with finish.result; its spec may be left out (the Redis
  // store does not read it back: the caller has it). conflict when the job is no longer ours.
  virtual boost::asio::awaitable<Result<Job>> finish(std::string id, std::string worker_id, Finish finish) = 0;
  // Appends a `progress` event and keeps the numbers on the job; no state change.
  virtual boost::asio::awaitable<Result<Done>> record_progress(std::string id, boost::json::object progress) = 0;
  // Takes back the running jobs of instances that are gone: those whose owner's heartbeat has
  // expired (at once, whatever their lease says; a stale worker record is kept until then), and
  // those whose lease expired while their owner never sent a heartbeat. A lease whose owner still heartbeats is never taken: an
  // instance that was cut off from the store keeps its work when it comes back. Each goes back
  // to pending (`retrying`, lost + 1) while lost < max_lost, else to failed with code "lost".
  // Time during which no instance could reach the store does not count against leases.
  // Returns how many were moved.
  virtual boost::asio::awaitable<Result<std::size_t>> requeue_expired() = 0;
  virtual boost::asio::awaitable<Result<QueueStats>> stats() = 0;
  virtual boost::asio::awaitable<Result<QueueOverview>> queue_overview() = 0;
  // Changes a named queue's controls in one step (two operators changing different controls at
  // once both count) and answers them as they now are; back at the defaults, the queue's
  // controls are dropped. Claims on every instance see them at their next call; resuming wakes
  // idle instances.
  virtual boost::asio::awaitable<Result<QueueControl>> control_queue(std::string name, QueueControlChange change) = 0;

  // --- recurring schedules (server/schedules.hpp) ---
  // Saves a new schedule at revision 1: conflict when the id exists, full beyond max_schedules.
  virtual boost::asio::awaitable<Result<ScheduleRecord>> create_schedule(ScheduleRecord schedule) = 0;
  virtual boost::asio::awaitable<Result<ScheduleRecord>> get_schedule(std::string id) = 0;
  // All schedules, or those of `owner` when it is not "", by id.
  virtual boost::asio::awaitable<Result<std::vector<ScheduleRecord>>> list_schedules(std::string owner) = 0;
  // Replaces the schedule when its revision is still schedule.revision (conflict otherwise;
  // not_found when it is gone); answers it with the next revision.
  virtual boost::asio::awaitable<Result<ScheduleRecord>> save_schedule(ScheduleRecord schedule) = 0;
  virtual boost::asio::awaitable<Result<Done>> remove_schedule(std::string id) = 0;
  // Up to `max` ids of unpaused schedules whose next_fire_at is at or before `now`, earliest first.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> due_schedules(TimeMs now, std::size_t max) = 0;

  // --- artifacts ---
  // Stores (or replaces, by name) files of an existing job. An artifact's sha256, when the
  // producer computed it, is kept as given; otherwise the store computes it.
  virtual boost::asio::awaitable<Result<Done>> put_artifacts(std::string id, std::vector<Artifact> artifacts) = 0;
  // Gives job `to` every file of job `from` (replacing those of the same names), as the
  // calculation cache does for a job it answers with another's result; not_found when either
  // job is gone. The bytes are not read into noxd: the memory store hard-links the files (one
  // copy on disk however many jobs share it), Redis copies the keys inside Redis (COPY).
  virtual boost::asio::awaitable<Result<Done>> copy_artifacts(std::string from, std::string to) = 0;
  virtual boost::asio::awaitable<Result<std::vector<ArtifactInfo>>> list_artifacts(std::string id) = 0;
  // One artifact's name, size, media type and SHA-256; not_found when the job or the file is not there.
  virtual boost::asio::awaitable<Result<ArtifactInfo>> artifact_info(std::string id, std::string name) = 0;
  // Up to `length` bytes (at most artifact_chunk_bytes) of an artifact from `offset`: fewer only at
  // its end, "" at or past it. not_found when it is not there (any more). A download reads chunk by
  // chunk, so no file is ever held whole in memory.
  virtual boost::asio::awaitable<Result<std::string>> read_artifact(std::string id, std::string name,
                                                                    std::uint64_t offset, std::size_t length) = 0;

  // --- event log ---
  // Events strictly after `after_id` ("" = from the oldest kept), at most `max`. When none
  // are there yet, waits up to `max_wait` for new ones (zero: answer at once).
  virtual boost::asio::awaitable<Result<EventBatch>> read_events(std::string after_id, std::size_t max,
                                                                 std::chrono::milliseconds max_wait) = 0;
  // Every event of one job still in the log, oldest first (a late SSE subscriber's history).
  // The default scans the whole log; a store with a per-job index overrides it.
  virtual boost::asio::awaitable<Result<std::vector<JobEvent>>> job_events(std::string job_id);
  // The newest event id now ("" when the log is empty): where a live-only reader starts.
  virtual boost::asio::awaitable<Result<std::string>> last_event_id() = 0;

  // --- idempotent submissions ---
  // Keeps the first answer to a request made with an Idempotency-Key for `ttl`; a later
  // request with the same key gets it back. `key` is already scoped (e.g. "submit:<key>").
  virtual boost::asio::awaitable<Result<Done>> remember_answer(std::string key, std::string answer,
                                                               std::chrono::milliseconds ttl) = 0;
  // The remembered answer, or nullopt.
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> recall_answer(std::string key) = 0;

  // --- workers ---
  // Records the instance as alive for `ttl` (its leases are safe from sweeps until then), and
  // answers the mode an operator last asked of it (control_worker).
  virtual boost::asio::awaitable<Result<WorkerMode>> heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) = 0;
  // Asks a live instance to run in `mode` from its next heartbeat (within about a second).
  // not_found when no live instance has that id.
  virtual boost::asio::awaitable<Result<Done>> control_worker(std::string id, WorkerMode mode) = 0;
  virtual boost::asio::awaitable<Result<std::vector<WorkerInfo>>> workers() = 0;

  // Removes finished jobs older than the retention period with their artifacts, oldest first, in
  // bounded steps that let other work run between them. Returns how many.
  virtual boost::asio::awaitable<Result<std::size_t>> sweep_retention(std::chrono::milliseconds retention) = 0;

  // A token bucket shared by every instance on this store (per-identity rate limits): takes
  // `cost` tokens of `bucket` (refilled at `rate` a second, holding at most `burst`). Zero when
  // taken, else the wait until they would be there. Stores that serve one instance only
  // answer `invalid`: the caller keeps its own buckets.
  virtual boost::asio::awaitable<Result<std::chrono::milliseconds>> take_tokens(std::string bucket, double rate,
                                                                                double burst, double cost) {
    (void)bucket, (void)rate, (void)burst, (void)cost;
    co_return StoreError{StoreErrc::invalid, "this store keeps no shared buckets", {}};
  }

  // The store's own figures for GET /metrics (Redis: round trips and reconnects per connection).
  virtual void write_metrics(PrometheusText& text) const { (void)text; }
};

}  // namespace nox
