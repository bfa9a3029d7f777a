// MemoryStore: what operators control and read beside the jobs themselves: GET /queue's
// overview, named queues' controls, and recurring schedules.
#include <boost/asio/use_awaitable.hpp>

#include "storage/memory_store.hpp"

namespace nox {

namespace asio = boost::asio;

asio::awaitable<Result<QueueOverview>> MemoryStore::queue_overview() {
  QueueOverview overview;
  overview.pending = queued_;
  overview.running = by_state_[static_cast<std::size_t>(JobState::running)].size();
  overview.scheduled = by_state_[static_cast<std::size_t>(JobState::scheduled)].size();
  overview.waiting = by_state_[static_cast<std::size_t>(JobState::waiting)].size();
  overview.pending_by_priority = pending_by_priority_;
  overview.queues[std::string(kDefaultQueue)];
  for (const auto& [key, lane] : lanes_) {
    if (lane.jobs.empty()) continue;
    overview.queues[lane.queue].pending += lane.jobs.size();
    for (const std::string& tag : lane.requires_tags) overview.pending_by_requirement[tag] += lane.jobs.size();
  }
  for (const auto& [queue, running] : running_by_queue_) overview.queues[queue].running = running;
  for (const auto& [queue, control] : queue_controls_) overview.queues[queue].control = control;
  const OrderIndex& pending = by_state_[static_cast<std::size_t>(JobState::pending)];
  if (!pending.empty()) overview.oldest_pending_created_at = jobs_.at(id_of(*pending.begin())).created_at;
  co_return overview;
}

asio::awaitable<Result<QueueControl>> MemoryStore::control_queue(std::string name, QueueControlChange change) {
  auto it = queue_controls_.find(name);
  QueueControl control = it == queue_controls_.end() ? QueueControl{} : it->second;
  if (change.paused) control.paused = *change.paused;
  if (change.concurrency) control.concurrency = *change.concurrency;
  if (!control.paused && control.concurrency == 0) queue_controls_.erase(name);
  else queue_controls_[name] = control;
  unblock_claims();
  co_return control;
}

// --- recurring schedules ---

asio::awaitable<Result<ScheduleRecord>> MemoryStore::create_schedule(ScheduleRecord schedule) {
  if (schedules_.contains(schedule.id))
    co_return StoreError{StoreErrc::conflict, "schedule " + schedule.id + " exists", {}};
  if (schedules_.size() >= max_schedules)
    co_return full("the store holds its maximum of " + std::to_string(max_schedules) + " schedules");
  schedule.revision = 1;
  if (!schedule.paused) schedules_due_.emplace(schedule.next_fire_at, schedule.id);
  schedules_.emplace(schedule.id, schedule);
  co_return schedule;
}

asio::awaitable<Result<ScheduleRecord>> MemoryStore::get_schedule(std::string id) {
  auto it = schedules_.find(id);
  if (it == schedules_.end()) co_return not_found("no schedule " + id);
  co_return it->second;
}

asio::awaitable<Result<std::vector<ScheduleRecord>>> MemoryStore::list_schedules(std::string owner) {
  std::vector<ScheduleRecord> out;
  for (const auto& [id, schedule] : schedules_)
    if (owner.empty() || schedule.owner == owner) out.push_back(schedule);
  co_return out;
}

asio::awaitable<Result<ScheduleRecord>> MemoryStore::save_schedule(ScheduleRecord schedule) {
  auto it = schedules_.find(schedule.id);
  if (it == schedules_.end()) co_return not_found("no schedule " + schedule.id);
  if (it->second.revision != schedule.revision)
    co_return StoreError{StoreErrc::conflict, "schedule " + schedule.id + " changed meanwhile", {}};
  if (!it->second.paused) schedules_due_.erase({it->second.next_fire_at, schedule.id});
  schedule.revision += 1;
  if (!schedule.paused) schedules_due_.emplace(schedule.next_fire_at, schedule.id);
  it->second = schedule;
  co_return schedule;
}

asio::awaitable<Result<Done>> MemoryStore::remove_schedule(std::string id) {
  auto it = schedules_.find(id);
  if (it == schedules_.end()) co_return not_found("no schedule " + id);
  if (!it->second.paused) schedules_due_.erase({it->second.next_fire_at, id});
  schedules_.erase(it);
  co_return Done{};
}

asio::awaitable<Result<std::vector<std::string>>> MemoryStore::due_schedules(TimeMs now, std::size_t max) {
  std::vector<std::string> ids;
  for (auto it = schedules_due_.begin(); it != schedules_due_.end() && it->first <= now && ids.size() < max; ++it)
    ids.push_back(it->second);
  co_return ids;
}

}  // namespace nox
