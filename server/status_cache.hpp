#pragma once
// StatusCache: this instance's copy of recently read GET /jobs/{id}/status answers, for a
// store that costs a round trip per read (Redis). It is kept fresh by the event log the
// instance already reads (EventHub): every event of a job drops that job's entry, and while
// the log cannot be read nothing is served from it. A read from the store is kept only if no
// event came in while it was out, so a stale answer is never stored.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace nox {

class StatusCache {
 public:
  explicit StatusCache(std::size_t capacity = 50000) : capacity_(capacity) {}

  // Only while the event log is being followed.
  bool enabled() const { return enabled_; }
  void set_enabled(bool enabled);

  std::optional<std::string> find(const std::string& job_id) const;
  // Taken before a store read; `put` keeps the answer only if nothing changed since.
  std::uint64_t generation() const { return generation_; }
  void put(const std::string& job_id, std::string status, std::uint64_t read_generation);
  // An event of this job arrived (or this instance changed it).
  void invalidate(const std::string& job_id);

 private:
  std::size_t capacity_;
  bool enabled_ = false;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, std::string> entries_;
};

}  // namespace nox
