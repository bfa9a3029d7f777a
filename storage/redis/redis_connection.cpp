#include "storage/redis/redis_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace nox::redis {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using boost::system::error_code;
using std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 64 * 1024;

std::string millis(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

// One caller's commands on their way: queued, written, then answered. Shared between the
// caller (who may give up) and the writer/reader (who must keep the bytes and the FIFO
// slot alive until the answers have been read, whether anyone still wants them or not).
struct Connection::Request {
  explicit Request(const asio::any_io_executor& executor) : done_signal(executor) {}

  Command command;
  std::size_t expected = 1;
  std::vector<Reply> replies;
  Status status = Status::ok;
  std::string message;
  bool done = false;
  bool abandoned = false;
  bool written = false;  // moved to in_flight_: the bytes went (or are going) to the socket
  // Expires at the caller's deadline; cancelled when the answer (or a failure) is in.
  asio::steady_timer done_signal;

  void complete(Status s, std::string m) {
    if (done) return;
    status = s;
    message = std::move(m);
    done = true;
    done_signal.cancel();
  }
};

const char* to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::unavailable:
      return "unavailable";
    case Status::timeout:
      return "timeout";
    case Status::cancelled:
      return "cancelled";
  }
  return "?";
}

std::shared_ptr<Connection> Connection::create(asio::any_io_executor executor, ConnectionConfig config) {
  return std::shared_ptr<Connection>(new Connection(std::move(executor), std::move(config)));
}

