#pragma once
// The HTTP listener and one coroutine per connection (Beast): keep-alive, timeouts,
// body limit, a cap on open connections, and streamed (SSE) responses.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>

namespace nox {

struct App;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, App& app);

  // Binds "host:port" (port 0: any free port); an error text when it cannot.
  std::optional<std::string> listen(const std::string& host_port);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  boost::asio::awaitable<void> accept_loop();
  void stop_accepting();

 private:
  boost::asio::io_context& io_;
  App& app_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace nox
