#include "core/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace nox {

namespace {

double burst_of(double rate) { return std::max(1.0, rate); }

}  // namespace

std::chrono::milliseconds TokenBuckets::take(const std::string& name, double rate, double cost,
                                             Clock::time_point now) {
  if (rate <= 0) return std::chrono::milliseconds{0};
  const double burst = burst_of(rate);
  auto [it, added] = buckets_.try_emplace(name, Bucket{burst, rate, now});
  Bucket& bucket = it->second;
  bucket.rate = rate;  // a reloaded keys file may change it
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0) bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
  bucket.updated = std::max(bucket.updated, now);
  // A cost above the burst (a big batch) is allowed from a full bucket, leaving it in debt.
  const double needed = std::min(cost, burst);
  if (bucket.tokens >= needed) {
    bucket.tokens -= cost;
    return std::chrono::milliseconds{0};
  }
  const double wait_s = (needed - bucket.tokens) / rate;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000)));
}

void TokenBuckets::forget_idle(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + std::chrono::duration<double>(now - b.updated).count() * b.rate >= burst_of(b.rate);
  });
}

}  // namespace nox
