#include "storage/memory_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>

#include "core/calculation_hash.hpp"
#include "core/json_serialize.hpp"
#include "core/transitions.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Entries a list request looks at before it answers a short page with a cursor: with sparse
// filters a request costs this much at most, never a walk over every job.
constexpr std::size_t list_scan_budget = 2000;
// Jobs a retention sweep removes between two yields to the event loop (each costs the parse
// of its spec, for the engine and tag indexes: ~1 ms per step).
constexpr std::size_t sweep_step = 32;
// Beyond this many, hash tables grow (and rehash) as jobs arrive instead of being sized at start.
constexpr std::size_t max_reserved_jobs = 4'000'000;
// How often a retention sweep also looks for artifact directories without a job.
constexpr TimeMs orphan_scan_interval_ms = 3600 * 1000;

// Event ids are "<epoch>-<seq>": the epoch (start time of this store) makes an id from a
// previous run of the process answer `reset` instead of silently matching a new event.
std::string event_id(TimeMs epoch, std::uint64_t seq) { return std::to_string(epoch) + "-" + std::to_string(seq); }

const TimeMs store_epoch = now_ms();

std::string text_of(const json::value& value) { return value.is_null() ? std::string() : serialize_json(value); }

json::value value_of(const std::string& text) {
  if (text.empty()) return nullptr;
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) return nullptr;
  return parsed;  // moved: a conditional expression here would copy the whole tree
}

json::object lost_error(const Job& job) {
  return json::object{{"code", "lost"},
                      {"message", "the instance running this job stopped (lost " + std::to_string(job.lost) + " of " +
                                      std::to_string(job.max_lost) + " times allowed)"}};
}

}  // namespace