Connection::Connection(asio::any_io_executor executor, ConnectionConfig config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      socket_(executor_),
      writer_wakeup_(executor_),
      state_changed_(executor_, steady_clock::time_point::max()),
      backoff_(executor_) {}

Connection::~Connection() = default;

void Connection::start() {
  if (state_ != State::idle) return;
  asio::co_spawn(executor_, run(shared_from_this()), asio::detached);
}

void Connection::close() {
  if (state_ == State::closed) return;
  set_state(State::closed);
  error_code ignored;
  socket_.close(ignored);
  backoff_.cancel();
  writer_wakeup_.cancel();
  fail_all(Status::unavailable, "the Redis connection was closed");
}

void Connection::set_state(State state) {
  if (state_ == State::closed) return;  // closing is final
  state_ = state;
  state_changed_.cancel();
}

void Connection::fail_all(Status status, const std::string& message) {
  // Move the queues out first: completing a request may resume nothing synchronously, but
  // keeps this loop independent of what callers do next.
  auto writing = std::move(to_write_);
  auto flying = std::move(in_flight_);
  to_write_.clear();
  in_flight_.clear();
  partly_written_ = nullptr;  // its other bytes were for the session that ended
  for (auto& request : flying) request->complete(status, message);
  for (auto& request : writing) request->complete(status, message);
}

void Connection::drop(const std::string& reason) {
  last_error_ = reason;
  // Not connected from now on, not only once the session has wound down: new requests fail
  // fast and wait_connected() waits for the next handshake.
  if (state_ == State::connected || state_ == State::handshaking) set_state(State::idle);
  error_code ignored;
  socket_.close(ignored);  // ends reader and writer, and so the session
}

asio::awaitable<bool> Connection::wait_connected(std::chrono::milliseconds max_wait) {
  const auto deadline = steady_clock::now() + max_wait;
  while (state_ != State::connected && state_ != State::closed && steady_clock::now() < deadline) {
    asio::steady_timer timer(executor_, deadline);
    co_await (state_changed_.async_wait(use_tuple) || timer.async_wait(use_tuple));
  }
  co_return state_ == State::connected;
}

asio::awaitable<Response> Connection::exec(Command command, std::chrono::milliseconds timeout) {
  if (state_ != State::connected) {
    std::string message = "Redis is not connected";
    if (!last_error_.empty()) message += " (" + last_error_ + ")";
    co_return Response{Status::unavailable, std::move(message), {}};
  }
  if (command.empty()) co_return Response{};
  Response response = co_await submit(std::move(command), timeout);
  co_return response;
}

asio::awaitable<Response> Connection::submit(Command command, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = config_.command_timeout;
  const auto began = steady_clock::now();
  auto request = std::make_shared<Request>(executor_);
  request->expected = command.count();
  request->command = std::move(command);
  request->done_signal.expires_after(timeout);
  if (!write_now(request)) {
    to_write_.push_back(request);
    writer_wakeup_.cancel();
  }

  co_await request->done_signal.async_wait(use_tuple);
  if (request->done && request->status == Status::ok)
    round_trips_.observe(std::chrono::duration<double>(steady_clock::now() - began).count());
  if (request->done)
    co_return Response{request->status, std::move(request->message), std::move(request->replies),
                       request->written};

  // The answer will still arrive in its FIFO slot; mark it so the reader discards it.
  request->abandoned = true;
  if (steady_clock::now() >= request->done_signal.expiry()) {
    // On a half-open socket the answer never comes and everything behind it waits too, so a
    // timeout re-makes the connection rather than trusting it.
    drop("a command got no answer within " + millis(timeout));
    co_return Response{Status::timeout, "Redis did not answer within " + millis(timeout), {}, request->written};
  }
  co_return Response{Status::cancelled, "the request was cancelled", {}, request->written};
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) {
  (void)self;  // held only to keep this object alive for as long as the loop runs
  auto backoff = config_.backoff_initial;
  while (state_ != State::closed) {
    bool reached_connected = false;
    try {
      set_state(State::connecting);
      const bool connected = co_await connect_socket();
      if (connected && state_ != State::closed) {
        set_state(State::handshaking);
        const auto connects_before = stats_.connects;
        // Each branch returns (never throws) when its side of the session ends, and `||`
        // then cancels the others: the session lasts while all three are alive.
        co_await (reader() || writer() || handshake());
        reached_connected = stats_.connects != connects_before;
      }
    } catch (const std::exception& e) {
      last_error_ = std::string("connection loop: ") + e.what();
    }
    error_code ignored;
    socket_.close(ignored);
    if (state_ == State::closed) break;
    set_state(State::idle);
    fail_all(Status::unavailable,
             "the Redis connection was lost" + (last_error_.empty() ? "" : ": " + last_error_));

    if (reached_connected) backoff = config_.backoff_initial;
    backoff_.expires_after(backoff);
    co_await backoff_.async_wait(use_tuple);
    backoff = std::min(backoff * 2, config_.backoff_max);
  }
  fail_all(Status::unavailable, "the Redis connection was closed");
}

asio::awaitable<bool> Connection::connect_socket() {
  using generic_endpoint = asio::generic::stream_protocol::endpoint;
  const Url& url = config_.url;
  std::vector<generic_endpoint> endpoints;
  if (url.unix_socket) {
    endpoints.emplace_back(asio::local::stream_protocol::endpoint(url.path));
  } else {
    error_code ec;
    const auto address = asio::ip::make_address(url.host, ec);
    if (!ec) {
      endpoints.emplace_back(asio::ip::tcp::endpoint(address, url.port));
    } else {
      asio::ip::tcp::resolver resolver(executor_);
      auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
      if (rec) {
        last_error_ = "cannot resolve " + url.host + ": " + rec.message();
        co_return false;
      }
      for (const auto& entry : results) endpoints.emplace_back(entry.endpoint());
    }
  }

  for (const auto& endpoint : endpoints) {
    error_code ignored;
    socket_.close(ignored);
    asio::steady_timer deadline(executor_, config_.connect_timeout);
    auto result = co_await (socket_.async_connect(endpoint, use_tuple) || deadline.async_wait(use_tuple));
    if (state_ == State::closed) co_return false;
    if (result.index() == 1) {
      last_error_ = "connecting to " + redacted(url) + " timed out after " + millis(config_.connect_timeout);
      continue;
    }
    auto [ec] = std::get<0>(result);
    if (ec) {
      last_error_ = "cannot connect to " + redacted(url) + ": " + ec.message();
      continue;
    }
    // Small pipelined commands must not wait for Nagle; keep-alive finds dead idle peers.
    if (!url.unix_socket) socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);  // write_now() must never block the loop
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    co_return true;
  }
  co_return false;
}

