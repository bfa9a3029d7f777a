// run_process against real small programs: exit status, output, environment,
// timeout and cancel of a whole process group, spawn failures.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "engines/subprocess.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nox-subprocess-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::vector<std::pair<std::string, std::string>> minimal_env{{"PATH", "/usr/bin:/bin"}};

nox::ProcessSpec shell(const std::string& script, const fs::path& dir) {
  nox::ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = minimal_env;
  spec.working_dir = dir;
  return spec;
}

struct Run {
  nox::ProcessOutcome outcome;
  std::vector<std::string> lines;
};

Run run(const nox::ProcessSpec& spec) {
  nox::ProcessControl control;
  Run r;
  r.outcome = nox::run_process(spec, control, [&](std::string_view line) { r.lines.emplace_back(line); });
  return r;
}

// A process that is gone or a zombie no longer runs; in a container nobody may reap
// orphans, so a zombie counts as dead.
bool process_dead(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = all.rfind(')');
    if (close != std::string::npos && close + 2 < all.size() &&
        (all[close + 2] == 'Z' || all[close + 2] == 'X'))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subprocess)

BOOST_AUTO_TEST_CASE(exit_code_is_reported) {
  TempDir dir;
  auto r = run(shell("exit 3", dir.path));
  BOOST_TEST(!r.outcome.spawn_failed);
  BOOST_TEST(r.outcome.exit_code == 3);
  BOOST_TEST(r.outcome.term_signal == 0);
  BOOST_TEST(!r.outcome.timed_out);
  BOOST_TEST(!r.outcome.cancelled);
  BOOST_TEST(r.outcome.wall_s >= 0.0);
  BOOST_TEST(r.outcome.wall_s < 5.0);
}

BOOST_AUTO_TEST_CASE(death_by_signal_is_reported) {
  TempDir dir;
  auto r = run(shell("kill -SEGV $$", dir.path));
  BOOST_TEST(r.outcome.exit_code == -1);
  BOOST_TEST(r.outcome.term_signal == SIGSEGV);
  BOOST_TEST(!r.outcome.timed_out);
}

BOOST_AUTO_TEST_CASE(stdout_lines_tails_and_copy) {
  TempDir dir;
  auto spec = shell("printf 'first\\nsecond\\r\\n\\nlast'; echo oops >&2", dir.path);
  spec.stdout_file = dir.path / "out.log";
  auto r = run(spec);
  BOOST_TEST(r.outcome.exit_code == 0);
  std::vector<std::string> expected{"first", "second", "", "last"};
  BOOST_TEST(r.lines == expected, boost::test_tools::per_element());
  BOOST_TEST(r.outcome.stdout_tail == "first\nsecond\r\n\nlast");
  BOOST_TEST(r.outcome.stderr_tail == "oops\n");
  BOOST_TEST(read_file(dir.path / "out.log") == "first\nsecond\r\n\nlast");
}

BOOST_AUTO_TEST_CASE(tails_keep_the_last_8_kib) {
  TempDir dir;
  // 20000 numbered lines, far more than 8 KiB on each stream.
  auto r = run(shell(
      "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; echo \"err $i\" >&2; i=$((i+1)); done", dir.path));
  BOOST_TEST(r.outcome.exit_code == 0);
  BOOST_TEST(r.lines.size() == 20000u);
  BOOST_TEST(r.lines.front() == "line 0");
  BOOST_TEST(r.lines.back() == "line 19999");
  BOOST_TEST(r.outcome.stdout_tail.size() == 8192u);
  BOOST_TEST(r.outcome.stderr_tail.size() == 8192u);
  BOOST_TEST(r.outcome.stdout_tail.ends_with("line 19998\nline 19999\n"));
  BOOST_TEST(r.outcome.stderr_tail.ends_with("err 19999\n"));
}

BOOST_AUTO_TEST_CASE(environment_is_exactly_what_was_passed) {
  TempDir dir;
  nox::ProcessSpec spec;
  spec.argv = {"/usr/bin/env"};
  spec.env = {{"ALPHA", "1"}, {"BETA", "two words"}, {"OMP_NUM_THREADS", "1"}};
  spec.working_dir = dir.path;
  BOOST_REQUIRE(::setenv("NOX_TEST_SHOULD_NOT_LEAK", "x", 1) == 0);
  auto r = run(spec);
  ::unsetenv("NOX_TEST_SHOULD_NOT_LEAK");
  BOOST_TEST(r.outcome.exit_code == 0);
  std::vector<std::string> expected{"ALPHA=1", "BETA=two words", "OMP_NUM_THREADS=1"};
  BOOST_TEST(r.lines == expected, boost::test_tools::per_element());

  spec.env.clear();
  auto empty = run(spec);
  BOOST_TEST(empty.outcome.exit_code == 0);
  BOOST_TEST(empty.lines.empty());
}