MemoryStore::MemoryStore(asio::any_io_executor executor, MemoryStoreOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {
  if (options_.events_capacity == 0) options_.events_capacity = 1;
  statuses_.set_enabled(true);  // every change below drops its job's entry at once
  // Hash tables sized for max_jobs now (8 bytes a bucket: 16 MB for both at the default
  // 1,000,000): growing past a million entries rehashes all of them in one go, which held
  // the loop for tens of milliseconds in the middle of a batch.
  const std::size_t expected_jobs = std::min<std::size_t>(options_.max_jobs, max_reserved_jobs);
  jobs_.reserve(expected_jobs);
  queue_position_.reserve(expected_jobs);
  events_of_job_.reserve(std::min(options_.events_capacity, max_reserved_jobs));
}

asio::awaitable<bool> MemoryStore::ping() { co_return true; }

// --- records and indexes ---

Job MemoryStore::to_job(const std::string& id, const Entry& entry, const RecordParts& parts) {
  Job job;
  job.id = id;
  job.state = entry.state;
  job.created_at = entry.created_at;
  job.started_at = entry.started_at;
  job.finished_at = entry.finished_at;
  job.attempts = entry.attempts;
  job.max_attempts = entry.max_attempts;
  job.lost = entry.lost;
  job.max_lost = entry.max_lost;
  job.priority = entry.priority;
  if (json::value spec = value_of(parts.spec); spec.is_object()) job.spec = std::move(spec.get_object());
  job.result = value_of(parts.result);
  job.error = value_of(parts.error);
  job.progress = value_of(parts.progress);
  job.worker_id = parts.worker_id;
  job.owner = parts.owner;
  job.waiting_on = parts.waiting_on;
  job.cached_from = parts.cached_from;
  return job;
}

Job MemoryStore::to_job(const std::string& id, const Entry& entry) {
  return to_job(id, entry, unpack_record(entry.packed));
}

void MemoryStore::repack(Entry& entry, RecordParts parts) {
  const bool finished = is_terminal(entry.state);
  if (finished) parts.summary.clear();  // derived from the spec when asked for
  entry.packed = pack_record(parts, finished);
}

MemoryStore::Entry* MemoryStore::find(const std::string& id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

void MemoryStore::index(const std::string& id, const Entry& entry, const Job& job) {
  by_order_.insert({entry.order, &jobs_.find(id)->first});
  by_state_[static_cast<std::size_t>(entry.state)].insert(entry.order);
  by_engine_[job.engine()].insert(entry.order);
  for (const auto& tag : job.index_tags()) by_tag_[tag].insert(entry.order);
  // Open mode's jobs (owner "") are not indexed: a million of them would cost ~48 MB for an
  // index no request reads (an open-mode caller is an administrator and lists everything).
  if (!job.owner.empty()) by_owner_[job.owner].insert(entry.order);
}

void MemoryStore::unindex(const Entry& entry, const Job& job) {
  by_order_.erase({entry.order, nullptr});
  by_state_[static_cast<std::size_t>(entry.state)].erase(entry.order);
  auto drop = [&](std::map<std::string, OrderIndex, std::less<>>& index, const std::string& value) {
    auto it = index.find(value);
    if (it == index.end()) return;
    it->second.erase(entry.order);
    if (it->second.empty()) index.erase(it);
  };
  drop(by_engine_, job.engine());
  for (const auto& tag : job.index_tags()) drop(by_tag_, tag);
  if (!job.owner.empty()) drop(by_owner_, job.owner);
  if (is_terminal(entry.state)) by_finish_.erase({entry.finished_at, entry.order});
}

bool MemoryStore::indexed(const std::map<std::string, OrderIndex, std::less<>>& index, const std::string& value,
                          std::uint64_t order) {
  auto it = index.find(value);
  return it != index.end() && it->second.contains(order);
}

// --- events ---

void MemoryStore::append_event(EventType type, const std::string& job_id, JobState state, json::object data) {
  JobEvent event;
  const std::uint64_t seq = next_event_seq_++;
  event.id = event_id(store_epoch, seq);
  event.type = type;
  event.job_id = job_id;
  event.state = state;
  event.time = now_ms();
  event.data = std::move(data);
  statuses_.invalidate(job_id);  // every change of a job appends an event
  events_.push_back(std::move(event));
  events_of_job_[job_id].push_back(seq);
  if (events_.size() > options_.events_capacity) {
    // The oldest event leaves the ring, and so its job's history (it is that job's oldest).
    auto it = events_of_job_.find(events_.front().job_id);
    if (it != events_of_job_.end()) {
      if (!it->second.empty()) it->second.erase(it->second.begin());
      if (it->second.empty()) events_of_job_.erase(it);
    }
    events_.pop_front();
  }
  wake(event_waiters_);
}

std::optional<StoreError> MemoryStore::apply_transition(const std::string& id, Entry& entry, JobState to,
                                                        json::object event_data) {
  auto event = transition_event(entry.state, to);
  if (!event)
    return conflict("job " + id + " is " + std::string(to_string(entry.state)) + " and cannot become " +
                        std::string(to_string(to)),
                    entry.state);
  if (entry.state == JobState::pending) dequeue(id);
  if (entry.state == JobState::scheduled) undue(id);
  if (entry.state == JobState::running) {
    entry.lease_expires_at = 0;
    auto running = running_by_queue_.find(queue_of(id));
    if (running != running_by_queue_.end() && --running->second == 0) running_by_queue_.erase(running);
    unblock_claims();  // a slot of its queue (and of this instance) is free
  }
  if (to == JobState::running) ++running_by_queue_[std::string(queue_of(id))];
  // Engine and tags never change: only the state's indexes move.
  by_state_[static_cast<std::size_t>(entry.state)].erase(entry.order);
  if (is_terminal(entry.state)) by_finish_.erase({entry.finished_at, entry.order});
  if (is_terminal(to) && !is_terminal(entry.state)) count_out_of_owner(id);
  entry.state = to;
  if (is_terminal(to)) entry.finished_at = now_ms();
  by_state_[static_cast<std::size_t>(to)].insert(entry.order);
  if (is_terminal(to)) by_finish_.insert({entry.finished_at, entry.order});
  if (to == JobState::pending) enqueue(id, entry);
  append_event(*event, id, to, std::move(event_data));
  return std::nullopt;
}

void MemoryStore::count_out_of_owner(const std::string& id) {
  const auto owned = owner_of_unfinished_.find(id);
  if (owned == owner_of_unfinished_.end()) return;
  const auto held = unfinished_by_owner_.find(owned->second);
  if (held != unfinished_by_owner_.end() && --held->second == 0) unfinished_by_owner_.erase(held);
  owner_of_unfinished_.erase(owned);
}

namespace {

std::string lane_key(std::string_view queue, const std::vector<std::string>& requires_tags) {
  if (queue == kDefaultQueue && requires_tags.empty()) return {};
  std::string key(queue);
  key += '|';
  for (std::size_t i = 0; i < requires_tags.size(); ++i) key += (i ? "," : "") + requires_tags[i];
  return key;
}

}  // namespace

MemoryStore::Lane& MemoryStore::lane_for(const std::string& key) {
  auto [it, made] = lanes_.try_emplace(key);
  if (made && !key.empty()) {
    const std::size_t bar = key.find('|');
    it->second.queue = key.substr(0, bar);
    for (std::size_t at = bar + 1; at < key.size();) {
      const std::size_t comma = std::min(key.find(',', at), key.size());
      it->second.requires_tags.push_back(key.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return it->second;
}

const std::string& MemoryStore::lane_key_of(const std::string& id) const {
  static const std::string default_lane;
  auto it = lane_of_.find(id);
  return it == lane_of_.end() ? default_lane : it->second;
}

std::string_view MemoryStore::queue_of(const std::string& id) const {
  const std::string& key = lane_key_of(id);
  return key.empty() ? kDefaultQueue : std::string_view(key).substr(0, key.find('|'));
}

void MemoryStore::enqueue(const std::string& id, Entry& entry) {
  QueueKey key{-entry.priority, next_enqueue_++, id};
  lane_for(lane_key_of(id)).jobs.insert(key);
  queue_position_[id] = std::move(key);
  ++queued_;
  ++pending_by_priority_[entry.priority];
  unblock_claims();
}

void MemoryStore::dequeue(const std::string& id) {
  auto it = queue_position_.find(id);
  if (it == queue_position_.end()) return;
  const std::string& key = lane_key_of(id);
  auto lane = lanes_.find(key);
  if (lane != lanes_.end()) {
    lane->second.jobs.erase(it->second);
    if (lane->second.jobs.empty() && !key.empty()) lanes_.erase(lane);
  }
  const int priority = -std::get<0>(it->second);
  if (auto count = pending_by_priority_.find(priority); count != pending_by_priority_.end() && --count->second == 0)
    pending_by_priority_.erase(count);
  queue_position_.erase(it);
  --queued_;
}

void MemoryStore::unblock_claims() {
  claims_blocked_ = false;
  wake(work_waiters_);
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

// --- jobs ---

asio::awaitable<Result<Job>> MemoryStore::create(Job job, CreateBounds bounds) {
  if (const Entry* existing = find(job.id)) co_return conflict("job " + job.id + " already exists", existing->state);
  if (jobs_.size() >= options_.max_jobs)
    co_return full("the store holds its maximum of " + std::to_string(options_.max_jobs) +
                   " jobs (max_jobs); finished jobs leave it after the retention period or when deleted");
  if (!job.owner.empty() && bounds.max_unfinished_of_owner > 0) {
    const auto held = unfinished_by_owner_.find(job.owner);
    if (held != unfinished_by_owner_.end() && held->second >= bounds.max_unfinished_of_owner)
      co_return over_quota(job.owner, held->second);
  }
  if (bounds.max_unfinished_total > 0) {
    std::uint64_t unfinished = 0;
    for (JobState state : {JobState::scheduled, JobState::waiting, JobState::pending, JobState::running})
      unfinished += by_state_[static_cast<std::size_t>(state)].size();
    if (unfinished >= bounds.max_unfinished_total)
      co_return StoreError{StoreErrc::busy,
                           "the server holds " + std::to_string(unfinished) +
                               " unfinished jobs, its maximum (max_queued): submit again once some finish",
                           {}};
  }
  const TimeMs due = job.run_at();
  const bool scheduled = due > now_ms();
  const std::string waiting_on = scheduled              ? std::string()
                                 : !bounds.wait_on.empty() ? bounds.wait_on
                                                           : join_or_lead(job.id, bounds);
  job.state = scheduled ? JobState::scheduled : waiting_on.empty() ? JobState::pending : JobState::waiting;
  job.waiting_on = waiting_on;
  Entry entry;
  entry.state = job.state;
  entry.attempts = job.attempts;
  entry.max_attempts = job.max_attempts;
  entry.lost = job.lost;
  entry.max_lost = job.max_lost;
  entry.priority = job.priority;
  entry.threads = job.threads();
  entry.created_at = job.created_at;
  entry.order = next_order_++;
  RecordParts parts;
  parts.spec = serialize_json(job.spec);
  parts.summary = serialize_json(job_summary_json(job));
  parts.owner = job.owner;
  parts.waiting_on = waiting_on;
  repack(entry, std::move(parts));
  auto [it, inserted] = jobs_.emplace(job.id, std::move(entry));
  index(it->first, it->second, job);
  if (std::string lane = lane_key(job.queue(), job.requires_tags()); !lane.empty()) lane_of_.emplace(job.id, std::move(lane));
  if (!job.owner.empty()) {
    ++unfinished_by_owner_[job.owner];
    owner_of_unfinished_.emplace(it->first, job.owner);
  }
  if (scheduled) {
    due_.emplace(due, it->first);
    due_at_.emplace(it->first, due);
    append_event(EventType::submitted, it->first, JobState::scheduled, {{"run_at", to_rfc3339(due)}});
  } else if (waiting_on.empty()) {
    enqueue(it->first, it->second);
    append_event(EventType::submitted, it->first, JobState::pending, {});
  } else {
    waiting_for_[waiting_on].insert(it->first);
    append_event(EventType::submitted, it->first, JobState::waiting, {{"waiting_on", waiting_on}});
  }
  co_return job;
}

std::string MemoryStore::join_or_lead(const std::string& id, const CreateBounds& bounds) {
  if (bounds.calculation_key.empty()) return {};
  std::string& latest = latest_of_calculation_[bounds.calculation_key];
  if (bounds.join_calculation && !latest.empty() && latest != id) {
    const Entry* leader = find(latest);
    if (leader && leader->state != JobState::failed && leader->state != JobState::cancelled) return latest;
  }
  latest = id;
  return {};
}

void MemoryStore::stop_waiting(const std::string& id, const std::string& on) {
  auto it = waiting_for_.find(on);
  if (it == waiting_for_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) waiting_for_.erase(it);
}

asio::awaitable<Result<Job>> MemoryStore::retry(std::string id, json::object spec, json::object event_data) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  if (entry->state != JobState::failed && entry->state != JobState::cancelled)
    co_return conflict("job " + id + " is " + std::string(to_string(entry->state)) + ": only a failed or cancelled job runs again",
                       entry->state);
  RecordParts parts = unpack_record(entry->packed);
  if (auto error = apply_transition(id, *entry, JobState::pending, std::move(event_data))) co_return *error;
  entry->started_at = 0;
  entry->finished_at = 0;
  parts.result.clear();
  parts.error.clear();
  parts.progress.clear();
  parts.cached_from.clear();
  parts.worker_id.clear();
  if (!spec.empty()) {
    parts.spec = serialize_json(spec);
    parts.summary.clear();  // derived from the new spec
  }
  // Unfinished again: it counts against its owner's cap once more.
  if (!parts.owner.empty() && owner_of_unfinished_.emplace(id, parts.owner).second) ++unfinished_by_owner_[parts.owner];
  Job job = to_job(id, *entry, parts);
  repack(*entry, std::move(parts));
  co_return job;
}

asio::awaitable<Result<Job>> MemoryStore::resolve_waiting(std::string id, std::string on, Finish outcome) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  RecordParts parts = unpack_record(entry->packed);
  if (entry->state != JobState::waiting || parts.waiting_on != on)
    co_return conflict("job " + id + " is " + std::string(to_string(entry->state)) + ", not waiting on " + on,
                       entry->state);
  if (outcome.state == JobState::waiting) {
    // Not a change of state: the job now waits on another of its parents.
    stop_waiting(id, on);
    waiting_for_[outcome.wait_on].insert(id);
    parts.waiting_on = outcome.wait_on;
    append_event(EventType::progress, id, JobState::waiting, {{"waiting_on", outcome.wait_on}, {"waited_on", on}});
    Job job = to_job(id, *entry, parts);
    repack(*entry, std::move(parts));
    co_return job;
  }
  json::object data;
  if (outcome.state == JobState::completed) {
    data["result"] = result_summary(outcome.result);
    data["cached_from"] = on;
  } else if (outcome.state == JobState::failed) {
    data["error"] = outcome.error;
  } else {
    data["waited_on"] = on;
  }
  if (auto error = apply_transition(id, *entry, outcome.state, std::move(data))) co_return *error;
  stop_waiting(id, on);
  parts.waiting_on.clear();
  if (outcome.state == JobState::completed) {
    parts.result = text_of(outcome.result);
    parts.cached_from = on;
  }
  if (outcome.state == JobState::failed) parts.error = text_of(outcome.error);
  if (outcome.state == JobState::pending && !outcome.spec.empty()) {
    parts.spec = serialize_json(outcome.spec);
    parts.summary.clear();  // derived from the new spec
  }
  Job job = to_job(id, *entry, parts);
  repack(*entry, std::move(parts));
  co_return job;
}

asio::awaitable<Result<std::vector<std::string>>> MemoryStore::waiting_for(std::string id, std::size_t max) {
  std::vector<std::string> ids;
  if (auto it = waiting_for_.find(id); it != waiting_for_.end()) {
    for (const auto& waiter : it->second) {
      if (ids.size() == max) break;
      ids.push_back(waiter);
    }
  }
  co_return ids;
}

asio::awaitable<Result<std::uint64_t>> MemoryStore::unfinished_of_owner(std::string owner) {
  const auto held = unfinished_by_owner_.find(owner);
  co_return held == unfinished_by_owner_.end() ? std::uint64_t{0} : held->second;
}

asio::awaitable<Result<Job>> MemoryStore::get(std::string id) {
  const Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  co_return to_job(id, *entry);
}

asio::awaitable<Result<StatusText>> MemoryStore::status_json(std::string id) {
  if (auto cached = statuses_.find(id)) co_return std::move(*cached);
  const Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  RecordParts parts = unpack_record(entry->packed);
  const bool summarized = !parts.summary.empty();
  std::string summary_text = std::move(parts.summary);
  if (summarized) parts.spec.clear();  // the status does not need it
  Job job = to_job(id, *entry, parts);
  StatusText status{{}, job.owner};
  if (!summarized) {
    status.json = serialize_json(job_status_json(job));
  } else {
    json::value summary = value_of(summary_text);
    status.json = serialize_json(job_status_json(job, summary.is_object() ? summary.get_object() : json::object{}));
  }
  statuses_.put(id, status, statuses_.generation());
  co_return status;
}

asio::awaitable<Result<JobPage>> MemoryStore::list(ListQuery query) {
  JobPage page;
  std::uint64_t before = std::numeric_limits<std::uint64_t>::max();
  if (!query.cursor.empty()) {
    auto [ptr, ec] = std::from_chars(query.cursor.data(), query.cursor.data() + query.cursor.size(), before);
    if (ec != std::errc{} || ptr != query.cursor.data() + query.cursor.size())
      co_return StoreError{StoreErrc::invalid, "the cursor is not one this server issued", {}};
  }
  if (query.limit == 0) co_return page;
  // Walk the smallest index that every match is in; check the other filters per entry.
  static const OrderIndex nothing;
  const OrderIndex* walk = nullptr;
  auto narrow = [&](const OrderIndex* index) {
    if (!walk || index->size() < walk->size()) walk = index;
  };
  if (query.state) narrow(&by_state_[static_cast<std::size_t>(*query.state)]);
  if (query.engine) {
    auto it = by_engine_.find(*query.engine);
    narrow(it == by_engine_.end() ? &nothing : &it->second);
  }
  if (query.tag) {
    auto it = by_tag_.find(*query.tag);
    narrow(it == by_tag_.end() ? &nothing : &it->second);
  }
  if (query.owner) {
    auto it = by_owner_.find(*query.owner);
    narrow(it == by_owner_.end() ? &nothing : &it->second);
  }
  auto matches = [&](const Entry& entry) {
    if (query.state && entry.state != *query.state) return false;
    if (query.engine && !indexed(by_engine_, *query.engine, entry.order)) return false;
    if (query.tag && !indexed(by_tag_, *query.tag, entry.order)) return false;
    if (query.owner && !indexed(by_owner_, *query.owner, entry.order)) return false;
    return true;
  };
  std::size_t looked_at = 0;
  std::uint64_t last_looked_at = 0;
  std::uint64_t last_taken = 0;
  auto consider = [&](std::uint64_t order) {  // false: stop here
    if (looked_at == list_scan_budget) {
      // Sparse filters: answer what was found; the cursor continues the walk from here.
      page.next_cursor = std::to_string(page.jobs.size() == query.limit ? last_taken : last_looked_at);
      return false;
    }
    ++looked_at;
    const std::string& id = id_of(order);
    const Entry& entry = jobs_.at(id);
    if (matches(entry)) {
      if (page.jobs.size() == query.limit) {  // one more match: there is a next page
        page.next_cursor = std::to_string(last_taken);
        return false;
      }
      RecordParts parts = unpack_record(entry.packed);
      parts.result.clear();  // a list shows statuses: parsing results would be most of its cost
      page.jobs.push_back(to_job(id, entry, parts));
      last_taken = order;
    }
    last_looked_at = order;
    return true;
  };
  if (walk) {
    const auto newest_first_end = std::make_reverse_iterator(walk->begin());
    for (auto it = std::make_reverse_iterator(walk->lower_bound(before)); it != newest_first_end; ++it)
      if (!consider(*it)) break;
  } else {
    const auto newest_first_end = std::make_reverse_iterator(by_order_.begin());
    for (auto it = std::make_reverse_iterator(by_order_.lower_bound({before, nullptr})); it != newest_first_end; ++it)
      if (!consider(it->order)) break;
  }
  co_return page;
}

asio::awaitable<Result<Job>> MemoryStore::cancel(std::string id) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  RecordParts parts = unpack_record(entry->packed);
  if (auto error = apply_transition(id, *entry, JobState::cancelled, {})) co_return *error;
  if (!parts.waiting_on.empty()) stop_waiting(id, parts.waiting_on);
  parts.waiting_on.clear();
  parts.error = serialize_json(json::object{{"code", "cancelled"}, {"message", "cancelled on request"}});
  parts.worker_id.clear();
  Job job = to_job(id, *entry, parts);
  repack(*entry, std::move(parts));
  co_return job;
}

void MemoryStore::erase_job(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  dequeue(id);
  undue(id);
  count_out_of_owner(id);
  lane_of_.erase(id);
  const Job job = to_job(id, it->second);
  unindex(it->second, job);  // engine and tags come from the spec
  // The job leaves the calculation cache (under whichever scope it was entered).
  if (const json::value* hash = job.spec.if_contains("calculation"); hash && hash->is_string()) {
    for (const std::string& key : {calculation_key(hash->get_string(), ""), calculation_key(hash->get_string(), job.owner)}) {
      if (auto latest = latest_of_calculation_.find(key); latest != latest_of_calculation_.end() && latest->second == id)
        latest_of_calculation_.erase(latest);
    }
  }
  const bool has_files = !it->second.artifacts.empty();
  jobs_.erase(it);
  // Removing the files is fire-and-forget on the file thread; nothing waits for it. A job
  // without artifacts has no directory (one left by a failed write is an orphan: the hourly
  // scan removes it), and a sweep of 100,000 echo jobs posts no 100,000 empty removals.
  if (!has_files) return;
  boost::asio::co_spawn(executor_, files_.run([dir = artifact_dir(id)] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return true;
  }), boost::asio::detached);
}

asio::awaitable<Result<Done>> MemoryStore::remove(std::string id) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  if (!is_terminal(entry->state))
    co_return conflict("job " + id + " is " + std::string(to_string(entry->state)) +
                           "; cancel it before deleting it",
                       entry->state);
  append_event(EventType::deleted, id, entry->state, {});
  erase_job(id);
  co_return Done{};
}

// --- queue with leases ---

asio::awaitable<Result<std::optional<Job>>> MemoryStore::claim(std::string worker_id, Lease lease) {
  ClaimBudget budget;
  budget.slots = budget.in_process = 1;
  auto claimed = co_await claim_within(std::move(worker_id), lease, std::move(budget));
  if (!claimed) co_return claimed.error();
  if (claimed->empty()) co_return std::optional<Job>{};
  co_return std::optional<Job>(std::move(claimed->front()));
}

bool MemoryStore::may_take_from(const Lane& lane, const ClaimBudget& budget) const {
  if (!budget.served_queues.empty() &&
      std::find(budget.served_queues.begin(), budget.served_queues.end(), lane.queue) == budget.served_queues.end())
    return false;
  for (const std::string& tag : lane.requires_tags)
    if (std::find(budget.offered_tags.begin(), budget.offered_tags.end(), tag) == budget.offered_tags.end()) return false;
  auto control = queue_controls_.find(lane.queue);
  if (control == queue_controls_.end()) return true;
  if (control->second.paused) return false;
  if (control->second.concurrency == 0) return true;
  auto running = running_by_queue_.find(lane.queue);
  return running == running_by_queue_.end() || running->second < control->second.concurrency;
}

Result<std::optional<Job>> MemoryStore::take(std::string id, const std::string& worker_id, Lease lease) {
  Entry& entry = jobs_.at(id);
  json::object data{{"worker", worker_id}, {"attempt", entry.attempts + 1}};
  if (auto error = apply_transition(id, entry, JobState::running, std::move(data))) return *error;
  entry.attempts += 1;
  entry.started_at = now_ms();
  entry.lease_expires_at = now_ms() + lease.count();
  RecordParts parts = unpack_record(entry.packed);
  parts.worker_id = worker_id;
  parts.error.clear();
  Job job = to_job(id, entry, parts);
  repack(entry, std::move(parts));
  return std::optional<Job>{std::move(job)};
}

asio::awaitable<Result<std::vector<Job>>> MemoryStore::claim_within(std::string worker_id, Lease lease,
                                                                    ClaimBudget budget) {
  // Every job here counts against both budgets (the dispatcher gives this store the smaller
  // of the two), a job with threads as many slots as it uses.
  std::size_t room = std::min(budget.slots, budget.in_process);
  std::vector<Job> claimed;
  auto excluded = [&](const QueueKey& key) {
    const Entry& entry = jobs_.at(std::get<2>(key));
    return std::any_of(budget.excluded_engines.begin(), budget.excluded_engines.end(), [&](const std::string& engine) {
      auto index = by_engine_.find(engine);
      return index != by_engine_.end() && index->second.contains(entry.order);
    });
  };
  // The best queued job among the heads of the lanes this instance may take from (in each,
  // the first of an engine not excluded here, looking past at most max_claim_skips others).
  auto next_claimable = [&]() -> const std::string* {
    const QueueKey* best = nullptr;
    for (const auto& [key, lane] : lanes_) {
      if (lane.jobs.empty() || !may_take_from(lane, budget)) continue;
      std::size_t skipped = 0;
      for (const QueueKey& queued : lane.jobs) {
        if (best && !(queued < *best)) break;
        if (!excluded(queued)) {
          best = &queued;
          break;
        }
        if (++skipped == max_claim_skips) break;
      }
    }
    return best ? &std::get<2>(*best) : nullptr;
  };
  while (room > 0 && queued_ > 0) {
    const std::string* id = next_claimable();
    if (!id) break;
    const Entry& next = jobs_.at(*id);
    std::size_t cost = static_cast<std::size_t>(std::max(1, next.threads));
    if (budget.total_slots > 0) cost = std::min(cost, budget.total_slots);
    if (cost > room) break;
    auto job = take(std::string(*id), worker_id, lease);
    if (!job) co_return job.error();
    if (!*job) break;
    claimed.push_back(std::move(**job));
    room -= cost;
  }
  if (claimed.empty() && queued_ > 0) claims_blocked_ = true;
  co_return claimed;
}

void MemoryStore::undue(const std::string& id) {
  auto it = due_at_.find(id);
  if (it == due_at_.end()) return;
  due_.erase({it->second, id});
  due_at_.erase(it);
}

asio::awaitable<Result<std::size_t>> MemoryStore::promote_due() {
  constexpr std::size_t most = 1000;  // per call: a backlog of due jobs moves over a few calls
  const TimeMs now = now_ms();
  std::size_t moved = 0;
  while (moved < most && !due_.empty() && due_.begin()->first <= now) {
    const std::string id = due_.begin()->second;
    Entry* entry = find(id);
    if (!entry || entry->state != JobState::scheduled) {
      undue(id);
      continue;
    }
    if (apply_transition(id, *entry, JobState::pending, {})) {
      undue(id);
      continue;
    }
    ++moved;
  }
  co_return moved;
}

asio::awaitable<void> MemoryStore::wait_for_work(std::chrono::milliseconds max_wait) {
  if (queued_ > 0 && !claims_blocked_) co_return;
  co_await wait_on(work_waiters_, max_wait);
}

asio::awaitable<Result<Done>> MemoryStore::renew(std::string id, std::string worker_id, Lease lease) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  if (entry->state != JobState::running || unpack_record(entry->packed).worker_id != worker_id)
    co_return conflict("job " + id + " is no longer running on " + worker_id, entry->state);
  entry->lease_expires_at = now_ms() + lease.count();
  co_return Done{};
}

