#include "server/event_hub.hpp"

#include "core/status_cache.hpp"
#include "server/loop_turns.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "server/sse_format.hpp"

namespace nox {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t meta_cache_limit = 200000;
// Filters that need the job's record (engine, tags, owner), not just the event.
bool needs_meta(const EventFilter& f) { return f.engine || f.tag || f.owner; }
// Events per read: a read's reply is decoded (RESP, then each event's data) in one go on the
// loop; 2,000 at a time held it 3-4 ms while a busy Redis store wrote 30,000 events/s.
constexpr std::size_t read_batch = 256;
}  // namespace

FramePtr make_frame(const JobEvent& event) {
  auto frame = std::make_shared<SseFrame>();
  frame->id = event.id;
  frame->job_id = event.job_id;
  frame->type = event.type;
  frame->text = sse_frame(event);
  return frame;
}

Subscription::Subscription(EventHub& hub, asio::any_io_executor executor, EventFilter filter)
    : hub_(&hub), filter_(std::move(filter)), wake_(executor, asio::steady_timer::time_point::max()) {}

Subscription::~Subscription() {
  if (hub_) hub_->unregister(this);
}

std::deque<FramePtr> Subscription::take() {
  queued_bytes_ = 0;
  return std::exchange(queue_, {});
}

asio::awaitable<void> Subscription::wait(std::chrono::milliseconds max_wait) {
  if (!queue_.empty() || closed_ || overflowed_ || reset_) co_return;
  wake_.expires_after(max_wait);
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void Subscription::close() {
  closed_ = true;
  wake_.cancel();
}

void Subscription::push(const FramePtr& frame, std::size_t max_bytes) {
  if (overflowed_ || closed_) return;
  queued_bytes_ += frame->text.size();
  if (queued_bytes_ > max_bytes) {
    // Too slow: drop what is queued and end the stream; the client resumes from its last id.
    overflowed_ = true;
    queue_.clear();
    queued_bytes_ = 0;
  } else {
    queue_.push_back(frame);
  }
  wake_.cancel();
}

void Subscription::request_reset() {
  reset_ = true;
  wake_.cancel();
}

EventHub::EventHub(asio::any_io_executor executor, Store& store, std::size_t max_buffer_bytes)
    : executor_(executor), store_(store), max_buffer_bytes_(max_buffer_bytes), idle_(executor), all_closed_(executor) {}

std::unique_ptr<Subscription> EventHub::subscribe(EventFilter filter) {
  auto subscription = std::make_unique<Subscription>(*this, executor_, std::move(filter));
  Subscription* s = subscription.get();
  all_.insert(s);
  if (!s->filter_.job_id.empty()) {
    by_job_.emplace(s->filter_.job_id, s);
  } else {
    all_jobs_.insert(s);
    if (needs_meta(s->filter_)) ++filtered_by_meta_;
  }
  if (stopped_) s->close();
  return subscription;
}

void EventHub::unregister(Subscription* s) {
  all_.erase(s);
  if (all_.empty()) all_closed_.cancel();
  if (!s->filter_.job_id.empty()) {
    auto [first, last] = by_job_.equal_range(s->filter_.job_id);
    for (auto it = first; it != last; ++it)
      if (it->second == s) {
        by_job_.erase(it);
        break;
      }
  } else {
    all_jobs_.erase(s);
    if (needs_meta(s->filter_)) --filtered_by_meta_;
  }
}

void EventHub::stop() {
  stopped_ = true;
  for (auto* s : all_) s->close();
  idle_.cancel();
}

asio::awaitable<void> EventHub::closed(std::chrono::milliseconds max_wait) {
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (!all_.empty() && std::chrono::steady_clock::now() < deadline) {
    all_closed_.expires_at(deadline);
    co_await all_closed_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<const EventHub::JobMeta*> EventHub::meta_of(const std::string& job_id) {
  if (auto it = meta_.find(job_id); it != meta_.end()) co_return &it->second;
  auto job = co_await store_.get(job_id);
  if (!job) co_return nullptr;  // deleted meanwhile: engine/tag filters cannot match it
  if (meta_.size() >= meta_cache_limit) meta_.clear();
  // The index tags, as GET /jobs filters by: the reserved batch:, inchikey: and continues: ones too.
  auto [it, inserted] = meta_.emplace(job_id, JobMeta{job->engine(), job->index_tags(), job->owner});
  co_return &it->second;
}

namespace {

// One filter rule for live delivery and for replay; `meta` is null when the job is unknown.
template <class Meta>
bool accepts(const EventFilter& f, const JobEvent& event, const Meta* meta) {
  if (!f.job_id.empty() && f.job_id != event.job_id) return false;
  if (f.state && *f.state != event.state) return false;
  if (f.engine && (!meta || meta->engine != *f.engine)) return false;
  if (f.tag && (!meta || std::find(meta->tags.begin(), meta->tags.end(), *f.tag) == meta->tags.end())) return false;
  // An event of a job deleted before it could be looked up is shown to no owner.
  if (f.owner && (!meta || meta->owner != *f.owner)) return false;
  return true;
}

}  // namespace

asio::awaitable<bool> EventHub::matches(const EventFilter& f, const JobEvent& event) {
  const JobMeta* meta = nullptr;
  if (needs_meta(f)) meta = co_await meta_of(event.job_id);
  co_return accepts(f, event, meta);
}

asio::awaitable<void> EventHub::deliver(const JobEvent& event) {
  if (status_cache_) status_cache_->invalidate(event.job_id);
  if (on_event_) on_event_(event);
  FramePtr frame;  // serialized only if someone wants it
  auto frame_once = [&]() -> const FramePtr& {
    if (!frame) frame = make_frame(event);
    return frame;
  };
  auto [first, last] = by_job_.equal_range(event.job_id);
  for (auto it = first; it != last; ++it) it->second->push(frame_once(), max_buffer_bytes_);
  if (all_jobs_.empty()) co_return;
  const JobMeta* meta = nullptr;
  if (filtered_by_meta_ > 0) meta = co_await meta_of(event.job_id);
  for (auto* s : all_jobs_)
    if (accepts(s->filter_, event, meta)) s->push(frame_once(), max_buffer_bytes_);
  if (event.type == EventType::deleted) meta_.erase(event.job_id);
}

asio::awaitable<void> EventHub::run() {
  while (!stopped_) {
    auto start = co_await store_.last_event_id();
    if (start) {
      position_ = *start;
      break;
    }
    idle_.expires_after(500ms);
    co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  while (!stopped_) {
    auto batch = co_await store_.read_events(position_, read_batch, 1000ms);
    // The status cache is as fresh as this reader: off while the log cannot be followed.
    if (status_cache_) status_cache_->set_enabled(batch && !batch->reset);
    if (!batch) {
      // Store unreachable: subscribers keep their streams; we resume from position_.
      idle_.expires_after(500ms);
      co_await idle_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (batch->reset) {
      log_warn("event log moved past position " + position_ + "; subscribers are told to reload");
      for (auto* s : all_) s->request_reset();
      auto head = co_await store_.last_event_id();
      if (head) position_ = *head;
      continue;
    }
    // A read brings up to a few hundred events: delivered (and freed) taking turns with the loop.
    for (JobEvent& next : batch->events) {
      co_await take_turn();
      const JobEvent event = std::move(next);
      co_await deliver(event);
      position_ = event.id;
    }
  }
}

}  // namespace nox
