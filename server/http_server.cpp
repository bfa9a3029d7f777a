#include "server/http_server.hpp"

#include <array>
#include <charconv>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "core/log.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"

namespace nox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds write_timeout{30};

std::chrono::milliseconds seconds_setting(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

HttpRequest to_request(http::request<http::string_body>& req) {
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.headers.reserve(8);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(req.body());
  return request;
}

asio::awaitable<HttpResponse> handle(App& app, const HttpRequest& request) {
  // HEAD is answered like GET; the body is dropped when the response is written.
  const RouteMatch match = app.router.match(request.method == "HEAD" ? "GET" : request.method, request.path());
  switch (match.kind) {
    case RouteMatch::Kind::not_found:
      co_return error_response(404, "route_not_found",
                               "no route " + std::string(request.path().substr(0, 200)) + " (see the README for the API)");
    case RouteMatch::Kind::method_not_allowed: {
      auto response = error_response(405, "method_not_allowed",
                                     request.method + " is not allowed on " + std::string(request.path()) +
                                         "; allowed: " + match.allow);
      response.headers.emplace_back("Allow", match.allow);
      co_return response;
    }
    case RouteMatch::Kind::found:
      break;
  }
  try {
    co_return co_await match.handler(app, request, match.params);
  } catch (const std::exception& e) {
    log_error(request.method + " " + request.target + ": " + e.what());
  }
  co_return error_response(500, "internal_error", "the server failed to handle this request; it is logged");
}

// The head, then a sized body piece by piece: one piece in memory per download, and the next
// is read only once the client took the last (a slow client slows its own reads, nothing else).
asio::awaitable<bool> write_sized(beast::tcp_stream& stream, const std::string& head, SizedBody& body) {
  stream.expires_after(write_timeout);
  auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), tuple_awaitable);
  if (hec) co_return false;
  for (std::uint64_t left = body.size(); left > 0;) {
    std::optional<std::string> piece = co_await body.next();
    if (!piece || piece->empty() || piece->size() > left) co_return false;  // short body: close
    left -= piece->size();
    stream.expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(*piece), tuple_awaitable);
    if (ec) co_return false;
  }
  co_return true;
}

// Writes a whole response: our head, then the body (none for HEAD or 204/304).
asio::awaitable<bool> write_response(beast::tcp_stream& stream, const HttpResponse& response, unsigned version,
                                     bool keep_alive, bool head_only) {
  const std::string head = response_head(response, version, keep_alive);
  const bool with_body = !head_only && status_has_body(response.status);
  if (response.sized && with_body) co_return co_await write_sized(stream, head, *response.sized);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                  asio::buffer(with_body ? std::string_view(response.body) : "")};
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, buffers, tuple_awaitable);
  co_return !ec;
}

// Sends a stream body as HTTP/1.1 chunks after one head; the stream ends the connection.
class ChunkWriter final : public StreamWriter {
 public:
  explicit ChunkWriter(beast::tcp_stream& stream) : stream_(stream) {}
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
    stream_.expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes), tuple_awaitable);
    co_return !ec;
  }

 private:
  beast::tcp_stream& stream_;
};

// Ends when the client closes its side (or the server cancels the read): the stream's
// writer would otherwise only notice at its next write.
struct CloseWatch {
  explicit CloseWatch(asio::any_io_executor executor) : done(executor, asio::steady_timer::time_point::max()) {}
  bool finished = false;
  asio::steady_timer done;
};

asio::awaitable<void> watch_client(tcp::socket& socket, std::shared_ptr<StreamBody> body,
                                   std::shared_ptr<CloseWatch> watch) {
  std::array<char, 16> ignored;  // a client sends nothing on an event stream; just notice EOF
  while (true) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(ignored), tuple_awaitable);
    if (ec) break;
  }
  body->stop();
  watch->finished = true;
  watch->done.cancel();
}