asio::awaitable<Result<Job>> MemoryStore::finish(std::string id, std::string worker_id, Finish finish) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  RecordParts parts = unpack_record(entry->packed);
  if (entry->state != JobState::running || parts.worker_id != worker_id)
    co_return conflict("job " + id + " is no longer running on " + worker_id, entry->state);
  JobState to = finish.state;
  json::object data;
  // Lost attempts have their own budget (max_lost): only the job's own failures count here.
  const bool again = to == JobState::failed && finish.retryable && entry->attempts - entry->lost < entry->max_attempts;
  if (again) {
    to = finish.retry_at > now_ms() ? JobState::scheduled : JobState::pending;
    data["error"] = finish.error;
    data["attempt"] = entry->attempts;
    for (const auto& [key, value] : finish.retry_note) data[key] = value;
  } else if (to == JobState::completed) {
    data["result"] = result_summary(finish.result);
  } else {
    data["error"] = finish.error;
  }
  if (auto error = apply_transition(id, *entry, to, std::move(data))) co_return *error;
  if (to == JobState::scheduled) {
    due_.emplace(finish.retry_at, id);
    due_at_.emplace(id, finish.retry_at);
  }
  if (again && !finish.spec.empty()) {
    parts.spec = serialize_json(finish.spec);
    parts.summary.clear();  // derived from the new spec
  }
  parts.result = text_of(finish.result);
  parts.error = text_of(finish.error);
  parts.worker_id.clear();
  Job job = to_job(id, *entry, parts);
  repack(*entry, std::move(parts));
  co_return job;
}

