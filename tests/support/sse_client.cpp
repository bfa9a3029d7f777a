#include "tests/support/sse_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

namespace nox::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct SseClient::Impl {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  boost::beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::map<std::string, std::string> headers;
  int status = 0;
  std::string text;  // received, not yet parsed
  bool ended = false;           // nothing more will come
  bool last_chunk_seen = false;  // ... because the server ended the body properly
  int comments = 0;
  std::optional<int> retry;
  char chunk[8192];

  void set_receive_timeout(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Reads more body bytes; false on timeout or end.
  bool read_more() {
    if (ended) return false;
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    boost::system::error_code ec;
    http::read_some(socket, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    text.append(chunk, sizeof chunk - parser.get().body().size);
    if (parser.is_done()) last_chunk_seen = true;
    if (parser.is_done() || (ec && ec != asio::error::would_block && ec != asio::error::try_again)) ended = true;
    return !ec;
  }

  std::optional<SseEvent> parse_one() {
    while (true) {
      auto end = text.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      std::string block = text.substr(0, end);
      text.erase(0, end + 2);
      SseEvent event{"", "message", ""};
      bool has_field = false;
      std::size_t start = 0;
      while (start <= block.size()) {
        auto nl = block.find('\n', start);
        std::string line = block.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        start = nl == std::string::npos ? block.size() + 1 : nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments;
          continue;
        }
        auto colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") event.id = value, has_field = true;
        else if (field == "event") event.type = value, has_field = true;
        else if (field == "data") event.data += (event.data.empty() ? "" : "\n") + value, has_field = true;
        else if (field == "retry") retry = std::stoi(value);
      }
      if (has_field) return event;
    }
  }
};

SseClient::SseClient(std::uint16_t port, const std::string& target, const std::map<std::string, std::string>& headers)
    : impl_(std::make_unique<Impl>()) {
  impl_->socket.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::accept, "text/event-stream");
  for (const auto& [name, value] : headers) req.set(name, value);
  http::write(impl_->socket, req);
  impl_->set_receive_timeout(std::chrono::seconds(10));
  impl_->parser.body_limit(boost::none);
  http::read_header(impl_->socket, impl_->buffer, impl_->parser);
  impl_->status = static_cast<int>(impl_->parser.get().result_int());
  for (const auto& field : impl_->parser.get()) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    impl_->headers[name] = std::string(field.value());
  }
  if (impl_->status != 200) {
    // An error answer: read its body so that callers can show it.
    while (impl_->read_more()) {
    }
  }
}

SseClient::~SseClient() = default;

int SseClient::status() const { return impl_->status; }

std::string SseClient::header(const std::string& name) const {
  auto it = impl_->headers.find(name);
  return it == impl_->headers.end() ? std::string{} : it->second;
}

std::optional<SseEvent> SseClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto event = impl_->parse_one()) return event;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || impl_->ended) return std::nullopt;
    impl_->set_receive_timeout(std::max(left, std::chrono::milliseconds(1)));
    impl_->read_more();
  }
}

bool SseClient::ended() const { return impl_->last_chunk_seen; }
int SseClient::comments_seen() const { return impl_->comments; }
std::optional<int> SseClient::retry_ms() const { return impl_->retry; }

}  // namespace nox::test
