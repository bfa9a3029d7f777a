#include "server/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "server/http_connection.hpp"

namespace nox {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

using http_connection::tuple_awaitable;

// Who is asking, and may they: 401 without a valid credential on a route that needs one,
// 403 without its scope. Sets request.identity. Not a coroutine: it runs on every request, and
// only a rate-limited identity needs to wait (admit_request).
std::optional<HttpResponse> identify_caller(App& app, HttpRequest& request, Scope needs) {
  auto identified = app.access.identify(request);
  if (auto* refused = std::get_if<HttpResponse>(&identified)) return std::move(*refused);
  auto& identity = std::get<std::optional<Identity>>(identified);
  if (!identity) {
    if (needs != Scope::none) return unauthenticated_response();
    return std::nullopt;  // a public route, anonymous: no scope
  }
  if (needs != Scope::none && !identity->has(needs)) return missing_scope_response(needs);
  request.identity = std::move(*identity);
  return std::nullopt;
}

asio::awaitable<HttpResponse> route(App& app, HttpRequest& request) {
  // HEAD is answered like GET; the body is dropped when the response is written.
  const RouteMatch match = app.router.match(request.method == "HEAD" ? "GET" : request.method, request.path());
  request.route = match.pattern;
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
  if (!query_is_valid(request.query()))
    co_return error_response(400, "invalid_parameter",
                             "the query string has a '%' that is not followed by two hex digits (encode '%' as %25)");
  if (auto refused = identify_caller(app, request, match.needs)) co_return std::move(*refused);
  if (request.identity.limits.requests_per_s > 0) {  // 429 past the identity's request rate
    if (auto limited = co_await app.access.admit_request(request.identity)) co_return std::move(*limited);
  }
  try {
    co_return co_await match.handler(app, request, match.params);
  } catch (const std::exception& e) {
    log_error(request.method + " " + request.target + ": " + e.what());
  }
  co_return error_response(500, "internal_error", "the server failed to handle this request; it is logged");
}

// X-Request-ID: the client's (when it is a sane token) or a new one; echoed on the response
// and written in the access log, so a client's report can be found in the server's.
std::string request_id_of(const HttpRequest& request) {
  const std::string_view given = request.header("x-request-id");
  if (!given.empty() && given.size() <= 128 &&
      std::all_of(given.begin(), given.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; }))
    return std::string(given);
  return secure_random_hex();
}

std::uint64_t body_bytes(const HttpResponse& response) {
  if (response.sized) return response.sized->size();
  return response.stream ? 0 : response.body.size();
}

// Appends "2026-11-30T20:53:46.123Z" for now; the part up to the second is made once a second.
void append_rfc3339_now(std::string& out) {
  thread_local TimeMs cached_second = -1;
  thread_local std::string cached;
  const TimeMs now = now_ms();
  if (now / 1000 != cached_second) {
    cached_second = now / 1000;
    cached = to_rfc3339(cached_second * 1000);  // "...:46.000Z"
    cached.resize(cached.size() - 4);            // "...:46."
  }
  const int ms = static_cast<int>(now % 1000);
  const char millis[] = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                         static_cast<char>('0' + ms % 10), 'Z'};
  out += cached;
  out.append(millis, 4);
}

// One JSON line per request, written by the log thread. Built by hand: it is on every
// request's path, and none of its texts needs escaping (the method is a token, the route a
// pattern, the identity a key name, the client an address, the request id checked above).
void write_access_log(const HttpRequest& request, const HttpResponse& response, const std::string& request_id,
                      double seconds) {
  thread_local std::string line;  // reused: no allocation per request
  line.clear();
  line += "{\"time\":\"";
  append_rfc3339_now(line);
  line += "\",\"type\":\"access\",\"request_id\":\"";
  line += request_id;
  line += "\",\"method\":\"";
  line += request.method;
  line += "\",\"route\":\"";
  line += request.route;
  char number[32];
  line += "\",\"status\":";
  line.append(number, std::to_chars(number, number + sizeof number, response.status).ptr);
  line += ",\"duration_ms\":";  // milliseconds with three decimals, from whole microseconds
  const auto micros = static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) * 1e6));
  line.append(number, std::to_chars(number, number + sizeof number, micros / 1000).ptr);
  const auto fraction = micros % 1000;
  const char decimals[] = {'.', static_cast<char>('0' + fraction / 100), static_cast<char>('0' + fraction / 10 % 10),
                           static_cast<char>('0' + fraction % 10)};
  line.append(decimals, sizeof decimals);
  line += ",\"bytes\":";
  line.append(number, std::to_chars(number, number + sizeof number, body_bytes(response)).ptr);
  line += ",\"identity\":\"";
  line += request.identity.name;
  line += "\",\"client\":\"";
  line += request.client;
  line += "\"}";
  log_record(line);
}

}  // namespace

namespace http_connection {

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
    for (auto& c : name)  // ASCII (a header name is a token); tolower() was a libc call a character
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(req.body());
  return request;
}

