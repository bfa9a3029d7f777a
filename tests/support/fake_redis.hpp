#pragma once
// A scripted fake Redis peer for the client's own tests (in the spirit of async_mqtt5's test
// broker): a TCP listener on a free loopback port that answers the handshake a Connection
// sends (AUTH, SELECT, CLIENT SETNAME, PING), RedisStore::start's layout check and SCRIPT
// LOAD on its own, and plays a script
// for everything else: `expect(command prefix)` -> reply with RESP bytes (at once, after a
// delay, or late: only when the next command arrives), stay silent, or drop the connection.
//
// It runs on its own threads with plain blocking sockets, so it answers while the test's
// io_context is busy with the client. Every command it receives is recorded in order; the
// test awaits the client's results and then looks at what the peer saw (wait_received()
// blocks until the peer has recorded a given number of scripted commands).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nox::test {

class FakeRedis {
 public:
  struct Action {
    enum class Kind { reply, reply_late, silence, drop } kind = Kind::reply;
    std::string bytes;  // RESP reply (reply, reply_late)
    std::chrono::milliseconds delay{0};
  };
  // The reply `resp` (raw RESP bytes, e.g. "+OK\r\n"), written after `delay`.
  static Action reply(std::string resp, std::chrono::milliseconds delay = {});
  // The reply is held back and written (on the connection the command came on, even if the
  // client has given up on it) just before the peer handles the next command it receives.
  static Action reply_late(std::string resp);
  // No answer, to this command or any later one on the same connection (a frozen server).
  static Action silence();
  // Closes the connection without answering.
  static Action drop();

  struct Received {
    int connection = 0;             // 1 for the first accepted connection, 2 for the next, ...
    std::vector<std::string> argv;  // the command as sent
    std::string bytes;              // its RESP encoding, byte for byte
    bool scripted = false;          // matched a step of the script (not answered on its own)
    std::string text() const;       // argv joined by spaces
  };

  FakeRedis();
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;

  // Appends a step: the next command that is matched against the script must start with
  // `prefix` (its argv joined by spaces). A command that matches no step and is not part of
  // the handshake is answered with an error and recorded in errors().
  FakeRedis& expect(std::string prefix, Action action);

  std::vector<Received> received() const;  // every command, in arrival order
  std::vector<Received> scripted() const;  // only those matched to a step
  int connections() const;                 // accepted so far
  std::vector<std::string> errors() const;
  bool script_done() const;  // every step was used
  // Blocks until `count` commands have matched steps; false after `max_wait`.
  bool wait_scripted(std::size_t count, std::chrono::milliseconds max_wait) const;

 private:
  struct Step {
    std::string prefix;
    Action action;
  };
  struct Late {
    int fd;
    std::string bytes;
  };

  void accept_loop();
  void serve(int fd, int number);
  // What to do with one command: a scripted action, an automatic answer, or an error.
  Action decide(int fd, int number, std::vector<std::string> argv, std::string bytes);
  void sleep_unless_stopping(std::chrono::milliseconds delay);

  std::uint16_t port_ = 0;
  int listener_ = -1;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::deque<Step> steps_;
  std::vector<Received> received_;
  std::vector<std::string> errors_;
  std::vector<Late> late_;
  std::vector<int> fds_;  // open connections (shut down on destruction)
  int connections_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> servers_;
};

}  // namespace nox::test
