#include "storage/memory_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/transitions.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Event ids are "<epoch>-<seq>": the epoch (start time of this store) makes an id from a
// previous run of the process answer `reset` instead of silently matching a new event.
std::string event_id(TimeMs epoch, std::uint64_t seq) { return std::to_string(epoch) + "-" + std::to_string(seq); }

bool matches(const Job& job, const ListQuery& q) {
  if (q.state && job.state != *q.state) return false;
  if (q.engine && job.engine() != *q.engine) return false;
  if (q.tag) {
    auto tags = job.tags();
    if (std::find(tags.begin(), tags.end(), *q.tag) == tags.end()) return false;
  }
  return true;
}

const TimeMs store_epoch = now_ms();

}  // namespace

MemoryStore::MemoryStore(asio::any_io_executor executor, MemoryStoreOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {
  if (options_.events_capacity == 0) options_.events_capacity = 1;
}

asio::awaitable<bool> MemoryStore::ping() { co_return true; }

void MemoryStore::append_event(EventType type, const Job& job, json::object data) {
  JobEvent event;
  event.id = event_id(store_epoch, next_event_seq_++);
  event.type = type;
  event.job_id = job.id;
  event.state = job.state;
  event.time = now_ms();
  event.data = std::move(data);
  events_.push_back(std::move(event));
  if (events_.size() > options_.events_capacity) events_.pop_front();
  wake(event_waiters_);
}

std::optional<StoreError> MemoryStore::apply_transition(Entry& entry, JobState to, json::object event_data) {
  Job& job = entry.job;
  auto event = transition_event(job.state, to);
  if (!event)
    return conflict("job " + job.id + " is " + std::string(to_string(job.state)) + " and cannot become " +
                        std::string(to_string(to)),
                    job.state);
  if (job.state == JobState::pending) dequeue(entry);
  if (job.state == JobState::running) entry.lease_expires_at = 0;
  entry.status_json.clear();
  job.state = to;
  if (is_terminal(to)) job.finished_at = now_ms();
  if (to == JobState::pending) enqueue(entry);
  append_event(*event, job, std::move(event_data));
  return std::nullopt;
}

void MemoryStore::enqueue(Entry& entry) {
  QueueKey key{-entry.job.priority, next_enqueue_++, entry.job.id};
  queue_.insert(key);
  queue_position_[entry.job.id] = key;
  wake(work_waiters_);
}

void MemoryStore::dequeue(const Entry& entry) {
  auto it = queue_position_.find(entry.job.id);
  if (it == queue_position_.end()) return;
  queue_.erase(it->second);
  queue_position_.erase(it);
}

void MemoryStore::wake(std::vector<asio::steady_timer*>& waiters) {
  for (auto* timer : waiters) timer->cancel();
  waiters.clear();
}

asio::awaitable<void> MemoryStore::wait_on(std::vector<asio::steady_timer*>& waiters,
                                           std::chrono::milliseconds max_wait) {
  asio::steady_timer timer(executor_, max_wait);
  waiters.push_back(&timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  std::erase(waiters, &timer);  // no-op when wake() already cleared the list
}

asio::awaitable<Result<Job>> MemoryStore::create(Job job) {
  if (jobs_.contains(job.id)) co_return conflict("job " + job.id + " already exists", jobs_.at(job.id).job.state);
  job.state = JobState::pending;
  Entry entry{std::move(job), next_order_++, 0, {}};
  auto [it, inserted] = jobs_.emplace(entry.job.id, std::move(entry));
  by_order_.emplace(it->second.order, it->first);
  enqueue(it->second);
  append_event(EventType::submitted, it->second.job, {});
  co_return it->second.job;
}

asio::awaitable<Result<Job>> MemoryStore::get(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  co_return it->second.job;
}

asio::awaitable<Result<std::string>> MemoryStore::status_json(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  Entry& entry = it->second;
  if (entry.status_json.empty()) entry.status_json = json::serialize(job_status_json(entry.job));
  co_return entry.status_json;
}

asio::awaitable<Result<JobPage>> MemoryStore::list(ListQuery query) {
  JobPage page;
  auto it = by_order_.rbegin();
  if (!query.cursor.empty()) {
    std::uint64_t before = 0;
    auto [ptr, ec] = std::from_chars(query.cursor.data(), query.cursor.data() + query.cursor.size(), before);
    if (ec != std::errc{} || ptr != query.cursor.data() + query.cursor.size())
      co_return StoreError{StoreErrc::invalid, "the cursor is not one this server issued", {}};
    it = std::make_reverse_iterator(by_order_.lower_bound(before));
  }
  for (; it != by_order_.rend(); ++it) {
    const Entry& entry = jobs_.at(it->second);
    if (!matches(entry.job, query)) continue;
    if (page.jobs.size() == query.limit) {
      page.next_cursor = std::to_string(jobs_.at(page.jobs.back().id).order);
      break;
    }
    page.jobs.push_back(entry.job);
  }
  co_return page;
}

asio::awaitable<Result<Job>> MemoryStore::cancel(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  if (auto error = apply_transition(it->second, JobState::cancelled, {})) co_return *error;
  it->second.job.error = json::object{{"code", "cancelled"}, {"message", "cancelled on request"}};
  it->second.status_json.clear();
  co_return it->second.job;
}

void MemoryStore::erase_job(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  dequeue(it->second);
  by_order_.erase(it->second.order);
  jobs_.erase(it);
  // Removing the files is fire-and-forget on the file thread; nothing waits for it.
  boost::asio::co_spawn(executor_, files_.run([dir = artifact_dir(id)] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return true;
  }), boost::asio::detached);
}

asio::awaitable<Result<Done>> MemoryStore::remove(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  Job& job = it->second.job;
  if (!is_terminal(job.state))
    co_return conflict("job " + id + " is " + std::string(to_string(job.state)) +
                           "; cancel it before deleting it",
                       job.state);
  append_event(EventType::deleted, job, {});
  erase_job(id);
  co_return Done{};
}

asio::awaitable<Result<std::optional<Job>>> MemoryStore::claim(std::string worker_id, Lease lease) {
  if (queue_.empty()) co_return std::optional<Job>{};
  Entry& entry = jobs_.at(std::get<2>(*queue_.begin()));
  Job& job = entry.job;
  job.attempts += 1;
  job.owner = worker_id;
  job.started_at = now_ms();
  job.error = nullptr;
  json::object data{{"worker", worker_id}, {"attempt", job.attempts}};
  if (auto error = apply_transition(entry, JobState::running, std::move(data))) co_return *error;
  entry.lease_expires_at = now_ms() + lease.count();
  co_return std::optional<Job>{job};
}

asio::awaitable<void> MemoryStore::wait_for_work(std::chrono::milliseconds max_wait) {
  if (!queue_.empty()) co_return;
  co_await wait_on(work_waiters_, max_wait);
}

asio::awaitable<Result<Done>> MemoryStore::renew(std::string id, std::string worker_id, Lease lease) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  Entry& entry = it->second;
  if (entry.job.state != JobState::running || entry.job.owner != worker_id)
    co_return conflict("job " + id + " is no longer running on " + worker_id, entry.job.state);
  entry.lease_expires_at = now_ms() + lease.count();
  co_return Done{};
}

