#pragma once
// The engine circuit breaker of one instance: an engine that fails here several times in a row
// for reasons that are not the job's (it crashed, it is missing, it could not be started) is
// taken out of this instance's claims for a cool-down, so one broken node does not fail its way
// through the queue; other instances go on running those jobs. After the cool-down the next
// such job is tried again ("half-open"): one more failure of that kind takes the engine out
// again at once, a success puts it back for good. Failures caused by the input (the engine
// refused it, the SCF did not converge, the job's own time limit) neither count nor reset.
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nox {

// Whether a failed attempt blames the instance rather than the job: a crash, a missing or
// unstartable engine, an engine this instance does not have, an internal error; only when the
// engine said a retry may help (a crash known to follow from the input is not retryable).
bool blames_the_instance(std::string_view error_code, bool retryable);

class EngineBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  // threshold 0: never opens.
  EngineBreaker(int threshold, std::chrono::milliseconds cooldown) : threshold_(threshold), cooldown_(cooldown) {}

  // An attempt of `engine` ended: succeeded, or failed blaming the instance (see above) with
  // `error` (a line for /health and the log). True when this outcome took the engine out.
  bool record(const std::string& engine, bool succeeded, bool instance_fault, std::string_view error,
              Clock::time_point now = Clock::now());

  struct Open {
    std::string engine;
    int failures = 0;  // in a row
    Clock::time_point until;
    std::string last_error;
    int trips = 0;  // times it was taken out since the start
  };
  // The engines out of claims now.
  std::vector<std::string> excluded(Clock::time_point now = Clock::now()) const;
  std::vector<Open> open(Clock::time_point now = Clock::now()) const;
  // Times each engine was taken out since the start (for /metrics).
  std::map<std::string, int> trips() const;

 private:
  int threshold_;
  std::chrono::milliseconds cooldown_;
  std::map<std::string, Open> engines_;
};

}  // namespace nox
