// The Runner's pool: attempts run on pool threads, results and progress come back on the loop.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <sys/resource.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>

#include "engines/runner.hpp"

using namespace nox;
namespace asio = boost::asio;

namespace {

// Prints "step N" lines from a shell, one every 20 ms, and succeeds.
class CountingEngine final : public Engine {
 public:
  std::string_view name() const override { return "counting"; }
  bool uses_subprocess() const override { return true; }
  PreparedCommand prepare(const JobSpec& spec, const std::filesystem::path&) const override {
    return {{"/bin/sh", "-c", "for i in 1 2 3 4 5; do echo step $i; sleep 0.02; done; echo " + spec.name + " > out.txt"},
            {},
            ""};
  }
  EngineOutput interpret(const JobSpec&, const std::filesystem::path& scratch, const ProcessOutcome& outcome) const override {
    EngineOutput out;
    out.ok = outcome.exit_code == 0 && std::filesystem::exists(scratch / "out.txt");
    out.result["exit_code"] = outcome.exit_code;
    out.artifact_files = {"out.txt", "missing.txt"};
    return out;
  }
  std::unique_ptr<ProgressParser> progress_parser() const override {
    struct Parser final : ProgressParser {
      std::optional<boost::json::object> feed(std::string_view line) override {
        if (line.rfind("step ", 0) != 0) return std::nullopt;
        return boost::json::object{{"step", std::stoi(std::string(line.substr(5)))}};
      }
    };
    return std::make_unique<Parser>();
  }
};

// Writes its own niceness (coreutils `nice` with no command prints it) to out.txt, and keeps
// the niceness of the pool thread that prepared it.
class NicenessEngine final : public Engine {
 public:
  std::string_view name() const override { return "niceness"; }
  bool uses_subprocess() const override { return true; }
  PreparedCommand prepare(const JobSpec&, const std::filesystem::path&) const override {
    errno = 0;
    pool_thread_niceness = getpriority(PRIO_PROCESS, 0);  // 0: the calling thread
    if (errno != 0) pool_thread_niceness = -100;
    return {{"/bin/sh", "-c", "nice > out.txt"}, {}, ""};
  }
  mutable std::atomic<int> pool_thread_niceness{-100};
  EngineOutput interpret(const JobSpec&, const std::filesystem::path&, const ProcessOutcome& outcome) const override {
    EngineOutput out;
    out.ok = outcome.exit_code == 0;
    out.artifact_files = {"out.txt"};
    return out;
  }
};

struct Outcome {
  AttemptResult result;
  std::thread::id resumed_on;
  std::vector<std::thread::id> progress_threads;
  int progress_events = 0;
};

asio::awaitable<void> run_one(Runner& runner, const Engine& engine, int n, Outcome& outcome) {
  JobSpec spec;
  spec.name = "job" + std::to_string(n);
  spec.timeout_s = 30;
  auto control = std::make_shared<ProcessControl>();
  outcome.result = co_await runner.run(engine, spec, "id" + std::to_string(n), control, [&outcome](boost::json::object) {
    ++outcome.progress_events;
    outcome.progress_threads.push_back(std::this_thread::get_id());
  });
  outcome.resumed_on = std::this_thread::get_id();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(runner)

BOOST_AUTO_TEST_CASE(attempts_run_on_the_pool_and_resume_on_the_loop) {
  asio::io_context io;
  const auto scratch = std::filesystem::temp_directory_path() / "nox-runner-test";
  std::filesystem::create_directories(scratch);
  RunnerOptions options;
  options.slots = 3;
  options.scratch_root = scratch;
  options.progress_interval = std::chrono::milliseconds(0);
  Runner runner(io.get_executor(), options);
  CountingEngine engine;
  std::vector<Outcome> outcomes(6);
  for (int i = 0; i < 6; ++i) asio::co_spawn(io, run_one(runner, engine, i, outcomes[static_cast<std::size_t>(i)]), asio::detached);
  io.run();
  const auto loop = std::this_thread::get_id();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    BOOST_TEST(o.result.output.ok);
    BOOST_TEST((o.resumed_on == loop));
    BOOST_TEST(o.progress_events == 5);
    for (auto id : o.progress_threads) BOOST_TEST((id == loop));
    BOOST_REQUIRE_EQUAL(o.result.artifacts.size(), 1u);  // the missing file is skipped
    BOOST_TEST(o.result.artifacts[0].bytes == "job" + std::to_string(i) + "\n");
  }
  // Every attempt's scratch directory is gone.
  BOOST_TEST(std::filesystem::is_empty(scratch));
  std::filesystem::remove_all(scratch);
}

// Engines run below the loop's priority (setting engine_nice): the loop is answered first when
// both want a core (with xtb on a core of two, a probe during a batch waited 5-7 ms). So do the
// pool threads that start them, read their output and hash their files (one held a core for
// 10 ms after an xtb ended while a probe waited for one), and an engine is as nice as its
// thread, not twice as nice.
BOOST_AUTO_TEST_CASE(engine_processes_run_at_the_configured_niceness) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, 0);
  BOOST_REQUIRE(errno == 0);
  const auto scratch = std::filesystem::temp_directory_path() / "nox-runner-nice-test";
  std::filesystem::create_directories(scratch);
  NicenessEngine engine;
  for (int nice : {0, 7, 10}) {
    asio::io_context io;
    RunnerOptions options;
    options.scratch_root = scratch;
    options.engine_nice = nice;
    Runner runner(io.get_executor(), options);
    Outcome outcome;
    asio::co_spawn(io, run_one(runner, engine, nice, outcome), asio::detached);
    io.run();
    BOOST_REQUIRE_EQUAL(outcome.result.artifacts.size(), 1u);
    BOOST_TEST(outcome.result.artifacts[0].bytes == std::to_string(std::min(19, own + nice)) + "\n");
    BOOST_TEST(engine.pool_thread_niceness.load() == std::min(19, own + nice));
  }
  errno = 0;
  BOOST_TEST(getpriority(PRIO_PROCESS, 0) == own);  // the loop's thread kept its priority
  BOOST_TEST(errno == 0);
  std::filesystem::remove_all(scratch);
}

BOOST_AUTO_TEST_SUITE_END()