asio::awaitable<void> write_stream(beast::tcp_stream& stream, std::shared_ptr<StreamBody> body, HttpResponse head,
                                  unsigned version) {
  ChunkWriter writer(stream);
  if (!co_await writer.write_raw(response_head(head, version, false, true))) co_return;
  auto watch = std::make_shared<CloseWatch>(stream.get_executor());
  asio::co_spawn(stream.get_executor(), watch_client(stream.socket(), body, watch), asio::detached);
  co_await body->run(writer);
  co_await writer.write_raw("0\r\n\r\n");
  boost::system::error_code ignored;
  stream.socket().cancel(ignored);
  while (!watch->finished) co_await watch->done.async_wait(tuple_awaitable);
}

HttpResponse body_too_large(std::uint64_t limit) {
  return error_response(413, "body_too_large",
                        "the request body is larger than this server accepts (" + std::to_string(limit) + " bytes)");
}

asio::awaitable<void> send_and_close(beast::tcp_stream& stream, HttpResponse response, unsigned version) {
  co_await write_response(stream, response, version, false, false);
}

// A response that turns the connection into an event stream.
struct StreamStart {
  HttpResponse head;  // status and headers; head.stream is the body
  unsigned version = 11;
};

// Answers requests on a kept-alive connection until it closes or a response is a stream.
// Its frame (parser, buffers, request) is gone before a long-lived stream starts.
asio::awaitable<std::optional<StreamStart>> serve_requests(App& app, beast::tcp_stream& stream) {
  const auto idle_timeout = seconds_setting(app.settings.idle_timeout_s);
  const auto header_timeout = seconds_setting(app.settings.header_timeout_s);
  beast::flat_buffer buffer;
  while (true) {
    if (buffer.size() == 0) {
      // Waiting for the next request on a kept-alive connection: the idle timeout.
      stream.expires_after(idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), tuple_awaitable);
      if (ec) break;
      buffer.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(32 * 1024);
    parser.body_limit(app.settings.max_body_bytes);
    stream.expires_after(header_timeout);
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
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> proceed{http::status::continue_, version};
        co_await http::async_write(stream, proceed, tuple_awaitable);
      }
      stream.expires_after(std::max(idle_timeout, header_timeout));
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
    HttpResponse response = co_await handle(app, request);
    if (response.stream && request.method != "HEAD") co_return StreamStart{std::move(response), version};
    const bool written = co_await write_response(stream, response, version, keep_alive, request.method == "HEAD");
    if (!written || !keep_alive) break;
  }
  co_return std::nullopt;
}

asio::awaitable<void> serve_connection(App& app, beast::tcp_stream stream) {
  ++app.open_connections;
  struct Release {
    App& app;
    ~Release() { --app.open_connections; }
  } release{app};
  auto started = co_await serve_requests(app, stream);
  if (started) {
    auto body = std::move(started->head.stream);
    co_await write_stream(stream, std::move(body), std::move(started->head), started->version);
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, App& app) : io_(io), app_(app), acceptor_(io) {}

std::optional<std::string> HttpServer::listen(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return "listen address must be HOST:PORT, got '" + host_port + "'";
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) return "cannot resolve listen address " + host_port + ": " + ec.message();
  const tcp::endpoint endpoint = *endpoints.begin();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + host_port + ": " + ec.message();
  return std::nullopt;
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
    if (ec) {
      if (!acceptor_.is_open() || ec == asio::error::operation_aborted) break;
      // Out of file descriptors: let connections close before accepting again.
      log_warn("accept failed: " + ec.message());
      asio::steady_timer pause(io_, 100ms);
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    if (app_.open_connections >= app_.settings.max_connections) {
      log_warn("connection refused: " + std::to_string(app_.open_connections) + " open (max_connections)");
      continue;  // the socket closes as it goes out of scope
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(io_, serve_connection(app_, beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

void HttpServer::stop_accepting() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace nox
