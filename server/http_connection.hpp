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
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "server/api_error.hpp"
#include "server/app.hpp"

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

// Writes a whole response: our head, then the body (none for HEAD or 204/304).
template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, const HttpResponse& response, unsigned version, bool keep_alive,
                                     bool head_only) {
  const std::string head = response_head(response, version, keep_alive);
  const bool with_body = !head_only && status_has_body(response.status);
  if (response.sized && with_body) co_return co_await write_sized(stream, head, *response.sized);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                  asio::buffer(with_body ? std::string_view(response.body) : "")};
  tcp_of(stream).expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, buffers, tuple_awaitable);
  co_return !ec;
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
    tcp_of(stream_).expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes), tuple_awaitable);
    co_return !ec;
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
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(ignored), tuple_awaitable);
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

// Answers requests on a kept-alive connection until it closes or a response is a stream.
// Its frame (parser, buffers, request) is gone before a long-lived stream starts.
template <class Stream>
asio::awaitable<std::optional<StreamStart>> serve_requests(App& app, Stream& stream, const std::string& address) {
  const auto idle_timeout = seconds_setting(app.settings.idle_timeout_s);
  const auto header_timeout = seconds_setting(app.settings.header_timeout_s);
  beast::flat_buffer buffer;
  // The first request's header deadline was set at accept by the caller.
  bool first_request = true;
  while (true) {
    if (buffer.size() == 0 && !first_request) {
      // Waiting for the next request on a kept-alive connection: the idle timeout.
      tcp_of(stream).expires_after(idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), tuple_awaitable);
      if (ec) break;
      buffer.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(32 * 1024);
    parser.body_limit(app.settings.max_body_bytes);
    if (!first_request) tcp_of(stream).expires_after(header_timeout);
    first_request = false;
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
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
    const bool written = co_await write_response(stream, response, version, keep_alive, request.method == "HEAD");
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
