// systemd (issue 8): the units verify, sysusers/tmpfiles entries apply, noxd serves on a socket
// passed by socket activation, and it tells a test-owned NOTIFY_SOCKET READY, STATUS, WATCHDOG
// and STOPPING (libsystemd's sd_notify).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <poll.h>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;

namespace {

bool have(const std::string& program) { return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0; }

std::pair<int, std::string> run(const std::string& command) {
  CommandResult result = run_command(command + " 2>&1");
  return {result.status, std::move(result.out)};
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  // The next message that contains `wanted`, within the time limit; everything read is kept.
  bool wait_for(const std::string& wanted, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      const std::string message(buffer, static_cast<std::size_t>(n));
      seen += message + "\n";
      if (message.find(wanted) != std::string::npos) return true;
    }
    return false;
  }
  const std::string& path() const { return path_; }
  std::string seen;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_integration)

BOOST_AUTO_TEST_CASE(the_units_verify_and_the_sysusers_and_tmpfiles_entries_apply) {
  if (!have("systemd-analyze")) {
    BOOST_TEST_MESSAGE("systemd-analyze is not installed: not checked");
    return;
  }
  TempDir dir;
  // The installed unit runs /usr/local/bin/noxd; verify it against this build's binary.
  const auto [sed_status, sed_out] =
      run("sed 's|/usr/local/bin/noxd|" + noxd_path() + "|' " + std::string(NOX_SOURCE_DIR) + "/systemd/noxd.service > " +
          (dir.path() / "noxd.service").string() + " && cp " + NOX_SOURCE_DIR + "/systemd/noxd.socket " +
          dir.path().string());
  BOOST_TEST_REQUIRE(sed_status == 0, sed_out);
  const auto [verify_status, verify_out] = run("cd " + dir.path().string() +
                                               " && systemd-analyze verify ./noxd.service ./noxd.socket");
  BOOST_TEST(verify_status == 0, verify_out);
  BOOST_TEST(verify_out.find("Unknown") == std::string::npos, verify_out);

  if (have("systemd-sysusers")) {
    const auto [status, out] = run("systemd-sysusers --dry-run " + std::string(NOX_SOURCE_DIR) + "/systemd/nox.sysusers.conf");
    BOOST_TEST(status == 0, out);
  }
  if (have("systemd-tmpfiles")) {
    const auto root = dir.path() / "root";
    std::filesystem::create_directories(root / "etc");
    std::ofstream(root / "etc/passwd") << "root:x:0:0::/root:/bin/sh\nnox:x:990:990::/var/lib/nox:/usr/sbin/nologin\n";
    std::ofstream(root / "etc/group") << "root:x:0:\nnox:x:990:\n";
    const auto [status, out] = run("systemd-tmpfiles --root=" + root.string() + " --create " +
                                   std::string(NOX_SOURCE_DIR) + "/systemd/nox.tmpfiles.conf");
    BOOST_TEST(status == 0, out);
    BOOST_TEST(std::filesystem::is_directory(root / "var/lib/nox"));
    BOOST_TEST(std::filesystem::is_directory(root / "var/cache/nox/scratch"));
  }
}

BOOST_AUTO_TEST_CASE(noxd_serves_on_the_socket_systemd_passes) {
  if (!have("systemd-socket-activate")) {
    BOOST_TEST_MESSAGE("systemd-socket-activate is not installed: not checked");
    return;
  }
  TempDir dir;
  const std::uint16_t port = free_loopback_port();
  // systemd-socket-activate listens and starts noxd with LISTEN_FDS=1 on the first connection.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    const std::string data = (dir.path() / "data").string(), scratch = dir.path().string();
    const std::string noxd = noxd_path();
    const std::string log = (dir.path() / "noxd.log").string();
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDERR_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::execlp("systemd-socket-activate", "systemd-socket-activate", "-l", listen.c_str(), noxd.c_str(), "--listen",
             "127.0.0.1:1", "--data-dir", data.c_str(), "--scratch-dir", scratch.c_str(), "--slots", "1",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The socket is systemd-socket-activate's until noxd takes it over: retry until it answers.
  int status = 0;
  for (int i = 0; i < 300 && status != 200; ++i) {
    try {
      HttpClient client{port};
      status = client.get("/health").status;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  BOOST_TEST(status == 200);
  std::ifstream in(dir.path() / "noxd.log");
  std::stringstream log;
  log << in.rdbuf();
  // noxd served the passed socket, not --listen (port 1 would have failed).
  BOOST_TEST(log.str().find("listening on http://127.0.0.1:" + std::to_string(port)) != std::string::npos, log.str());
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(noxd_tells_systemd_ready_status_watchdog_and_stopping) {
  TempDir dir;
  NotifySocket notify(dir.path() / "notify");
  NoxdProcess noxd{{"--slots", "1"}, {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"}};
  BOOST_TEST(notify.wait_for("READY=1"), notify.seen);
  BOOST_TEST(notify.wait_for("STATUS=slots 0/1 busy, 0 queued, 0 running"), notify.seen);
  BOOST_TEST(notify.wait_for("WATCHDOG=1"), notify.seen);  // every 200 ms: half of WATCHDOG_USEC
  noxd.stop();
  BOOST_TEST(notify.wait_for("STOPPING=1", std::chrono::seconds(2)), notify.seen);
}

BOOST_AUTO_TEST_SUITE_END()
