#pragma once
// Runner: the bounded pool of `slots` threads that runs engine subprocesses. The loop
// hands an attempt over with co_await and resumes on the loop with its result; the
// pool never touches sockets or the store.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "core/artifact.hpp"
#include "engines/engine.hpp"
#include "engines/subprocess.hpp"

namespace nox {

struct RunnerOptions {
  std::size_t slots = 1;
  std::filesystem::path scratch_root;  // each attempt gets a fresh directory below it
  std::chrono::milliseconds kill_grace{5000};
  std::size_t stack_limit_bytes = 512ull << 20;  // xtb needs a big stack above ~600 atoms
  std::chrono::milliseconds progress_interval{250};  // at most 4 progress events per second
  int engine_nice = 10;  // ProcessSpec::nice of every engine run (setting engine_nice)
};

struct AttemptResult {
  EngineOutput output;
  ProcessOutcome process;
  std::vector<Artifact> artifacts;
};

using ProgressCallback = std::function<void(boost::json::object)>;

class Runner {
 public:
  Runner(boost::asio::any_io_executor loop, RunnerOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs one attempt on a pool thread; `on_progress` is called on the loop.
  boost::asio::awaitable<AttemptResult> run(const Engine& engine, JobSpec spec, std::string job_id,
                                            std::shared_ptr<ProcessControl> control, ProgressCallback on_progress);

  std::size_t slots() const { return options_.slots; }
  // Waits for the pool's threads; running attempts must have been cancelled first.
  void join();

 private:
  boost::asio::any_io_executor loop_;
  RunnerOptions options_;
  boost::asio::thread_pool pool_;
};

// The blocking part of an attempt, on the calling thread: scratch dir, subprocess,
// interpretation, artifacts, cleanup. Public for tests.
AttemptResult run_attempt(const Engine& engine, const JobSpec& spec, const std::string& job_id,
                          const RunnerOptions& options, ProcessControl& control,
                          const std::function<void(boost::json::object)>& on_progress);

}  // namespace nox
