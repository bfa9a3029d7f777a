#pragma once
// Token buckets per identity: `rate` tokens a second, holding at most `burst` (one second's
// worth, at least 1), so a client may send a second's allowance at once and then its rate.
// Pure: the caller passes the time, tests drive it without sleeping.
#include <chrono>
#include <string>
#include <unordered_map>

namespace nox {

class TokenBuckets {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes `cost` tokens from `name`'s bucket. Zero when they were there (taken); otherwise the
  // wait until they will be (nothing taken), for Retry-After.
  std::chrono::milliseconds take(const std::string& name, double rate, double cost, Clock::time_point now);
  // Forgets buckets that have refilled (bounded memory with many identities; a fresh bucket is full).
  void forget_idle(Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    double rate = 0;
    Clock::time_point updated;
  };
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace nox
