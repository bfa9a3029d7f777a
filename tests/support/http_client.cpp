#include "tests/support/http_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

namespace nox::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct HttpClient::Impl {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  boost::beast::flat_buffer buffer;
  std::string host;
  std::uint16_t port;

  void connect() {
    socket = asio::ip::tcp::socket(io);
    buffer.clear();
    socket.connect({asio::ip::make_address(host), port});
  }
};

RawExchange raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout,
                         const std::string& from) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  if (!from.empty()) {
    socket.open(asio::ip::tcp::v4());
    socket.bind({asio::ip::make_address(from), 0});
  }
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(bytes));
  RawExchange out;
  std::array<char, 4096> chunk{};
  bool timed_out = false;
  while (!out.closed_by_server && !timed_out) {
    socket.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
      out.received.append(chunk.data(), n);
      if (ec && ec != asio::error::operation_aborted) out.closed_by_server = true;  // not our cancel
    });
    io.restart();
    if (io.run_for(timeout) == 0) {
      timed_out = true;
      socket.cancel();
      io.restart();
      io.run();
    }
  }
  return out;
}

boost::json::value HttpReply::json() const { return boost::json::parse(body); }

std::string HttpReply::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

HttpClient::HttpClient(std::uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->connect();
}

HttpClient::~HttpClient() = default;

HttpReply HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, impl_->host);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  req.keep_alive(true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    boost::system::error_code ec;
    http::write(impl_->socket, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    if (!ec) http::read(impl_->socket, impl_->buffer, parser, ec);
    if (ec) {
      // The server closed the kept-alive connection (e.g. after an error): reconnect once.
      if (attempt == 0) {
        impl_->connect();
        continue;
      }
      throw boost::system::system_error(ec, method + " " + target);
    }
    auto& res = parser.get();
    HttpReply reply;
    reply.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    reply.body = std::move(res.body());
    if (!res.keep_alive()) impl_->connect();
    return reply;
  }
  throw std::runtime_error("unreachable");
}

}  // namespace nox::test
