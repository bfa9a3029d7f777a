// Per-job threads through noxd (issue 9): xtb runs with that many OpenMP threads, the pool
// counts them against its slots (never more cores busy than slots), and a job asking for more
// cores than a lone server has is refused.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/integration/api_fixture.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A thread's niceness from /proc (field 19 of its stat line).
int niceness_of(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  for (int i = 3; i <= 19; ++i) fields >> field;
  return std::stoi(field);
}

// Whether a process of this test's user may make a thread less nice (root, CAP_SYS_NICE or
// RLIMIT_NICE): noxd, started by it, may then as well. Tried on a thread of its own.
bool may_raise_a_thread() {
  bool raised = false;
  std::thread([&] {
    errno = 0;
    const int own = ::getpriority(PRIO_PROCESS, 0);
    raised = errno == 0 && own > -20 && ::setpriority(PRIO_PROCESS, 0, own - 1) == 0;
  }).join();
  return raised;
}

// The engine processes noxd has started, from /proc/<pid>/task/*/children.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(task.path() / "children");
    for (pid_t child; in >> child;) out.push_back(child);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(threads)

// The event loop runs sooner than noxd (loop_nice), the engines later (engine_nice), both
// counted from noxd's niceness as started: an engine started while the loop runs raised is
// not raised with it.
BOOST_AUTO_TEST_CASE(the_loop_runs_sooner_and_the_engines_later_than_noxd) {
  errno = 0;
  const int own = ::getpriority(PRIO_PROCESS, 0);  // noxd starts with it
  BOOST_REQUIRE(errno == 0);
  const bool may_raise = may_raise_a_thread();
  NoxdProcess noxd{{"--loop-nice", "-5", "--engine-nice", "10"}};
  BOOST_TEST(niceness_of(noxd.pid(), noxd.pid()) == (may_raise ? std::max(-20, own - 5) : own));
  if (!may_raise) BOOST_TEST(noxd.log().find("loop_nice -5 needs CAP_SYS_NICE") != std::string::npos, noxd.log());
  HttpClient client(noxd.port());
  const std::string job = submit(client, job_spec_json("xtb", "hessian", molecule_xyz("triacontane")));
  wait_for_state(client, job, "running");
  // "running" is recorded as its xtb is being started: poll /proc until it is there.
  std::vector<pid_t> engines;
  for (auto until = std::chrono::steady_clock::now() + 10s; engines.empty() && std::chrono::steady_clock::now() < until;) {
    engines = children_of(noxd.pid());
    if (engines.empty()) std::this_thread::sleep_for(10ms);
  }
  BOOST_REQUIRE_EQUAL(engines.size(), 1u);
  BOOST_TEST(niceness_of(engines[0], engines[0]) == std::min(19, own + 10));
  BOOST_TEST(client.request("POST", "/jobs/" + job + "/cancel").status == 200);
  wait_until_finished(client, job);
  // Asked for nothing, the loop keeps noxd's niceness.
  NoxdProcess plain{{"--loop-nice", "0"}};
  BOOST_TEST(niceness_of(plain.pid(), plain.pid()) == own);
}

BOOST_AUTO_TEST_CASE(a_jobs_threads_take_its_slots_and_reach_xtb) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client(noxd.port());
  // Many seconds of xtb (a Hessian of C30H62) with both slots...
  const std::string wide =
      submit(client, job_spec_json("xtb", "hessian", molecule_xyz("triacontane"), R"("threads":2)"));
  wait_for_state(client, wide, "running");
  // ...so a one-thread job waits although only one job runs.
  const std::string narrow = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water")));
  const auto health = client.get("/health").json();
  BOOST_TEST(health.at("slots").at("busy").as_int64() == 2, json::serialize(health.at("slots")));
  BOOST_TEST(client.request("POST", "/jobs/" + wide + "/cancel").status == 200);
  BOOST_TEST(json_string(wait_until_finished(client, narrow), "state") == "completed");
  // It started only once the wide job's slots were free.
  const auto wide_job = client.get("/jobs/" + wide).json();
  const auto narrow_job = client.get("/jobs/" + narrow).json();
  BOOST_TEST(json_string(narrow_job, "started_at") >= json_string(wide_job, "finished_at"));

  // xtb itself says how many OpenMP threads it ran.
  const std::string two = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water"), R"("threads":2)"));
  wait_until_finished(client, two);
  const std::string log = client.get("/jobs/" + two + "/artifacts/xtb.log").body;
  BOOST_TEST(std::regex_search(log, std::regex("omp threads\\s*:\\s*2\\b")), "xtb.log lacks omp threads = 2");
  const std::string one = client.get("/jobs/" + narrow + "/artifacts/xtb.log").body;
  BOOST_TEST(std::regex_search(one, std::regex("omp threads\\s*:\\s*1\\b")));

  // Alone (memory store), this server has 2 cores to give.
  const auto refused = client.post_json("/jobs", job_spec_json("xtb", "energy", molecule_xyz("water"), R"("threads":3)"));
  BOOST_TEST(refused.status == 422);
  BOOST_TEST(refused.body.find("\"threads\"") != std::string::npos, refused.body);
}

BOOST_AUTO_TEST_SUITE_END()
