#pragma once
// Serving one HTTP connection: the request loop with its timeouts and limits, responses, and
// event streams. Generic over the stream, so that plain HTTP (http_server.cpp) and HTTPS
// (https_connection.cpp) share it; only those two files include this header, each
// instantiating it for its own stream type (Beast's templates are the slow part of a build:
// the TLS instantiation compiles beside the plain one instead of after it).
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/loop_turns.hpp"

namespace boost::asio::ssl {
class context;
}

namespace nox::http_connection {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
inline constexpr std::chrono::seconds write_timeout{30};

// --- defined in http_server.cpp ---
std::chrono::milliseconds seconds_setting(double seconds);
HttpRequest to_request(http::request<http::string_body>& req);
// The edge policy, the route, the access log and the metrics: one request's answer.
asio::awaitable<HttpResponse> handle(App& app, HttpRequest& request);
HttpResponse body_too_large(std::uint64_t limit);
std::optional<HttpResponse> refuse_transfer_encoding(const http::request<http::string_body>& req);

// Counts a connection in app.open_connections and per client address while it lives.
class ConnectionSlot {
 public:
  ConnectionSlot(App& app, std::string address);
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  const std::string& address() const { return address_; }

 private:
  App& app_;
  std::string address_;
};

// --- defined in https_connection.cpp ---
// A connection over TLS: the handshake (within the header timeout), then serve(), then
// close_notify. `tls` is held while the connection lives (a reload swaps it for new ones).
asio::awaitable<void> serve_tls_connection(App& app, tcp::socket socket, std::string address,
                                           std::shared_ptr<asio::ssl::context> tls);

// --- the connection, for any stream whose lowest layer is a beast::tcp_stream ---

// Timeouts and the socket belong to the TCP stream underneath.
template <class Stream>
beast::tcp_stream& tcp_of(Stream& stream) {
  return beast::get_lowest_layer(stream);
}

// One send on a plain socket that is non-blocking (serve_plain_connection makes it so): the
// bytes it took, 0 when it would block (or the socket blocks: nothing is tried); `failed`
// when the connection is broken.
template <class Buffers>
std::size_t send_what_fits(tcp::socket& socket, const Buffers& buffers, bool& failed) {
  if (!socket.non_blocking()) return 0;
  beast::error_code ec;
  const std::size_t taken = socket.write_some(buffers, ec);
  failed = ec && ec != asio::error::would_block && ec != asio::error::try_again;
  return taken;
}

// Writes what the socket takes at once, then the rest asynchronously. A response of a few
// hundred bytes is taken whole, so the common answer costs one send and no timer and no trip
// through the loop's queue. TLS writes through its own async layer.
template <class Stream, class Buffers>
asio::awaitable<bool> write_buffers(Stream& stream, const Buffers& buffers) {
  std::size_t taken = 0;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    bool failed = false;
    taken = send_what_fits(stream.socket(), buffers, failed);
    if (failed) co_return false;
    if (taken == beast::buffer_bytes(buffers)) co_return true;
  }
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(taken);
  tcp_of(stream).expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, rest, tuple_awaitable);
  co_return !ec;
}

// The head, then a sized body piece by piece: one piece in memory per download, and the next
// is read only once the client took the last (a slow client slows its own reads, nothing else).
template <class Stream>
asio::awaitable<bool> write_sized(Stream& stream, const std::string& head, SizedBody& body) {
  tcp_of(stream).expires_after(write_timeout);
  auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), tuple_awaitable);
  if (hec) co_return false;
  for (std::uint64_t left = body.size(); left > 0;) {
    std::optional<std::string> piece = co_await body.next();
    if (!piece || piece->empty() || piece->size() > left) co_return false;  // short body: close
    left -= piece->size();
    tcp_of(stream).expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(*piece), tuple_awaitable);
    if (ec) co_return false;
  }
  co_return true;
}

// The in-memory body that goes on the wire: none for HEAD or 204/304.
inline std::string_view body_to_send(const HttpResponse& response, bool head_only) {
  return !head_only && status_has_body(response.status) ? std::string_view(response.body) : std::string_view();
}

// Writes a whole response: our head, then the body (none for HEAD or 204/304).
template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, const HttpResponse& response, unsigned version, bool keep_alive,
                                     bool head_only) {
  const std::string head = response_head(response, version, keep_alive);
  if (response.sized && !head_only && status_has_body(response.status))
    co_return co_await write_sized(stream, head, *response.sized);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body_to_send(response, head_only))};
  co_return co_await write_buffers(stream, buffers);
}

// A response whose body is in memory, sent on a non-blocking plain socket with one send and
// no coroutine frame: a few hundred bytes go whole into an empty socket buffer. What the
// socket did not take is left in `rest`, for the caller to write asynchronously. A sized body
// (read piece by piece) is not tried: `not_tried`, for write_response.
enum class SentNow { all, failed, partly, not_tried };
inline SentNow send_now(tcp::socket& socket, const HttpResponse& response, unsigned version, bool keep_alive,
                        bool head_only, std::string& rest) {
  if (response.sized) return SentNow::not_tried;
  const std::string head = response_head(response, version, keep_alive);
  const std::string_view body = body_to_send(response, head_only);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  bool failed = false;
  const std::size_t taken = send_what_fits(socket, buffers, failed);
  if (failed) return SentNow::failed;
  if (taken == head.size() + body.size()) return SentNow::all;
  rest = taken < head.size() ? head.substr(taken) + std::string(body) : std::string(body.substr(taken - head.size()));
  return SentNow::partly;
}

