#include "core/status_cache.hpp"

namespace nox {

void StatusCache::set_enabled(bool enabled) {
  if (enabled == enabled_) return;
  enabled_ = enabled;
  entries_.clear();
  ++generation_;
}

std::optional<StatusText> StatusCache::find(const std::string& job_id) {
  if (!enabled_) return std::nullopt;
  auto it = entries_.find(job_id);
  if (it == entries_.end()) {
    ++misses_;
    return std::nullopt;
  }
  if (max_age_.count() > 0 && std::chrono::steady_clock::now() - it->second.stored > max_age_) {
    entries_.erase(it);
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return it->second.status;
}

void StatusCache::put(const std::string& job_id, StatusText status, std::uint64_t read_generation) {
  if (!enabled_ || read_generation != generation_) return;
  if (entries_.size() >= capacity_) entries_.clear();  // a bound, not an LRU: refilled by the next reads
  entries_.insert_or_assign(job_id, Entry{std::move(status), std::chrono::steady_clock::now()});
}

void StatusCache::invalidate(const std::string& job_id) {
  ++generation_;
  entries_.erase(job_id);
}

}  // namespace nox
