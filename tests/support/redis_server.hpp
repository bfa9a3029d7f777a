#pragma once
// A real redis-server for tests: a free loopback port (never 6379) plus a unix socket, in a
// temp dir, no RDB snapshots. It can be stopped and started again on the same port (the
// restart tests) and is killed in the destructor.
#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <string>

namespace nox::test {

struct RedisServerOptions {
  bool appendonly = false;  // --appendonly yes: data survives stop()/start()
  std::string requirepass;  // empty: no AUTH needed
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits until it answers PING (throws after 10 s or if it exits).
  void start();
  // SIGTERM and wait: a clean shutdown that flushes the AOF.
  void stop();
  // SIGKILL and wait: a crash.
  void kill();
  bool running() const { return pid_ > 0; }

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string unix_socket() const { return (dir_ / "redis.sock").string(); }
  // redis://[:password@]127.0.0.1:<port>/<db>
  std::string url(int db = 0) const;
  std::string unix_url(int db = 0) const;
  // Runs redis-cli against this server and returns its stdout (for checks from the outside).
  std::string cli(const std::string& args) const;

 private:
  RedisServerOptions options_;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// Runs `task` on `ioc` until it finishes and returns its value (rethrowing its exception).
// Other work on the context (connection run loops) keeps running meanwhile and stays there
// afterwards, so a fixture can run several tasks on one context.
template <class T>
T run_task(boost::asio::io_context& ioc, boost::asio::awaitable<T> task) {
  std::future<T> future = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
  ioc.restart();
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (ioc.run_one() == 0) ioc.restart();
  }
  return future.get();
}

}  // namespace nox::test
