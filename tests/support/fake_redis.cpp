#include "tests/support/fake_redis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>

namespace nox::test {

namespace {

// One command (an array of bulk strings) from the front of `buffer`, or nothing while it is
// incomplete. Sets `bad` on bytes that are no command.
std::optional<std::vector<std::string>> take_command(std::string& buffer, std::string& bytes, bool& bad) {
  std::size_t pos = 0;
  auto line = [&](std::string& out) {
    const std::size_t end = buffer.find("\r\n", pos);
    if (end == std::string::npos) return false;
    out = buffer.substr(pos, end - pos);
    pos = end + 2;
    return true;
  };
  std::string header;
  if (!line(header)) return std::nullopt;
  if (header.empty() || header[0] != '*') {
    bad = true;
    return std::nullopt;
  }
  const long count = std::strtol(header.c_str() + 1, nullptr, 10);
  std::vector<std::string> argv;
  for (long i = 0; i < count; ++i) {
    std::string length_line;
    if (!line(length_line)) return std::nullopt;
    if (length_line.empty() || length_line[0] != '$') {
      bad = true;
      return std::nullopt;
    }
    const auto length = static_cast<std::size_t>(std::strtoul(length_line.c_str() + 1, nullptr, 10));
    if (buffer.size() < pos + length + 2) return std::nullopt;
    argv.push_back(buffer.substr(pos, length));
    pos += length + 2;
  }
  bytes = buffer.substr(0, pos);
  buffer.erase(0, pos);
  return argv;
}

void send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client went away: a reply nobody reads
    sent += static_cast<std::size_t>(n);
  }
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// Looks like a SHA-1, stable per script source.
std::string fake_sha(const std::string& source) {
  char out[41];
  const std::size_t a = std::hash<std::string>{}(source);
  const std::size_t b = std::hash<std::string>{}(source + "#");
  std::snprintf(out, sizeof out, "%016zx%016zx%08zx", a, b, a ^ b);
  return std::string(out, 40);
}

std::string bulk(const std::string& text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }

}  // namespace

std::string FakeRedis::Received::text() const {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

FakeRedis::Action FakeRedis::reply(std::string resp, std::chrono::milliseconds delay) {
  return Action{Action::Kind::reply, std::move(resp), delay};
}
FakeRedis::Action FakeRedis::reply_late(std::string resp) {
  return Action{Action::Kind::reply_late, std::move(resp), {}};
}
FakeRedis::Action FakeRedis::silence() { return Action{Action::Kind::silence, {}, {}}; }
FakeRedis::Action FakeRedis::drop() { return Action{Action::Kind::drop, {}, {}}; }

FakeRedis::FakeRedis() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0) throw std::runtime_error("fake redis: socket() failed");
  int yes = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks a free port
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 16) != 0) {
    ::close(listener_);
    throw std::runtime_error("fake redis: cannot listen on loopback");
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeRedis::~FakeRedis() {
  std::vector<int> fds;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    fds = fds_;
  }
  changed_.notify_all();
  ::shutdown(listener_, SHUT_RDWR);  // ends accept()
  for (int fd : fds) ::shutdown(fd, SHUT_RDWR);
  acceptor_.join();
  // No new server threads after the acceptor ended.
  for (std::thread& t : servers_) t.join();
  for (int fd : fds_) ::close(fd);
  ::close(listener_);
}

std::string FakeRedis::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

FakeRedis& FakeRedis::expect(std::string prefix, Action action) {
  std::lock_guard lock(mutex_);
  steps_.push_back(Step{std::move(prefix), std::move(action)});
  return *this;
}

std::vector<FakeRedis::Received> FakeRedis::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<FakeRedis::Received> FakeRedis::scripted() const {
  std::lock_guard lock(mutex_);
  std::vector<Received> out;
  for (const Received& r : received_)
    if (r.scripted) out.push_back(r);
  return out;
}

int FakeRedis::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

