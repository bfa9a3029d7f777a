#pragma once
// MemoryStore: the embedded default store. Jobs, queue and leases live in this process
// (lost when it exits); artifacts are files under the data dir; the event log is a
// ring buffer. Runs on the event loop's thread only: no locks.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/job_spec.hpp"
#include "core/status_cache.hpp"
#include "storage/block_set.hpp"
#include "storage/file_worker.hpp"
#include "storage/packed_record.hpp"
#include "storage/store.hpp"

namespace nox {

struct MemoryStoreOptions {
  std::filesystem::path data_dir = "nox-data";
  std::size_t events_capacity = 100000;  // ring size; older ids answer `reset`
  std::size_t max_jobs = 1000000;        // create answers StoreErrc::full beyond
};

class MemoryStore final : public Store {
 public:
  MemoryStore(boost::asio::any_io_executor executor, MemoryStoreOptions options);

  std::string_view kind() const override { return "memory"; }
  boost::asio::awaitable<bool> ping() override;

  using Store::create;
  boost::asio::awaitable<Result<Job>> create(Job job, CreateBounds bounds) override;
  boost::asio::awaitable<Result<std::uint64_t>> unfinished_of_owner(std::string owner) override;
  boost::asio::awaitable<Result<Job>> get(std::string id) override;
  boost::asio::awaitable<Result<JobPage>> list(ListQuery query) override;
  boost::asio::awaitable<Result<StatusText>> status_json(std::string id) override;
  boost::asio::awaitable<Result<Job>> cancel(std::string id) override;
  boost::asio::awaitable<Result<Done>> remove(std::string id) override;
  boost::asio::awaitable<Result<Job>> retry(std::string id, boost::json::object spec,
                                            boost::json::object event_data) override;
  boost::asio::awaitable<Result<Job>> resolve_waiting(std::string id, std::string on, Finish outcome) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> waiting_for(std::string id, std::size_t max) override;

