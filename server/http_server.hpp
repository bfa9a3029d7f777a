#pragma once
// The HTTP listener and one coroutine per connection (Beast): keep-alive, timeouts,
// body limit, caps on open connections (in all and per client address), streamed (SSE)
// responses, and optionally TLS (Beast's ssl_stream over OpenSSL).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace nox {

struct App;

// Whether this certificate and key make a TLS server (both empty: plain HTTP, fine); why not.
std::optional<std::string> check_tls_files(const std::string& certificate_file, const std::string& key_file);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, App& app);

  // Binds "host:port" (port 0: any free port); an error text when it cannot.
  std::optional<std::string> listen(const std::string& host_port);
  // Serves on a socket that is already listening (systemd socket activation).
  std::optional<std::string> adopt(int listening_fd);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Serves HTTPS from now on with this certificate (chain) and key, both PEM (one without the
  // other is an error). Called again (SIGHUP), it swaps them for new connections; open ones
  // keep theirs. On an error nothing changes and the error is returned.
  std::optional<std::string> use_tls(const std::string& certificate_file, const std::string& key_file);
  bool tls() const { return tls_ != nullptr; }

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
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
};

}  // namespace nox
