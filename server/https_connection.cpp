// HTTPS: the TLS context (OpenSSL through Asio) and the connections that use it. The one
// file that instantiates the connection code (http_connection.hpp) for Beast's ssl_stream.
#include <variant>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "server/http_connection.hpp"
#include "server/http_server.hpp"

namespace nox {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds tls_close_timeout{2};

// TLS 1.2 and 1.3 only; the certificate file may hold the chain (leaf first).
std::variant<std::shared_ptr<asio::ssl::context>, std::string> load_tls_context(const std::string& certificate_file,
                                                                               const std::string& key_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                       ec);
  context->use_certificate_chain_file(certificate_file, ec);
  if (ec) return "TLS certificate " + certificate_file + ": " + ec.message();
  context->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return "TLS key " + key_file + ": " + ec.message();
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    return "TLS key " + key_file + " does not belong to the certificate " + certificate_file;
  return context;
}

std::optional<std::string> half_a_pair(const std::string& certificate_file, const std::string& key_file) {
  if (certificate_file.empty() == key_file.empty()) return std::nullopt;
  return "TLS needs both tls_cert_file and tls_key_file (or neither, for plain HTTP)";
}

}  // namespace

std::optional<std::string> check_tls_files(const std::string& certificate_file, const std::string& key_file) {
  if (auto error = half_a_pair(certificate_file, key_file)) return error;
  if (certificate_file.empty()) return std::nullopt;
  auto loaded = load_tls_context(certificate_file, key_file);
  if (auto* error = std::get_if<std::string>(&loaded)) return *error;
  return std::nullopt;
}

std::optional<std::string> HttpServer::use_tls(const std::string& certificate_file, const std::string& key_file) {
  if (auto error = half_a_pair(certificate_file, key_file)) return error;
  auto loaded = load_tls_context(certificate_file, key_file);
  if (auto* error = std::get_if<std::string>(&loaded)) return *error;
  tls_ = std::get<std::shared_ptr<asio::ssl::context>>(std::move(loaded));  // new connections only
  return std::nullopt;
}

namespace http_connection {

asio::awaitable<void> serve_tls_connection(App& app, tcp::socket socket, std::string address,
                                           std::shared_ptr<asio::ssl::context> tls) {
  const ConnectionSlot slot(app, std::move(address));
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  // The handshake and the first request's headers within header_timeout from accept.
  tcp_of(stream).expires_after(seconds_setting(app.settings.header_timeout_s));
  auto [handshake] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
  if (!handshake) {
    co_await serve(app, stream, slot.address());
    // close_notify before the TCP close (a client can tell the end from a cut), but never
    // waiting long for the peer's answer.
    tcp_of(stream).expires_after(tls_close_timeout);
    co_await stream.async_shutdown(tuple_awaitable);
  }
  beast::error_code ignored;
  tcp_of(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace http_connection

}  // namespace nox