asio::awaitable<Result<Done>> MemoryStore::record_progress(std::string id, json::object progress) {
  Entry* entry = find(id);
  if (!entry) co_return not_found("no job " + id);
  if (entry->state != JobState::running) co_return conflict("job " + id + " is not running", entry->state);
  RecordParts parts = unpack_record(entry->packed);
  parts.progress = serialize_json(progress);
  repack(*entry, std::move(parts));
  append_event(EventType::progress, id, entry->state, json::object{{"progress", std::move(progress)}});
  co_return Done{};
}

bool MemoryStore::worker_alive(const std::string& worker_id, TimeMs now) const {
  auto it = workers_.find(worker_id);
  return it != workers_.end() && it->second.second >= now;
}

void MemoryStore::take_back_lost(const std::string& id, Entry& entry) {
  entry.lost += 1;
  RecordParts parts = unpack_record(entry.packed);
  json::object lost = lost_error(to_job(id, entry, parts));
  const JobState to = entry.lost <= entry.max_lost ? JobState::pending : JobState::failed;
  apply_transition(id, entry, to, json::object{{"error", lost}, {"attempt", entry.attempts}});
  parts.worker_id.clear();
  parts.error = serialize_json(lost);
  repack(entry, std::move(parts));
}

asio::awaitable<Result<std::size_t>> MemoryStore::requeue_expired() {
  // Running jobs are at most the slots of the instances, so this walk is small.
  const TimeMs now = now_ms();
  std::vector<std::string> gone;
  for (std::uint64_t order : by_state_[static_cast<std::size_t>(JobState::running)]) {
    const std::string& id = id_of(order);
    const Entry& entry = jobs_.at(id);
    const std::string owner = unpack_record(entry.packed).worker_id;
    const bool known = workers_.contains(owner);
    const bool alive = worker_alive(owner, now);
    const bool lease_over = entry.lease_expires_at != 0 && entry.lease_expires_at < now;
    // An owner whose heartbeat ran out is gone now; an unknown owner only once its lease is over.
    if ((known && !alive) || (!known && lease_over)) gone.push_back(id);
  }
  for (const auto& id : gone) take_back_lost(id, jobs_.at(id));
  co_return gone.size();
}

