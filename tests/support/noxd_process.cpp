#include "tests/support/noxd_process.hpp"

#include <algorithm>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace nox::test {

namespace {

std::filesystem::path fresh_dir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("noxd-test-" + std::to_string(rd()));
  std::filesystem::create_directories(dir / "scratch");
  return dir;
}

}  // namespace

NoxdProcess::NoxdProcess(std::vector<std::string> flags, std::vector<std::string> env) : dir_(fresh_dir()) {
  // $NOXD runs the suite against another build of noxd (e.g. a TSan one).
  const char* override_path = std::getenv("NOXD");
  std::vector<std::string> args{override_path ? override_path : NOXD_PATH, "--listen", "127.0.0.1:0", "--data-dir", (dir_ / "data").string(),
                                "--scratch-dir", (dir_ / "scratch").string()};
  args.insert(args.end(), flags.begin(), flags.end());
  // Most tests submit the same calculation many times to see each one run: the calculation
  // cache is off unless a test asks for it (tests/integration/test_calculation_cache.cpp does).
  if (std::find(flags.begin(), flags.end(), "--cache-scope") == flags.end()) {
    args.push_back("--cache-scope");
    args.push_back("off");
  }
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("NOX_", 0) != 0) environment.emplace_back(*e);
  environment.insert(environment.end(), env.begin(), env.end());

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const std::string log_path = (dir_ / "noxd.log").string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a killed test run leaves no noxd behind
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : environment) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::dup2(out[1], STDOUT_FILENO);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) ::dup2(log, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // The first stdout line names the port: "noxd X listening on http://127.0.0.1:PORT (...)".
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[512];
    auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  // "listening on http[s]://HOST:PORT": HOST is 127.0.0.1 unless a test listens elsewhere.
  const auto at = line.find("://", line.find("listening on "));
  const auto colon = at == std::string::npos ? std::string::npos : line.find(':', at + 3);
  if (colon == std::string::npos) {
    kill_hard();
    throw std::runtime_error("noxd did not start: " + line + " / " + log());
  }
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

NoxdProcess::~NoxdProcess() {
  if (pid_ > 0) stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string NoxdProcess::log() const {
  std::ifstream in(dir_ / "noxd.log");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void NoxdProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int NoxdProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_hard();
  return -1;
}

int NoxdProcess::wait_for_exit(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  do {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

}  // namespace nox::test