BOOST_AUTO_TEST_CASE(runs_in_working_dir_with_stdin_from_dev_null) {
  TempDir dir;
  auto r = run(shell("pwd; cat; echo \"cat=$?\"", dir.path));
  BOOST_TEST(r.outcome.exit_code == 0);
  std::vector<std::string> expected{fs::canonical(dir.path).string(), "cat=0"};
  BOOST_TEST(r.lines == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(own_process_group) {
  TempDir dir;
  auto r = run(shell("echo $$; cut -d' ' -f5 /proc/$$/stat", dir.path));
  BOOST_REQUIRE(r.lines.size() == 2u);
  // The shell leads its own group: pgid == pid.
  const std::string& pgid = r.lines[1];
  BOOST_TEST(pgid == r.lines[0]);
  BOOST_TEST(std::stol(pgid) != static_cast<long>(::getpgrp()));
}

BOOST_AUTO_TEST_CASE(stack_limit_is_applied) {
  TempDir dir;
  auto spec = shell("ulimit -s", dir.path);
  spec.stack_limit_bytes = 64u * 1024 * 1024;
  auto r = run(spec);
  BOOST_REQUIRE(r.lines.size() == 1u);
  // Clamped to the hard limit when that is lower (an unprivileged process cannot raise it).
  rlimit current{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_STACK, &current) == 0);
  rlim_t expected = 64u * 1024 * 1024;
  if (current.rlim_max != RLIM_INFINITY && current.rlim_max < expected) expected = current.rlim_max;
  BOOST_TEST(r.lines[0] == std::to_string(expected / 1024));
}

BOOST_AUTO_TEST_CASE(timeout_kills_the_whole_group) {
  TempDir dir;
  // Two sleeps: one in the background (a grandchild of ours once sh waits), one in front.
  auto spec = shell("sleep 30 & echo $!; sleep 30 & echo $!; wait", dir.path);
  spec.timeout = 300ms;
  auto r = run(spec);
  BOOST_TEST(r.outcome.timed_out);
  BOOST_TEST(!r.outcome.cancelled);
  BOOST_TEST(r.outcome.term_signal == SIGTERM);
  BOOST_TEST(r.outcome.exit_code == -1);
  BOOST_TEST(r.outcome.wall_s >= 0.3);
  BOOST_TEST(r.outcome.wall_s < 3.0);
  BOOST_REQUIRE(r.lines.size() == 2u);
  for (const auto& line : r.lines) BOOST_TEST(process_dead(static_cast<pid_t>(std::stol(line))));
}

BOOST_AUTO_TEST_CASE(sigkill_after_grace_when_sigterm_is_ignored) {
  TempDir dir;
  // trap "" makes TERM ignored in sh and in the sleep it starts.
  auto spec = shell("trap '' TERM; sleep 30 & echo $!; wait", dir.path);
  spec.timeout = 200ms;
  spec.kill_grace = 300ms;
  auto r = run(spec);
  BOOST_TEST(r.outcome.timed_out);
  BOOST_TEST(r.outcome.term_signal == SIGKILL);
  BOOST_TEST(r.outcome.wall_s >= 0.5);
  BOOST_TEST(r.outcome.wall_s < 3.0);
  BOOST_REQUIRE(r.lines.size() == 1u);
  BOOST_TEST(process_dead(static_cast<pid_t>(std::stol(r.lines[0]))));
}

BOOST_AUTO_TEST_CASE(cancel_kills_the_group) {
  TempDir dir;
  auto spec = shell("sleep 30 & echo $!; sleep 30", dir.path);
  nox::ProcessControl control;
  std::vector<std::string> lines;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    control.cancel_requested = true;
  });
  auto outcome = nox::run_process(spec, control, [&](std::string_view l) { lines.emplace_back(l); });
  canceller.join();
  BOOST_TEST(outcome.cancelled);
  BOOST_TEST(!outcome.timed_out);
  BOOST_TEST(outcome.term_signal == SIGTERM);
  BOOST_TEST(outcome.wall_s < 3.0);
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(process_dead(static_cast<pid_t>(std::stol(lines[0]))));
}