asio::awaitable<Result<QueueStats>> MemoryStore::stats() {
  QueueStats stats;
  stats.pending = queued_;
  stats.running = by_state_[static_cast<std::size_t>(JobState::running)].size();
  stats.scheduled = by_state_[static_cast<std::size_t>(JobState::scheduled)].size();
  stats.waiting = by_state_[static_cast<std::size_t>(JobState::waiting)].size();
  co_return stats;
}

// --- event log ---

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
  const std::uint64_t first = next_event_seq_ - events_.size();
  std::size_t index = after + 1 > first ? after + 1 - first : 0;
  for (; index < events_.size() && batch.events.size() < max; ++index) batch.events.push_back(events_[index]);
  co_return batch;
}

asio::awaitable<Result<std::string>> MemoryStore::last_event_id() {
  co_return events_.empty() ? std::string{} : events_.back().id;
}

asio::awaitable<Result<std::vector<JobEvent>>> MemoryStore::job_events(std::string job_id) {
  std::vector<JobEvent> history;
  auto it = events_of_job_.find(job_id);
  if (it == events_of_job_.end()) co_return history;
  const std::uint64_t first = next_event_seq_ - events_.size();
  for (std::uint64_t seq : it->second)
    if (seq >= first && seq - first < events_.size()) history.push_back(events_[seq - first]);
  co_return history;
}

