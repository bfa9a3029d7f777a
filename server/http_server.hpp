#pragma once
// The HTTP listener and one coroutine per connection (Beast): keep-alive, timeouts,
// body limit, caps on open connections (in all and per client address), and streamed (SSE)
// responses.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace nox {

struct App;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, App& app);

  // Binds "host:port" (port 0: any free port); an error text when it cannot.
  std::optional<std::string> listen(const std::string& host_port);
  // Serves on a socket that is already listening (systemd socket activation).
  std::optional<std::string> adopt(int listening_fd);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  boost::asio::awaitable<void> accept_loop();
  void stop_accepting();

 private:
  void note_refusal();

  boost::asio::io_context& io_;
  App& app_;
  boost::asio::ip::tcp::acceptor acceptor_;
  static constexpr std::chrono::seconds refusal_warning_interval{10};
  std::size_t refused_since_warning_ = 0;
  std::chrono::steady_clock::time_point last_refusal_warning_{};
};

}  // namespace nox