BOOST_AUTO_TEST_CASE(background_child_does_not_outlive_the_main_process) {
  TempDir dir;
  // The main process exits at once; its background child still holds stdout open.
  auto r = run(shell("sleep 30 & echo $!", dir.path));
  BOOST_TEST(r.outcome.exit_code == 0);
  BOOST_TEST(!r.outcome.timed_out);
  BOOST_TEST(r.outcome.wall_s < 3.0);
  BOOST_REQUIRE(r.lines.size() == 1u);
  BOOST_TEST(process_dead(static_cast<pid_t>(std::stol(r.lines[0]))));
}

BOOST_AUTO_TEST_CASE(blocked_signals_in_the_caller_do_not_reach_the_child) {
  TempDir dir;
  // A server thread may block SIGTERM; a child inheriting that mask would never die of it.
  nox::ProcessOutcome outcome;
  std::thread t([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // sleep itself, not through a shell that might reset its mask.
    nox::ProcessSpec spec;
    spec.argv = {"/bin/sleep", "30"};
    spec.working_dir = dir.path;
    spec.timeout = 200ms;
    spec.kill_grace = 5000ms;
    nox::ProcessControl control;
    outcome = nox::run_process(spec, control, nullptr);
  });
  t.join();
  BOOST_TEST(outcome.timed_out);
  BOOST_TEST(outcome.term_signal == SIGTERM);
  BOOST_TEST(outcome.wall_s < 3.0);
}

BOOST_AUTO_TEST_CASE(missing_program_is_a_spawn_failure) {
  TempDir dir;
  nox::ProcessSpec spec;
  spec.argv = {"/nonexistent/xtb", "--version"};
  spec.working_dir = dir.path;
  auto r = run(spec);
  BOOST_TEST(r.outcome.spawn_failed);
  BOOST_TEST(r.outcome.stderr_tail.find("cannot execute /nonexistent/xtb") != std::string::npos);
  BOOST_TEST(r.outcome.stderr_tail.find("No such file or directory") != std::string::npos);
  BOOST_TEST(r.lines.empty());
}

BOOST_AUTO_TEST_CASE(missing_working_dir_is_a_spawn_failure) {
  TempDir dir;
  auto spec = shell("true", dir.path / "missing");
  auto r = run(spec);
  BOOST_TEST(r.outcome.spawn_failed);
  BOOST_TEST(r.outcome.stderr_tail.find("cannot enter working directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_argv_is_a_spawn_failure) {
  nox::ProcessSpec spec;
  auto r = run(spec);
  BOOST_TEST(r.outcome.spawn_failed);
}

BOOST_AUTO_TEST_CASE(throwing_callback_still_reaps_the_child) {
  TempDir dir;
  auto spec = shell("echo $$; sleep 30", dir.path);
  nox::ProcessControl control;
  pid_t child = 0;
  BOOST_CHECK_THROW(nox::run_process(spec, control,
                                     [&](std::string_view l) {
                                       child = static_cast<pid_t>(std::stol(std::string(l)));
                                       throw std::runtime_error("callback failed");
                                     }),
                    std::runtime_error);
  BOOST_REQUIRE(child > 0);
  BOOST_TEST(process_dead(child));
}

BOOST_AUTO_TEST_CASE(concurrent_runs_keep_their_outputs_apart) {
  TempDir dir;
  constexpr int n = 6;
  std::vector<Run> results(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto spec = shell("i=0; while [ $i -lt 200 ]; do echo \"$ID $i\"; i=$((i+1)); done", dir.path);
      spec.env.emplace_back("ID", "run" + std::to_string(i));
      results[i] = run(spec);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    BOOST_TEST(results[i].outcome.exit_code == 0);
    BOOST_REQUIRE(results[i].lines.size() == 200u);
    BOOST_TEST(results[i].lines[0] == "run" + std::to_string(i) + " 0");
    BOOST_TEST(results[i].lines[199] == "run" + std::to_string(i) + " 199");
  }
}

BOOST_AUTO_TEST_SUITE_END()