  boost::asio::awaitable<Result<std::optional<Job>>> claim(std::string worker_id, Lease lease) override;
  boost::asio::awaitable<Result<std::vector<Job>>> claim_within(std::string worker_id, Lease lease,
                                                                ClaimBudget budget) override;
  boost::asio::awaitable<Result<std::size_t>> promote_due() override;
  boost::asio::awaitable<void> wait_for_work(std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<Done>> renew(std::string id, std::string worker_id, Lease lease) override;
  boost::asio::awaitable<Result<Job>> finish(std::string id, std::string worker_id, Finish finish) override;
  boost::asio::awaitable<Result<Done>> record_progress(std::string id, boost::json::object progress) override;
  boost::asio::awaitable<Result<std::size_t>> requeue_expired() override;
  boost::asio::awaitable<Result<QueueStats>> stats() override;
  // memory_store_control.cpp
  boost::asio::awaitable<Result<QueueOverview>> queue_overview() override;
  boost::asio::awaitable<Result<QueueControl>> control_queue(std::string name, QueueControlChange change) override;
  boost::asio::awaitable<Result<ScheduleRecord>> create_schedule(ScheduleRecord schedule) override;
  boost::asio::awaitable<Result<ScheduleRecord>> get_schedule(std::string id) override;
  boost::asio::awaitable<Result<std::vector<ScheduleRecord>>> list_schedules(std::string owner) override;
  boost::asio::awaitable<Result<ScheduleRecord>> save_schedule(ScheduleRecord schedule) override;
  boost::asio::awaitable<Result<Done>> remove_schedule(std::string id) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> due_schedules(TimeMs now, std::size_t max) override;

  boost::asio::awaitable<Result<Done>> put_artifacts(std::string id, std::vector<Artifact> artifacts) override;
  boost::asio::awaitable<Result<Done>> copy_artifacts(std::string from, std::string to) override;
  boost::asio::awaitable<Result<std::vector<ArtifactInfo>>> list_artifacts(std::string id) override;
  boost::asio::awaitable<Result<ArtifactInfo>> artifact_info(std::string id, std::string name) override;
  boost::asio::awaitable<Result<std::string>> read_artifact(std::string id, std::string name, std::uint64_t offset,
                                                            std::size_t length) override;
  // Removes artifact directories of jobs this store does not hold (left by a job removed while
  // its files were written, or a failed removal); the retention sweep calls it. Returns how many.
  boost::asio::awaitable<std::size_t> remove_orphan_artifacts();

  boost::asio::awaitable<Result<EventBatch>> read_events(std::string after_id, std::size_t max,
                                                         std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<std::string>> last_event_id() override;
  boost::asio::awaitable<Result<std::vector<JobEvent>>> job_events(std::string job_id) override;

  boost::asio::awaitable<Result<Done>> remember_answer(std::string key, std::string answer,
                                                       std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<Result<std::optional<std::string>>> recall_answer(std::string key) override;

  boost::asio::awaitable<Result<WorkerMode>> heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<Result<Done>> control_worker(std::string id, WorkerMode mode) override;
  boost::asio::awaitable<Result<std::vector<WorkerInfo>>> workers() override;
  boost::asio::awaitable<Result<std::size_t>> sweep_retention(std::chrono::milliseconds retention) override;

 private:
  // A job as kept here: scalars and what the indexes need, plus the text parts (spec, result,
  // ...) packed in one string, compressed once the job has finished (storage/packed_record).
  // Parsed again only when a reader asks for them.
  struct Entry {
    JobState state = JobState::pending;
    int attempts = 0;
    int max_attempts = 1;
    int lost = 0;
    int max_lost = 3;
    int priority = 0;
    int threads = 1;  // slots a claim of it costs (Job::threads)
    TimeMs created_at = 0;
    TimeMs started_at = 0;
    TimeMs finished_at = 0;
    TimeMs lease_expires_at = 0;  // running only
    std::uint64_t order = 0;      // creation order: listing, cursors and every index
    std::string packed;           // pack_record(RecordParts)
    std::vector<ArtifactInfo> artifacts;
  };
  using QueueKey = std::tuple<int, std::uint64_t, std::string>;  // (-priority, enqueue seq, id)
  using OrderIndex = BlockSet<std::uint64_t>;                      // creation orders
  // The order -> id index: a job's id (the key in jobs_) by its creation order.
  struct OrderedId {
    std::uint64_t order;
    const std::string* id;
  };
  struct ByOrder {
    bool operator()(const OrderedId& a, const OrderedId& b) const { return a.order < b.order; }
  };

  static Job to_job(const std::string& id, const Entry& entry, const RecordParts& parts);
  static Job to_job(const std::string& id, const Entry& entry);
  // Writes the parts back, compressed when the job has finished (rarely read from then on).
  static void repack(Entry& entry, RecordParts parts);
  Entry* find(const std::string& id);
  // pending -> running under `worker_id` for the queued job `id` (claim's one step). `id` is a
  // copy: the queue entry it may come from is gone once the job is running.
  Result<std::optional<Job>> take(std::string id, const std::string& worker_id, Lease lease);
  // Moves `entry` to `to` if allowed, keeps the indexes, appends the event; the single place
  // states change.
  std::optional<StoreError> apply_transition(const std::string& id, Entry& entry, JobState to,
                                             boost::json::object event_data);
  // Engine, tags and owner are not kept on the entry (they never change): the indexes hold them.
  void index(const std::string& id, const Entry& entry, const Job& job);
  void unindex(const Entry& entry, const Job& job);
  static bool indexed(const std::map<std::string, OrderIndex, std::less<>>& index, const std::string& value,
                      std::uint64_t order);
  void append_event(EventType type, const std::string& job_id, JobState state, boost::json::object data);
  // A job of an owner leaves its unfinished count (it finished, or is deleted unfinished).
  void count_out_of_owner(const std::string& id);
  void enqueue(const std::string& id, Entry& entry);
  void dequeue(const std::string& id);
  void undue(const std::string& id);  // a scheduled job leaves due_
  // Running jobs whose instance is gone: back to pending while lost < max_lost, else failed.
  void take_back_lost(const std::string& id, Entry& entry);
  bool worker_alive(const std::string& worker_id, TimeMs now) const;
  void wake(std::vector<boost::asio::steady_timer*>& waiters);
  boost::asio::awaitable<void> wait_on(std::vector<boost::asio::steady_timer*>& waiters,
                                       std::chrono::milliseconds max_wait);
  void erase_job(const std::string& id);
  // The job `id` of key `key` becomes the latest one, or the job to wait on: "" when none.
  std::string join_or_lead(const std::string& id, const CreateBounds& bounds);
  void stop_waiting(const std::string& id, const std::string& on);
  std::filesystem::path artifact_dir(const std::string& id) const;
  // Deletes the files of a job that was removed while they were being written or linked.
  boost::asio::awaitable<void> remove_artifact_dir(std::string id);

  boost::asio::any_io_executor executor_;
  MemoryStoreOptions options_;
  std::unordered_map<std::string, Entry> jobs_;
  // Ordered indexes (newest last), so every list and sweep reads O(log n + page) entries.
  BlockSet<OrderedId, ByOrder> by_order_;
  const std::string& id_of(std::uint64_t order) const { return *by_order_.find({order, nullptr})->id; }
  std::array<OrderIndex, job_state_count> by_state_;                   // by JobState
  std::map<std::string, OrderIndex, std::less<>> by_engine_;
  std::map<std::string, OrderIndex, std::less<>> by_tag_;
  std::map<std::string, OrderIndex, std::less<>> by_owner_;  // owners that are not "" (open mode)
  BlockSet<std::pair<TimeMs, std::uint64_t>> by_finish_;  // (finished_at, order): retention
  // Unfinished jobs per owner (CreateBounds::max_unfinished_of_owner), and the owner of each
  // such job: the entry does not keep its owner, and finished jobs need no entry here.
  std::unordered_map<std::string, std::uint64_t> unfinished_by_owner_;
  std::unordered_map<std::string, std::string> owner_of_unfinished_;
  // The calculation cache: the latest job created with each calculation key, and the jobs
  // waiting on each job (CreateBounds::calculation_key).
  std::unordered_map<std::string, std::string> latest_of_calculation_;
  std::unordered_map<std::string, std::set<std::string>> waiting_for_;
  // Scheduled jobs by the time they are due (run_at), and each one's: only scheduled jobs are here.
  std::set<std::pair<TimeMs, std::string>> due_;
  std::unordered_map<std::string, TimeMs> due_at_;
  // The queue, in lanes: one per (queue name, compute tags required), so that a claim looks
  // only at the heads of the lanes this instance may take from, and a paused queue or jobs
  // for other machines hold up nothing behind them. Key "" is the default lane (queue
  // "default", no tags); others "<queue>|<tag>,<tag>" (lane_key).
  struct Lane {
    std::string queue{kDefaultQueue};
    std::vector<std::string> requires_tags;
    std::set<QueueKey> jobs;
  };
  std::map<std::string, Lane, std::less<>> lanes_;
  std::unordered_map<std::string, std::string> lane_of_;  // id -> lane key, for jobs outside the default lane
  std::unordered_map<std::string, QueueKey> queue_position_;
  std::size_t queued_ = 0;
  Lane& lane_for(const std::string& key);
  const std::string& lane_key_of(const std::string& id) const;
  std::string_view queue_of(const std::string& id) const;
  bool may_take_from(const Lane& lane, const ClaimBudget& budget) const;
  // GET /queue's counts, kept as jobs enter and leave pending and running.
  std::map<int, std::uint64_t> pending_by_priority_;
  std::map<std::string, std::uint64_t, std::less<>> running_by_queue_;
  std::map<std::string, QueueControl, std::less<>> queue_controls_;
  // The last claim passed over every queued job (none this instance may take yet):
  // wait_for_work waits until something changes instead of answering at once.
  bool claims_blocked_ = false;
  void unblock_claims();
  std::map<std::string, ScheduleRecord> schedules_;
  std::set<std::pair<TimeMs, std::string>> schedules_due_;  // (next_fire_at, id) of unpaused ones
  std::uint64_t next_order_ = 1;
  std::uint64_t next_enqueue_ = 1;

  std::deque<JobEvent> events_;
  std::uint64_t next_event_seq_ = 1;
  // The sequence numbers of each job's events still in the ring (a job's history in O(its events)).
  std::unordered_map<std::string, std::vector<std::uint64_t>> events_of_job_;
  std::vector<boost::asio::steady_timer*> event_waiters_;
  std::vector<boost::asio::steady_timer*> work_waiters_;

  TimeMs last_orphan_scan_ = 0;
  // Serialized statuses of recently polled jobs: status is the hottest read, and building it
  // from a packed record costs a decompression and a parse of the spec.
  StatusCache statuses_{10000};
  std::unordered_map<std::string, std::string> answers_;      // Idempotency-Key -> first answer
  std::set<std::pair<TimeMs, std::string>> answers_expiry_;  // (expires_at, key)

  std::map<std::string, std::pair<WorkerInfo, TimeMs>> workers_;  // id -> (info, expires_at)
  std::map<std::string, WorkerMode> worker_modes_;                  // asked of live instances (not active)
  FileWorker files_;  // artifact file I/O off the loop
  // This store does not survive a restart, so every artifact directory found at start is an
  // orphan: they are moved aside at once and deleted on the file thread (after files_).
  bool previous_artifacts_cleared_ = clear_previous_artifacts();
  bool clear_previous_artifacts();
};

}  // namespace nox