// --- idempotent submissions ---

asio::awaitable<Result<Done>> MemoryStore::remember_answer(std::string key, std::string answer,
                                                           std::chrono::milliseconds ttl) {
  const TimeMs now = now_ms();
  // Forget expired answers first: they are few per call, and the map never outgrows the
  // submissions of one ttl.
  while (!answers_expiry_.empty() && answers_expiry_.begin()->first < now) {
    answers_.erase(answers_expiry_.begin()->second);
    answers_expiry_.erase(answers_expiry_.begin());
  }
  if (answers_.emplace(key, std::move(answer)).second) answers_expiry_.emplace(now + ttl.count(), std::move(key));
  co_return Done{};
}

asio::awaitable<Result<std::optional<std::string>>> MemoryStore::recall_answer(std::string key) {
  auto it = answers_.find(key);
  if (it == answers_.end()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{it->second};
}

// --- workers ---

asio::awaitable<Result<WorkerMode>> MemoryStore::heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) {
  worker.last_heartbeat = now_ms();
  auto id = worker.id;
  workers_[id] = {std::move(worker), now_ms() + ttl.count()};
  auto asked = worker_modes_.find(id);
  co_return asked == worker_modes_.end() ? WorkerMode::active : asked->second;
}

asio::awaitable<Result<Done>> MemoryStore::control_worker(std::string id, WorkerMode mode) {
  auto it = workers_.find(id);
  if (it == workers_.end() || it->second.second < now_ms()) co_return not_found("no live instance " + id);
  if (mode == WorkerMode::active) worker_modes_.erase(id);
  else worker_modes_[id] = mode;
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
  std::size_t removed = 0;
  while (true) {
    const TimeMs cutoff = now_ms() - retention.count();
    std::size_t step = 0;
    while (step < sweep_step && !by_finish_.empty() && by_finish_.begin()->first < cutoff) {
      const std::string id = id_of(by_finish_.begin()->second);
      append_event(EventType::deleted, id, jobs_.at(id).state, json::object{{"reason", "retention"}});
      erase_job(id);
      ++step;
    }
    removed += step;
    if (step < sweep_step) break;
    // A long sweep lets requests and the dispatcher run between its steps.
    co_await asio::post(executor_, asio::use_awaitable);
  }
  // Directories whose removal failed (or that another process left) go too; the listing is
  // O(directories), so not at every sweep.
  if (const TimeMs now = now_ms(); now - last_orphan_scan_ >= orphan_scan_interval_ms) {
    last_orphan_scan_ = now;
    co_await remove_orphan_artifacts();
  }
  co_return removed;
}

}  // namespace nox
