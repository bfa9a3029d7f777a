#pragma once
// Retries that know chemistry: what to do after a failed attempt. A job runs again (up to its
// max_attempts) when the engine said a retry may help (a crash, a signal) with the same spec, or
// when a rule for its error knows what to change:
//   scf_not_converged (xtb)       -> electronic_temperature 1000 K and max_iterations >= 500; a
//                                    second time 3000 K and twice the iterations again
//   optimization_not_converged    -> the next attempt starts from the last geometry reached
// and never when the input itself was refused (input_rejected). Attempts are spaced by an
// exponential backoff with jitter and a cap: backoff_s * 2^(n-1), at most max_backoff_s, each
// stretched or shrunk by up to `jitter` (a fraction) so that retries of many jobs do not come
// back together. Defaults are the server's (retry_backoff_s, retry_backoff_max_s); a spec's
// `retry` object overrides them per job.
#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace nox {

struct RetryPolicy {
  double backoff_s = 2;
  double max_backoff_s = 300;
  double jitter = 0.2;
  bool rules = true;  // false: failures run again with the same spec, as the engine allows
};

// The server's policy with what a stored spec's `retry` object changes of it.
RetryPolicy retry_policy_of(const boost::json::object& spec, RetryPolicy server);

struct RetryPlan {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  boost::json::object spec;     // the spec of the next attempt; empty: unchanged
  boost::json::object changed;  // what the next attempt changes ({"keywords": {...}}, {"molecule": "last geometry"})
};

// After own attempt `attempt` (1 = the first) of the job with stored `spec` failed with `error`
// ({"code", ..., "last_xyz"}) that the engine called retryable or not. Whether attempts remain
// is the store's to decide (max_attempts). `random01` in [0, 1) picks the jitter.
RetryPlan plan_retry(const boost::json::object& spec, const boost::json::object& error, bool engine_retryable,
                     int attempt, const RetryPolicy& policy, double random01);

}  // namespace nox
