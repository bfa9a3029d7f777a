#pragma once
// MemoryStore: the embedded default store. Jobs, queue and leases live in this process
// (lost when it exits); artifacts are files under the data dir; the event log is a
// ring buffer. Runs on the event loop's thread only: no locks.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "storage/file_worker.hpp"
#include "storage/store.hpp"

namespace nox {

struct MemoryStoreOptions {
  std::filesystem::path data_dir = "nox-data";
  std::size_t events_capacity = 100000;  // ring size; older ids answer `reset`
};

class MemoryStore final : public Store {
 public:
  MemoryStore(boost::asio::any_io_executor executor, MemoryStoreOptions options);

  std::string_view kind() const override { return "memory"; }
  boost::asio::awaitable<bool> ping() override;

  boost::asio::awaitable<Result<Job>> create(Job job) override;
  boost::asio::awaitable<Result<Job>> get(std::string id) override;
  boost::asio::awaitable<Result<JobPage>> list(ListQuery query) override;
  boost::asio::awaitable<Result<std::string>> status_json(std::string id) override;
  boost::asio::awaitable<Result<Job>> cancel(std::string id) override;
  boost::asio::awaitable<Result<Done>> remove(std::string id) override;

  boost::asio::awaitable<Result<std::optional<Job>>> claim(std::string worker_id, Lease lease) override;
  boost::asio::awaitable<void> wait_for_work(std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<Done>> renew(std::string id, std::string worker_id, Lease lease) override;
  boost::asio::awaitable<Result<Job>> finish(std::string id, std::string worker_id, Finish finish) override;
  boost::asio::awaitable<Result<Done>> record_progress(std::string id, boost::json::object progress) override;
  boost::asio::awaitable<Result<std::size_t>> requeue_expired() override;
  boost::asio::awaitable<Result<QueueStats>> stats() override;

  boost::asio::awaitable<Result<Done>> put_artifacts(std::string id, std::vector<Artifact> artifacts) override;
  boost::asio::awaitable<Result<std::vector<ArtifactInfo>>> list_artifacts(std::string id) override;
  boost::asio::awaitable<Result<Artifact>> get_artifact(std::string id, std::string name) override;

  boost::asio::awaitable<Result<EventBatch>> read_events(std::string after_id, std::size_t max,
                                                         std::chrono::milliseconds max_wait) override;
  boost::asio::awaitable<Result<std::string>> last_event_id() override;

  boost::asio::awaitable<Result<Done>> heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<Result<std::vector<WorkerInfo>>> workers() override;
  boost::asio::awaitable<Result<std::size_t>> sweep_retention(std::chrono::milliseconds retention) override;

 private:
  struct Entry {
    Job job;
    std::uint64_t order = 0;          // creation order, for listing and cursors
    TimeMs lease_expires_at = 0;      // running only
    std::vector<ArtifactInfo> artifacts;
    std::string status_json;  // serialized status, empty when the job changed since
  };
  using QueueKey = std::tuple<int, std::uint64_t, std::string>;  // (-priority, enqueue seq, id)

  // Moves `entry` to `to` if allowed, appends the event; the single place states change.
  std::optional<StoreError> apply_transition(Entry& entry, JobState to, boost::json::object event_data);
  void append_event(EventType type, const Job& job, boost::json::object data);
  void enqueue(Entry& entry);
  void dequeue(const Entry& entry);
  void wake(std::vector<boost::asio::steady_timer*>& waiters);
  boost::asio::awaitable<void> wait_on(std::vector<boost::asio::steady_timer*>& waiters,
                                       std::chrono::milliseconds max_wait);
  void erase_job(const std::string& id);
  std::filesystem::path artifact_dir(const std::string& id) const;

  boost::asio::any_io_executor executor_;
  MemoryStoreOptions options_;
  std::unordered_map<std::string, Entry> jobs_;
  std::map<std::uint64_t, std::string> by_order_;
  std::set<QueueKey> queue_;
  std::unordered_map<std::string, QueueKey> queue_position_;
  std::uint64_t next_order_ = 1;
  std::uint64_t next_enqueue_ = 1;

  std::deque<JobEvent> events_;
  std::uint64_t next_event_seq_ = 1;
  std::vector<boost::asio::steady_timer*> event_waiters_;
  std::vector<boost::asio::steady_timer*> work_waiters_;

  std::map<std::string, std::pair<WorkerInfo, TimeMs>> workers_;  // id -> (info, expires_at)
  FileWorker files_;  // artifact file I/O off the loop
};

}  // namespace nox