asio::awaitable<Result<Job>> MemoryStore::finish(std::string id, std::string worker_id, Finish finish) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  Entry& entry = it->second;
  Job& job = entry.job;
  if (job.state != JobState::running || job.owner != worker_id)
    co_return conflict("job " + id + " is no longer running on " + worker_id, job.state);
  JobState to = finish.state;
  json::object data;
  if (to == JobState::failed && finish.retryable && job.attempts < job.max_attempts) {
    to = JobState::pending;
    data["error"] = finish.error;
    data["attempt"] = job.attempts;
  } else if (to == JobState::completed) {
    data["result"] = result_summary(finish.result);
  } else {
    data["error"] = finish.error;
  }
  job.result = std::move(finish.result);
  job.error = std::move(finish.error);
  job.owner.clear();
  if (auto error = apply_transition(entry, to, std::move(data))) co_return *error;
  co_return job;
}

asio::awaitable<Result<Done>> MemoryStore::record_progress(std::string id, json::object progress) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  Job& job = it->second.job;
  if (job.state != JobState::running) co_return conflict("job " + id + " is not running", job.state);
  job.progress = progress;
  it->second.status_json.clear();
  append_event(EventType::progress, job, json::object{{"progress", std::move(progress)}});
  co_return Done{};
}

asio::awaitable<Result<std::size_t>> MemoryStore::requeue_expired() {
  const TimeMs now = now_ms();
  std::vector<std::string> expired;
  for (auto& [id, entry] : jobs_)
    if (entry.job.state == JobState::running && entry.lease_expires_at != 0 && entry.lease_expires_at < now)
      expired.push_back(id);
  for (const auto& id : expired) {
    Entry& entry = jobs_.at(id);
    Job& job = entry.job;
    json::object lost{{"code", "lost"},
                      {"message", "the instance running this job stopped renewing its lease (attempt " +
                                      std::to_string(job.attempts) + " of " + std::to_string(job.max_attempts) +
                                      ")"}};
    job.owner.clear();
    job.error = lost;
    const JobState to = job.attempts < job.max_attempts ? JobState::pending : JobState::failed;
    apply_transition(entry, to, json::object{{"error", lost}});
  }
  co_return expired.size();
}

asio::awaitable<Result<QueueStats>> MemoryStore::stats() {
  QueueStats stats;
  stats.pending = queue_.size();
  for (const auto& [id, entry] : jobs_) {
    if (entry.job.state == JobState::running) ++stats.running;
    if (entry.job.state == JobState::scheduled) ++stats.scheduled;
  }
  co_return stats;
}

std::filesystem::path MemoryStore::artifact_dir(const std::string& id) const {
  return options_.data_dir / "artifacts" / id;
}

