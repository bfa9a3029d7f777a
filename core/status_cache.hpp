#pragma once
// StatusCache: recently served GET /jobs/{id}/status answers, bounded. Every change of a job
// drops its entry: the memory store drops it in the same step that changes the job; for Redis
// the server drops it on each event of the log the instance already reads (EventHub), and
// serves nothing from it while the log cannot be read. A read kept with put() is dropped if
// anything changed while it was out, so a stale answer is never stored.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace nox {

// GET /jobs/{id}/status's body, and whose job it is (the route shows another owner's job as
// absent without parsing the body).
struct StatusText {
  std::string json;
  std::string owner;
};

class StatusCache {
 public:
  // `max_age` (zero: none) bounds how long an entry is served: for changes that come with no
  // event (a Redis key expiring at the end of its retention).
  explicit StatusCache(std::size_t capacity = 50000, std::chrono::milliseconds max_age = {})
      : capacity_(capacity), max_age_(max_age) {}

  // Only while the event log is being followed.
  bool enabled() const { return enabled_; }
  void set_enabled(bool enabled);

  std::optional<StatusText> find(const std::string& job_id);
  // Taken before a store read; `put` keeps the answer only if nothing changed since.
  std::uint64_t generation() const { return generation_; }
  void put(const std::string& job_id, StatusText status, std::uint64_t read_generation);
  // An event of this job arrived (or this instance changed it).
  void invalidate(const std::string& job_id);
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    StatusText status;
    std::chrono::steady_clock::time_point stored;
  };
  std::size_t capacity_;
  std::chrono::milliseconds max_age_;
  bool enabled_ = false;
  std::uint64_t generation_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace nox