std::vector<std::string> FakeRedis::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool FakeRedis::script_done() const {
  std::lock_guard lock(mutex_);
  return steps_.empty();
}

bool FakeRedis::wait_scripted(std::size_t count, std::chrono::milliseconds max_wait) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, max_wait, [&] {
    std::size_t n = 0;
    for (const Received& r : received_) n += r.scripted;
    return n >= count;
  });
}

void FakeRedis::accept_loop() {
  for (;;) {
    const int fd = ::accept(listener_, nullptr, nullptr);
    std::lock_guard lock(mutex_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    // Kept open (only shut down) until the destructor: its number is never reused for a
    // later connection, so a late reply can only ever reach the connection it belongs to.
    fds_.push_back(fd);
    const int number = ++connections_;
    servers_.emplace_back([this, fd, number] { serve(fd, number); });
  }
}

void FakeRedis::sleep_unless_stopping(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, delay, [&] { return stopping_; });
}

FakeRedis::Action FakeRedis::decide(int fd, int number, std::vector<std::string> argv, std::string bytes) {
  std::vector<Late> late;
  Action action;
  {
    std::lock_guard lock(mutex_);
    late.swap(late_);
    Received received{number, std::move(argv), std::move(bytes), false};
    const std::string text = received.text();
    const std::string name = received.argv.empty() ? std::string() : upper(received.argv[0]);
    if (!steps_.empty() && text.rfind(steps_.front().prefix, 0) == 0) {
      action = std::move(steps_.front().action);
      steps_.pop_front();
      received.scripted = true;
      if (action.kind == Action::Kind::reply_late) late_.push_back(Late{fd, action.bytes});
    } else if (name == "AUTH" || name == "SELECT" || name == "CLIENT") {
      action = reply("+OK\r\n");
    } else if (name == "PING") {
      action = reply("+PONG\r\n");
    } else if (name == "GET" && received.argv.size() == 2 && received.argv[1].ends_with(":layout")) {
      action = reply(bulk("2"));  // RedisStore::start's check: the records are of its layout
    } else if (name == "EXISTS" && received.argv.size() == 2 && received.argv[1].ends_with(":jobs")) {
      action = reply(":0\r\n");
    } else if (name == "SCRIPT" && received.argv.size() == 3 && upper(received.argv[1]) == "LOAD") {
      action = reply(bulk(fake_sha(received.argv[2])));
    } else {
      errors_.push_back("unexpected command on connection " + std::to_string(number) + ": " + text.substr(0, 200) +
                        (steps_.empty() ? " (script done)" : " (expected " + steps_.front().prefix + ")"));
      action = reply("-ERR fake redis: unexpected command\r\n");
    }
    received_.push_back(std::move(received));
  }
  changed_.notify_all();
  // Replies held back for "late" go out before this command is answered.
  for (const Late& l : late) send_all(l.fd, l.bytes);
  return action;
}

void FakeRedis::serve(int fd, int number) {
  std::string buffer;
  char chunk[64 * 1024];
  bool silent = false;
  for (;;) {
    bool bad = false;
    std::string bytes;
    while (auto argv = take_command(buffer, bytes, bad)) {
      if (silent) {
        std::lock_guard lock(mutex_);
        received_.push_back(Received{number, std::move(*argv), std::move(bytes), false});
        continue;
      }
      Action action = decide(fd, number, std::move(*argv), std::move(bytes));
      switch (action.kind) {
        case Action::Kind::reply:
          if (action.delay.count() > 0) sleep_unless_stopping(action.delay);
          send_all(fd, action.bytes);
          break;
        case Action::Kind::reply_late:
          break;  // written by decide() when the next command arrives
        case Action::Kind::silence:
          silent = true;
          break;
        case Action::Kind::drop:
          ::shutdown(fd, SHUT_RDWR);
          return;
      }
    }
    if (bad) {
      std::lock_guard lock(mutex_);
      errors_.push_back("connection " + std::to_string(number) + " sent bytes that are no command");
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return;  // the client closed (or the destructor shut the socket down)
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace nox::test