asio::awaitable<Result<Done>> MemoryStore::put_artifacts(std::string id, std::vector<Artifact> artifacts) {
  if (!jobs_.contains(id)) co_return not_found("no job " + id);
  for (const auto& artifact : artifacts)
    if (!is_valid_artifact_name(artifact.name))
      co_return StoreError{StoreErrc::invalid, "invalid artifact name " + artifact.name, {}};
  std::vector<ArtifactInfo> written;
  for (const auto& artifact : artifacts) written.push_back({artifact.name, artifact.bytes.size(), artifact.media_type});
  const auto dir = artifact_dir(id);
  // A named lambda, not a temporary inside co_await: g++ 12 destroys such temporaries twice.
  auto write_files = [dir, artifacts = std::move(artifacts)]() -> std::string {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create " + dir.string() + ": " + ec.message();
    for (const auto& artifact : artifacts) {
      std::ofstream out(dir / artifact.name, std::ios::binary | std::ios::trunc);
      out.write(artifact.bytes.data(), static_cast<std::streamsize>(artifact.bytes.size()));
      if (!out) return "cannot write artifact " + artifact.name + " under " + dir.string();
    }
    return {};
  };
  std::string problem = co_await files_.run(std::move(write_files));
  if (!problem.empty()) co_return unavailable(problem);
  auto it = jobs_.find(id);  // the job may have been removed while the files were written
  if (it == jobs_.end()) co_return not_found("no job " + id);
  auto& infos = it->second.artifacts;
  for (auto& info : written) {
    std::erase_if(infos, [&](const ArtifactInfo& existing) { return existing.name == info.name; });
    infos.push_back(std::move(info));
  }
  co_return Done{};
}

asio::awaitable<Result<std::vector<ArtifactInfo>>> MemoryStore::list_artifacts(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  co_return it->second.artifacts;
}

asio::awaitable<Result<Artifact>> MemoryStore::get_artifact(std::string id, std::string name) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  const auto& infos = it->second.artifacts;
  auto info = std::find_if(infos.begin(), infos.end(), [&](const ArtifactInfo& i) { return i.name == name; });
  if (info == infos.end()) co_return not_found("job " + id + " has no artifact " + name);
  Artifact artifact{name, info->media_type, {}};
  const auto path = artifact_dir(id) / name;
  auto read_file = [path]() -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream content;
    content << in.rdbuf();
    return std::move(content).str();
  };
  std::optional<std::string> bytes = co_await files_.run(std::move(read_file));
  if (!bytes) co_return unavailable("artifact " + name + " of job " + id + " cannot be read");
  artifact.bytes = std::move(*bytes);
  co_return artifact;
}

asio::awaitable<Result<EventBatch>> MemoryStore::read_events(std::string after_id, std::size_t max,
                                                             std::chrono::milliseconds max_wait) {
  std::uint64_t after = 0;
  if (!after_id.empty()) {
    auto parsed = parse_event_id(after_id);
    const std::uint64_t oldest_kept = events_.empty() ? next_event_seq_ : parse_event_id(events_.front().id)->second;
    if (!parsed || parsed->first != static_cast<std::uint64_t>(store_epoch) || parsed->second >= next_event_seq_ ||
        parsed->second + 1 < oldest_kept) {
      EventBatch batch;
      batch.reset = true;
      co_return batch;
    }
    after = parsed->second;
  }
  if (max_wait.count() > 0 && next_event_seq_ == after + 1) co_await wait_on(event_waiters_, max_wait);

  EventBatch batch;
  if (events_.empty()) co_return batch;
  const std::uint64_t first = parse_event_id(events_.front().id)->second;
  std::size_t index = after + 1 > first ? after + 1 - first : 0;
  for (; index < events_.size() && batch.events.size() < max; ++index) batch.events.push_back(events_[index]);
  co_return batch;
}

asio::awaitable<Result<std::string>> MemoryStore::last_event_id() {
  co_return events_.empty() ? std::string{} : events_.back().id;
}

asio::awaitable<Result<Done>> MemoryStore::heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) {
  worker.last_heartbeat = now_ms();
  auto id = worker.id;
  workers_[id] = {std::move(worker), now_ms() + ttl.count()};
  co_return Done{};
}

asio::awaitable<Result<std::vector<WorkerInfo>>> MemoryStore::workers() {
  std::vector<WorkerInfo> live;
  const TimeMs now = now_ms();
  for (const auto& [id, entry] : workers_)
    if (entry.second >= now) live.push_back(entry.first);
  co_return live;
}

asio::awaitable<Result<std::size_t>> MemoryStore::sweep_retention(std::chrono::milliseconds retention) {
  const TimeMs cutoff = now_ms() - retention.count();
  std::vector<std::string> old;
  for (const auto& [id, entry] : jobs_)
    if (is_terminal(entry.job.state) && entry.job.finished_at != 0 && entry.job.finished_at < cutoff)
      old.push_back(id);
  for (const auto& id : old) {
    append_event(EventType::deleted, jobs_.at(id).job, json::object{{"reason", "retention"}});
    erase_job(id);
  }
  co_return old.size();
}

}  // namespace nox
