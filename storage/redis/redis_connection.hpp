#pragma once
// One Redis connection for the one event-loop thread: pipelined requests answered in FIFO
// order, AUTH/SELECT from the URL, command timeouts, and a run loop that reconnects with
// capped exponential backoff. While it is not connected, requests fail at once with
// `unavailable` instead of queueing, so callers never hang on a dead Redis.
//
// Blocking commands (BLPOP, XREAD BLOCK) hold up every request behind them on the same
// connection, so a user of those keeps a separate Connection for them.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "storage/redis/redis_protocol.hpp"

namespace nox::redis {

struct ConnectionConfig {
  Url url;
  std::string client_name;  // CLIENT SETNAME, so `CLIENT LIST` tells the connections apart
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
};

enum class Status {
  ok,
  unavailable,  // not connected, or the connection broke before the answer came
  timeout,      // no answer within the timeout; the connection is dropped and re-made
  cancelled,    // the caller's coroutine was cancelled; the answer is discarded
};

// The answers to one Command, one Reply per command in it, or why there are none.
struct Response {
  Status status = Status::ok;
  std::string message;
  std::vector<Reply> replies;
  // The command was handed to the socket: on a failure (timeout, connection lost) Redis may
  // have run it all the same. False when it never left this process (not connected).
  bool written = false;

  bool ok() const { return status == Status::ok; }
  const Reply& reply() const { return replies.front(); }
};

struct ConnectionStats {
  std::uint64_t connects = 0;  // successful handshakes
  std::uint64_t commands = 0;  // commands written
  std::uint64_t writes = 0;    // socket writes (commands / writes = pipelining depth)
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> create(boost::asio::any_io_executor executor, ConnectionConfig config);
  ~Connection();

  // Starts the run loop (connect, serve, reconnect) on the executor; returns at once.
  void start();
  // Stops for good: fails queued requests, closes the socket, ends the run loop.
  void close();

  bool is_connected() const { return state_ == State::connected; }
  // True once connected; false when `max_wait` passes first or the connection is closed.
  boost::asio::awaitable<bool> wait_connected(std::chrono::milliseconds max_wait);

  // Sends every command of `command` in one write and returns their replies in order.
  // Redis error replies are replies (Reply::is_error), not failures. `timeout` zero means
  // the configured command timeout; blocking commands pass their block time plus a margin.
  boost::asio::awaitable<Response> exec(Command command, std::chrono::milliseconds timeout = {});

  ConnectionStats stats() const { return stats_; }
  // Time from handing a command to the socket's queue to its answer, answered ones only.
  const Histogram& round_trips() const { return round_trips_; }
  // Why the last connection attempt or session ended ("" while all is well), for /health.
  const std::string& last_error() const { return last_error_; }
  const ConnectionConfig& config() const { return config_; }

 private:
  enum class State { idle, connecting, handshaking, connected, closed };
  struct Request;

  Connection(boost::asio::any_io_executor executor, ConnectionConfig config);

  boost::asio::awaitable<void> run(std::shared_ptr<Connection> self);
  boost::asio::awaitable<bool> connect_socket();
  boost::asio::awaitable<void> reader();
  boost::asio::awaitable<void> writer();
  // Hands `request` to the socket from the caller's own turn of the loop, when it is the
  // turn's first and nothing is queued or being written: a command made while the loop is
  // busy with other answers reaches Redis at once, and Redis runs it meanwhile. false: the
  // writer sends it.
  bool write_now(const std::shared_ptr<Request>& request);
  boost::asio::awaitable<void> handshake();
  boost::asio::awaitable<Response> submit(Command command, std::chrono::milliseconds timeout);
  void set_state(State state);
  void fail_all(Status status, const std::string& message);
  void drop(const std::string& reason);

  boost::asio::any_io_executor executor_;
  ConnectionConfig config_;
  State state_ = State::idle;
  boost::asio::generic::stream_protocol::socket socket_;
  boost::asio::steady_timer writer_wakeup_;  // cancelled when a request is queued
  boost::asio::steady_timer state_changed_;  // cancelled on every state change
  boost::asio::steady_timer backoff_;
  std::deque<std::shared_ptr<Request>> to_write_;
  std::deque<std::shared_ptr<Request>> in_flight_;  // written, awaiting replies, in order
  bool writing_ = false;          // the writer's async_write is under way
  bool wrote_this_turn_ = false;  // write_now() sent a command in this turn of the loop
  std::shared_ptr<Request> partly_written_;  // write_now() sent only its first bytes; the writer sends the rest
  std::size_t partly_written_offset_ = 0;
  std::vector<char> read_buffer_;
  ConnectionStats stats_;
  Histogram round_trips_{latency_buckets()};
  std::string last_error_;
};

const char* to_string(Status status);

}  // namespace nox::redis