// Sends a stream body as HTTP/1.1 chunks after one head; the stream ends the connection.
template <class Stream>
class ChunkWriter final : public StreamWriter {
 public:
  explicit ChunkWriter(Stream& stream) : stream_(stream) {}
  asio::awaitable<bool> write(std::string data) override {
    if (data.empty()) co_return true;  // an empty chunk would end the body
    char size[20];
    const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
    std::string chunk;
    chunk.reserve(static_cast<std::size_t>(end - size) + data.size() + 4);
    chunk.append(size, end).append("\r\n").append(data).append("\r\n");
    co_return co_await write_raw(std::move(chunk));
  }
  asio::awaitable<bool> write_raw(std::string bytes) {
    co_return co_await write_buffers(stream_, asio::const_buffer(asio::buffer(bytes)));
  }

 private:
  Stream& stream_;
};

// Ends when the client closes its side (or the server cancels the read): the stream's
// writer would otherwise only notice at its next write.
struct CloseWatch {
  explicit CloseWatch(asio::any_io_executor executor) : done(executor, asio::steady_timer::time_point::max()) {}
  bool finished = false;
  asio::steady_timer done;
};

// Reads through the TLS layer when there is one (TLS allows one read beside one write).
template <class Stream>
asio::awaitable<void> watch_client(Stream& stream, std::shared_ptr<StreamBody> body,
                                   std::shared_ptr<CloseWatch> watch) {
  std::array<char, 16> ignored;  // a client sends nothing on an event stream; just notice EOF
  while (true) {
    // On plain TCP straight from the socket: Beast's stream would apply its expiry to this
    // read too, and the stream's writes, sent at once (write_buffers), no longer renew it.
    boost::system::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
      std::tie(ec, std::ignore) = co_await stream.socket().async_read_some(asio::buffer(ignored), tuple_awaitable);
    else
      std::tie(ec, std::ignore) = co_await stream.async_read_some(asio::buffer(ignored), tuple_awaitable);
    if (ec) break;
  }
  body->stop();
  watch->finished = true;
  watch->done.cancel();
}

template <class Stream>
asio::awaitable<void> write_stream(Stream& stream, std::shared_ptr<StreamBody> body, HttpResponse head,
                                  unsigned version) {
  ChunkWriter<Stream> writer(stream);
  if (!co_await writer.write_raw(response_head(head, version, false, true))) co_return;
  auto watch = std::make_shared<CloseWatch>(stream.get_executor());
  asio::co_spawn(stream.get_executor(), watch_client(stream, body, watch), asio::detached);
  co_await body->run(writer);
  if (body->ended_well()) co_await writer.write_raw("0\r\n\r\n");
  boost::system::error_code ignored;
  tcp_of(stream).socket().cancel(ignored);
  while (!watch->finished) co_await watch->done.async_wait(tuple_awaitable);
}

template <class Stream>
asio::awaitable<void> send_and_close(Stream& stream, HttpResponse response, unsigned version) {
  co_await write_response(stream, response, version, false, false);
}

// A response that turns the connection into an event stream.
struct StreamStart {
  HttpResponse head;  // status and headers; head.stream is the body
  unsigned version = 11;
};

// Parses the header from what is already buffered, without reading: true when it is complete
// or wrong (ec says which), false when more bytes must be read first. A kept-alive client's
// request arrives in one read, so most requests are parsed here with no further trip through
// the loop (Beast's async_read_header posts its completion even when it reads nothing).
inline bool parse_buffered_header(http::request_parser<http::string_body>& parser, beast::flat_buffer& buffer,
                                  beast::error_code& ec) {
  while (buffer.size() > 0 && !parser.is_header_done()) {
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == http::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
  }
  return parser.is_header_done();
}

// The idle timeout of a kept-alive plain connection, kept without a timer operation per
// request: each wait for a request only moves the deadline, and one timer per connection,
// armed at most once per idle period, checks it when it fires (re-armed for the new
// deadline, or ends the wait by cancelling the read). Beast's per-operation timeout armed and
// cancelled a timer for every request: ~6% of a status read's instructions.
class IdleWatch {
 public:
  IdleWatch(tcp::socket& socket, std::chrono::milliseconds idle_timeout)
      : state_(std::make_shared<State>(socket)), idle_timeout_(idle_timeout) {}
  ~IdleWatch() {
    state_->socket = nullptr;
    state_->timer.cancel();
  }
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  // Before waiting for the next request.
  void waiting() {
    state_->deadline = std::chrono::steady_clock::now() + idle_timeout_;
    state_->waiting = true;
    if (!state_->armed) arm(state_);
  }
  // A request came (or the wait ended otherwise).
  void woke() { state_->waiting = false; }

