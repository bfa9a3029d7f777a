#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/free_port.hpp"

extern char** environ;

namespace nox::test {

namespace {

constexpr const char* redis_server_path = "/usr/bin/redis-server";

// True when something on the port answers a RESP PING (+PONG, or -NOAUTH when a password
// is required: either way the server is up and serving).
bool answers_ping(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char ping[] = "*1\r\n$4\r\nPING\r\n";
    if (::write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1)) {
      char buf[64];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      const std::string answer(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      ok = answer.rfind("+PONG", 0) == 0 || answer.rfind("-NOAUTH", 0) == 0;
    }
  }
  ::close(fd);
  return ok;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Waits for `pid` for up to `limit`; true when it exited.
bool wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "nox-redis-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  port_ = free_loopback_port();
  start();
}

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, std::chrono::seconds(5));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start() {
  if (pid_ > 0) return;
  const std::string port = std::to_string(port_);
  const std::string dir = dir_.string();
  const std::string socket = unix_socket();
  const std::string log = (dir_ / "redis.log").string();
  std::vector<std::string> args = {redis_server_path,
                                   "--port",
                                   port,
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   socket,
                                   "--unixsocketperm",
                                   "700",
                                   "--dir",
                                   dir,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.appendonly ? "yes" : "no",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   log};
  if (!options_.requirepass.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.requirepass);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child must not inherit the test's sockets (a client fd kept open by the server would
  // hide a closed connection from the test).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, redis_server_path, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start redis-server");
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!answers_ping(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start: " + read_file(dir_ / "redis.log"));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill();
      throw std::runtime_error("redis-server did not answer PING within 10 s: " +
                               read_file(dir_ / "redis.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_exit(pid_, std::chrono::seconds(5));
  pid_ = -1;
}

std::string RedisServer::url(int db) const {
  std::string out = "redis://";
  if (!options_.requirepass.empty()) out += ":" + options_.requirepass + "@";
  out += "127.0.0.1:" + std::to_string(port_);
  if (db) out += "/" + std::to_string(db);
  return out;
}

std::string RedisServer::unix_url(int db) const {
  std::string out = "unix://" + unix_socket();
  std::string sep = "?";
  if (db) {
    out += sep + "db=" + std::to_string(db);
    sep = "&";
  }
  if (!options_.requirepass.empty()) out += sep + "password=" + options_.requirepass;
  return out;
}

std::string RedisServer::cli(const std::string& args) const {
  std::string command = "redis-cli -p " + std::to_string(port_);
  if (!options_.requirepass.empty()) command += " --no-auth-warning -a '" + options_.requirepass + "'";
  command += " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run redis-cli");
  std::string out;
  std::array<char, 4096> buf;
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace nox::test