// The edge policy first (Host, Origin, preflight), then the route; CORS headers on the way out.
asio::awaitable<HttpResponse> handle(App& app, HttpRequest& request) {
  const auto began = std::chrono::steady_clock::now();
  std::string request_id = request_id_of(request);
  HttpResponse response;
  if (auto refused = app.edge.screen(request)) {
    response = std::move(*refused);
  } else {
    response = co_await route(app, request);
    app.edge.add_cors_headers(request, response);
  }
  response.headers.emplace_back("X-Request-ID", std::move(request_id));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  app.metrics.request(request.route, request.method, response.status, seconds);
  if (app.settings.access_log) write_access_log(request, response, response.headers.back().second, seconds);
  co_return response;
}

HttpResponse body_too_large(std::uint64_t limit) {
  return error_response(413, "body_too_large",
                        "the request body is larger than this server accepts (" + std::to_string(limit) + " bytes)");
}

// RFC 9112 6.1: a request body is framed by Content-Length or by the chunked coding, last.
// Beast takes any other Transfer-Encoding (`identity`, `xchunked`, `gzip`) as "no body" and
// would read the body as the next request (request smuggling behind a proxy that framed it
// differently): such a request is refused and the connection closed. nullopt when it is fine.
std::optional<HttpResponse> refuse_transfer_encoding(const http::request<http::string_body>& req) {
  const auto field = req.find(http::field::transfer_encoding);
  if (field == req.end()) return std::nullopt;
  std::vector<std::string> codings;
  std::string_view rest = field->value();
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view token = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    std::string coding(token);
    for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    codings.push_back(std::move(coding));
  }
  if (codings.size() == 1 && codings.front() == "chunked") return std::nullopt;
  if (codings.empty() || codings.back() != "chunked")
    return error_response(400, "bad_transfer_encoding",
                          "Transfer-Encoding '" + std::string(field->value()) +
                              "' does not end with chunked, so the body's length is unknown; send "
                              "Content-Length or Transfer-Encoding: chunked");
  return error_response(501, "unsupported_transfer_encoding",
                        "only the chunked transfer coding is supported, not '" + std::string(field->value()) + "'");
}

ConnectionSlot::ConnectionSlot(App& app, std::string address) : app_(app), address_(std::move(address)) {
  ++app_.open_connections;
  ++app_.connections_by_address[address_];
}

ConnectionSlot::~ConnectionSlot() {
  --app_.open_connections;
  auto it = app_.connections_by_address.find(address_);
  if (it != app_.connections_by_address.end() && --it->second == 0) app_.connections_by_address.erase(it);
}

}  // namespace http_connection

namespace {

asio::awaitable<void> serve_plain_connection(App& app, tcp::socket socket, std::string address) {
  const http_connection::ConnectionSlot slot(app, std::move(address));
  beast::tcp_stream stream(std::move(socket));
  // Non-blocking, so that a response is first written with one plain send (write_buffers);
  // Asio's own async operations work the same either way.
  beast::error_code blocking_error;
  stream.socket().non_blocking(true, blocking_error);
  // A new connection has header_timeout from accept for its first request's headers: one that
  // never sends a byte must not hold a connection slot for the idle timeout.
  stream.expires_after(http_connection::seconds_setting(app.settings.header_timeout_s));
  co_await http_connection::serve(app, stream, slot.address());
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

std::optional<std::string> HttpServer::adopt(int listening_fd) {
  boost::system::error_code ec;
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return "the socket passed by systemd cannot be read";
  acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd, ec);
  if (ec) return "cannot serve on the socket passed by systemd: " + ec.message();
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
    boost::system::error_code ignored;
    std::string address = socket.remote_endpoint(ignored).address().to_string();
    const auto from_address = app_.connections_by_address.find(address);
    const bool address_full = from_address != app_.connections_by_address.end() &&
                              from_address->second >= app_.settings.max_connections_per_address;
    if (app_.open_connections >= app_.settings.max_connections || address_full) {
      note_refusal();
      continue;  // the socket closes as it goes out of scope
    }
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls_)
      asio::co_spawn(io_, http_connection::serve_tls_connection(app_, std::move(socket), std::move(address), tls_),
                     asio::detached);
    else
      asio::co_spawn(io_, serve_plain_connection(app_, std::move(socket), std::move(address)), asio::detached);
  }
}

// One line per refused connection let a flood of connections flood the log too (written
// synchronously on the loop): at most one line per interval, with the count.
void HttpServer::note_refusal() {
  ++refused_since_warning_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_warning_ < refusal_warning_interval) return;
  log_warn("refused " + std::to_string(refused_since_warning_) + " connection(s) since the last warning: " +
           std::to_string(app_.open_connections) + " open (max_connections " +
           std::to_string(app_.settings.max_connections) + ", max_connections_per_address " +
           std::to_string(app_.settings.max_connections_per_address) + ")");
  refused_since_warning_ = 0;
  last_refusal_warning_ = now;
}
void HttpServer::stop_accepting() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace nox