asio::awaitable<void> Connection::reader() {
  ReplyDecoder decoder;  // fresh per session: a reader that saw garbage stays broken
  read_buffer_.resize(read_chunk);
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(read_buffer_), use_tuple);
    if (ec) {
      if (ec == asio::error::eof) {
        last_error_ = "Redis closed the connection";
      } else if (ec != asio::error::operation_aborted) {
        last_error_ = "read from Redis failed: " + ec.message();
      }
      co_return;
    }
    decoder.feed(read_buffer_.data(), n);
    while (auto reply = decoder.next()) {
      if (in_flight_.empty()) {
        last_error_ = "Redis sent a reply nobody asked for";
        co_return;
      }
      std::shared_ptr<Request> request = in_flight_.front();
      request->replies.push_back(std::move(*reply));
      if (request->replies.size() == request->expected) {
        in_flight_.pop_front();
        request->complete(Status::ok, {});
      }
    }
    if (decoder.failed()) {
      last_error_ = "Redis protocol error: " + decoder.error();
      co_return;
    }
  }
}

bool Connection::write_now(const std::shared_ptr<Request>& request) {
  if (state_ != State::connected || wrote_this_turn_ || writing_ || partly_written_ || !to_write_.empty())
    return false;
  const std::string& bytes = request->command.payload();
  error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(bytes), ec);  // the socket does not block
  if (ec) return false;  // would block, or broken: the writer sends it (and meets the error)
  stats_.commands += request->expected;
  ++stats_.writes;
  request->written = true;
  in_flight_.push_back(request);
  if (n < bytes.size()) {
    partly_written_ = request;
    partly_written_offset_ = n;
    writer_wakeup_.cancel();
  }
  // Commands made later in this same turn of the loop go to the writer, which sends them all
  // in one write once the turn's other handlers have run.
  wrote_this_turn_ = true;
  asio::post(executor_, [self = shared_from_this()] { self->wrote_this_turn_ = false; });
  return true;
}

asio::awaitable<void> Connection::writer() {
  std::vector<std::shared_ptr<Request>> batch;
  std::vector<asio::const_buffer> buffers;
  for (;;) {
    while (to_write_.empty() && !partly_written_) {
      writer_wakeup_.expires_at(steady_clock::time_point::max());
      co_await writer_wakeup_.async_wait(use_tuple);
      asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) co_return;
    }
    // Everything queued goes out in one write: that is the pipelining.
    batch.clear();
    buffers.clear();
    if (partly_written_) {  // already in in_flight_: its last bytes go first
      buffers.push_back(asio::buffer(partly_written_->command.payload()) + partly_written_offset_);
      batch.push_back(std::move(partly_written_));
      partly_written_ = nullptr;
    }
    while (!to_write_.empty()) {
      std::shared_ptr<Request> request = std::move(to_write_.front());
      to_write_.pop_front();
      if (request->abandoned) continue;  // its caller gave up before it was sent
      buffers.push_back(asio::buffer(request->command.payload()));
      stats_.commands += request->expected;
      request->written = true;
      in_flight_.push_back(request);
      batch.push_back(std::move(request));
    }
    if (batch.empty()) continue;
    ++stats_.writes;
    // `batch` keeps the payloads alive: the reader may complete (and the caller drop) a
    // request whose bytes are still being written.
    writing_ = true;
    auto [ec, n] = co_await asio::async_write(socket_, buffers, use_tuple);
    writing_ = false;
    if (ec) {
      if (ec != asio::error::operation_aborted) last_error_ = "write to Redis failed: " + ec.message();
      co_return;
    }
  }
}

asio::awaitable<void> Connection::handshake() {
  const Url& url = config_.url;
  Command hello;
  if (!url.password.empty()) {
    if (url.user.empty()) {
      hello.push({"AUTH", url.password});
    } else {
      hello.push({"AUTH", url.user, url.password});
    }
  }
  const std::string db = std::to_string(url.db);
  if (url.db != 0) hello.push({"SELECT", db});
  if (!config_.client_name.empty()) hello.push({"CLIENT", "SETNAME", config_.client_name});
  // PING last: a server still loading its AOF answers -LOADING to it, and we wait.
  hello.push({"PING"});
  Response response = co_await submit(std::move(hello), config_.connect_timeout);
  if (!response.ok()) {
    if (response.status != Status::cancelled) last_error_ = "handshake: " + response.message;
    co_return;
  }
  for (const Reply& reply : response.replies) {
    if (reply.is_error()) {
      last_error_ = "handshake refused by Redis: " + *reply.error();
      co_return;
    }
  }
  ++stats_.connects;
  last_error_.clear();
  set_state(State::connected);
  // Hold the session open; reader or writer ending it cancels this wait.
  asio::steady_timer forever(executor_, steady_clock::time_point::max());
  co_await forever.async_wait(use_tuple);
}

}  // namespace nox::redis
