#pragma once
// EventHub: the instance's single reader of the store's event log. Each event is
// serialized once and handed to every matching subscriber's bounded queue; a subscriber
// that falls too far behind is marked overflowed (its stream closes, the client resumes).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/store.hpp"

namespace nox {

struct EventFilter {
  std::string job_id;  // set: this job only
  std::optional<JobState> state;
  std::optional<std::string> engine;
  std::optional<std::string> tag;
  std::optional<std::string> owner;  // set: this identity's jobs only
};

struct SseFrame {
  std::string id;
  std::string job_id;
  EventType type = EventType::submitted;
  std::string text;  // the serialized SSE message
};
using FramePtr = std::shared_ptr<const SseFrame>;

FramePtr make_frame(const JobEvent& event);

class EventHub;
class StatusCache;

// One subscriber's queue; unregisters itself when destroyed.
class Subscription {
 public:
  Subscription(EventHub& hub, boost::asio::any_io_executor executor, EventFilter filter);
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  std::deque<FramePtr> take();
  // Returns when frames are queued, the subscription is closed, or after max_wait.
  boost::asio::awaitable<void> wait(std::chrono::milliseconds max_wait);
  void close();  // the client left or the server stops
  bool closed() const { return closed_; }
  bool overflowed() const { return overflowed_; }
  bool reset_requested() const { return reset_; }
  const EventFilter& filter() const { return filter_; }

 private:
  friend class EventHub;
  void push(const FramePtr& frame, std::size_t max_bytes);
  void request_reset();

  EventHub* hub_;
  EventFilter filter_;
  std::deque<FramePtr> queue_;
  std::size_t queued_bytes_ = 0;
  bool closed_ = false;
  bool overflowed_ = false;
  bool reset_ = false;
  boost::asio::steady_timer wake_;
};

class EventHub {
 public:
  EventHub(boost::asio::any_io_executor executor, Store& store, std::size_t max_buffer_bytes);

  // Reads the store's log from its current end and fans out; returns after stop().
  boost::asio::awaitable<void> run();
  std::unique_ptr<Subscription> subscribe(EventFilter filter);
  void stop();  // closes every subscription
  // Returns once every subscription is gone (its stream wrote its last chunk and ended), or
  // after `max_wait`: the drain waits for it before the loop stops.
  boost::asio::awaitable<void> closed(std::chrono::milliseconds max_wait);
  bool stopped() const { return stopped_; }
  std::size_t subscribers() const { return all_.size(); }
  // Keeps `cache` fresh from the log: each event drops its job's entry; the cache is off
  // while the log cannot be read.
  void keep_fresh(StatusCache* cache) { status_cache_ = cache; }
  // Called with every event of the log, in order, before it is delivered.
  void on_event(std::function<void(const JobEvent&)> listener) { on_event_ = std::move(listener); }
  boost::asio::any_io_executor executor() const { return executor_; }
  // Whether an /events subscriber with this filter wants the event (looks up engine, tags, owner).
  boost::asio::awaitable<bool> matches(const EventFilter& filter, const JobEvent& event);

 private:
  friend class Subscription;
  struct JobMeta {
    std::string engine;
    std::vector<std::string> tags;
    std::string owner;
  };
  void unregister(Subscription* subscription);
  boost::asio::awaitable<void> deliver(const JobEvent& event);
  boost::asio::awaitable<const JobMeta*> meta_of(const std::string& job_id);

  boost::asio::any_io_executor executor_;
  Store& store_;
  std::size_t max_buffer_bytes_;
  bool stopped_ = false;
  std::string position_;
  std::unordered_set<Subscription*> all_;
  std::unordered_set<Subscription*> all_jobs_;  // subscribers of /events
  std::unordered_multimap<std::string, Subscription*> by_job_;
  std::size_t filtered_by_meta_ = 0;  // subscribers that filter by engine, tag or owner
  std::unordered_map<std::string, JobMeta> meta_;
  boost::asio::steady_timer idle_;
  boost::asio::steady_timer all_closed_;  // cancelled when the last subscription goes
  StatusCache* status_cache_ = nullptr;
  std::function<void(const JobEvent&)> on_event_;
};

}  // namespace nox