 private:
  struct State {
    explicit State(tcp::socket& s) : socket(&s), timer(s.get_executor()) {}
    tcp::socket* socket;  // null once the connection is gone
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline{};
    bool waiting = false;
    bool armed = false;
  };

  static void arm(const std::shared_ptr<State>& state) {
    state->armed = true;
    state->timer.expires_at(state->deadline);
    state->timer.async_wait([state](const boost::system::error_code& ec) {
      state->armed = false;
      if (ec || !state->socket || !state->waiting) return;  // answering: the next wait arms it
      if (std::chrono::steady_clock::now() < state->deadline) return arm(state);
      boost::system::error_code ignored;
      state->socket->cancel(ignored);  // the wait ends with operation_aborted: connection closed
    });
  }

  std::shared_ptr<State> state_;
  std::chrono::milliseconds idle_timeout_;
};

// Answers requests on a kept-alive connection until it closes or a response is a stream.
// Its frame (parser, buffers, request) is gone before a long-lived stream starts.
template <class Stream>
asio::awaitable<std::optional<StreamStart>> serve_requests(App& app, Stream& stream, const std::string& address) {
  const auto idle_timeout = seconds_setting(app.settings.idle_timeout_s);
  const auto header_timeout = seconds_setting(app.settings.header_timeout_s);
  beast::flat_buffer buffer;
  std::optional<IdleWatch> idle;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) idle.emplace(stream.socket(), idle_timeout);
  // The first request's header deadline was set at accept by the caller.
  bool first_request = true;
  while (true) {
    const bool pipelined = buffer.size() > 0;  // the client sent this request with the last
    if (!pipelined && !first_request) {
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        idle->waiting();
        auto [ec, n] = co_await stream.socket().async_read_some(buffer.prepare(8192), tuple_awaitable);
        idle->woke();
        if (ec) break;
        buffer.commit(n);
      } else {
        tcp_of(stream).expires_after(idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), tuple_awaitable);
        if (ec) break;
        buffer.commit(n);
      }
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(32 * 1024);
    parser.body_limit(app.settings.max_body_bytes);
    beast::error_code hec;
    if (!parse_buffered_header(parser, buffer, hec)) {
      if (!first_request) tcp_of(stream).expires_after(header_timeout);
      auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
      hec = rec;
    } else if (pipelined) {
      // Nothing was awaited for this request and its answer may not wait either: a client
      // pipelining many requests takes the loop by shares, like any long work.
      co_await take_turn();
    }
    first_request = false;
    if (hec == http::error::body_limit) {
      // Beast refuses a Content-Length above the limit while parsing the header.
      co_await send_and_close(stream, body_too_large(app.settings.max_body_bytes), parser.get().version());
      break;
    }
    if (hec) {
      if (hec == http::error::header_limit)
        co_await send_and_close(stream, error_response(431, "headers_too_large", "request headers exceed 32 KiB"), 11);
      else if (hec != http::error::end_of_stream && hec != beast::error::timeout && hec != asio::error::eof &&
               hec != asio::error::connection_reset)
        co_await send_and_close(stream, error_response(400, "bad_request", "malformed HTTP request: " + hec.message()),
                                11);
      break;
    }
    const unsigned version = parser.get().version();
    if (auto refused = refuse_transfer_encoding(parser.get())) {
      co_await send_and_close(stream, std::move(*refused), version);
      break;
    }
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> proceed{http::status::continue_, version};
        tcp_of(stream).expires_after(write_timeout);  // the header may have been parsed with no timed read
        co_await http::async_write(stream, proceed, tuple_awaitable);
      }
      tcp_of(stream).expires_after(std::max(idle_timeout, header_timeout));
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
      if (bec == http::error::body_limit) {
        co_await send_and_close(stream, body_too_large(app.settings.max_body_bytes), version);
        break;
      }
      if (bec) break;
    }
    auto& req = parser.get();
    const bool keep_alive = req.keep_alive() && !app.stopping;
    HttpRequest request = to_request(req);
    request.client = address;
    HttpResponse response = co_await handle(app, request);
    if (response.stream && request.method != "HEAD") co_return StreamStart{std::move(response), version};
    const bool head_only = request.method == "HEAD";
    std::string rest;
    SentNow sent = SentNow::not_tried;  // TLS writes through its own layer
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
      sent = send_now(stream.socket(), response, version, keep_alive, head_only, rest);
    bool written = sent == SentNow::all;
    if (sent == SentNow::partly) written = co_await write_buffers(stream, asio::const_buffer(asio::buffer(rest)));
    if (sent == SentNow::not_tried) written = co_await write_response(stream, response, version, keep_alive, head_only);
    if (!written || !keep_alive) break;
  }
  co_return std::nullopt;
}

// Answers requests, then the event stream one of them started, if any.
template <class Stream>
asio::awaitable<void> serve(App& app, Stream& stream, const std::string& address) {
  auto started = co_await serve_requests(app, stream, address);
  if (started) {
    auto body = std::move(started->head.stream);
    co_await write_stream(stream, std::move(body), std::move(started->head), started->version);
  }
}

}  // namespace nox::http_connection
