#include "server/http_types.hpp"

#include "core/percent.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstring>

namespace nox {

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return {};
}

namespace {

}  // namespace

bool query_is_valid(std::string_view query) {
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (query[i] != '%') continue;
    if (!percent_decode(query.substr(i, 3))) return false;
    i += 2;
  }
  return true;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    // (The server refuses a query with a bad escape before any route reads it: query_is_valid.)
    if (percent_decode(key, true).value_or(std::string(key)) == name)
      return eq == std::string_view::npos ? std::string{}
                                          : percent_decode(pair.substr(eq + 1), true).value_or(std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> query_params(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  auto decoded = [](std::string_view s) { return percent_decode(s, true).value_or(std::string(s)); };
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      pairs.emplace_back(decoded(pair.substr(0, eq)), eq == std::string_view::npos ? std::string() : decoded(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return pairs;
}

namespace {

// Writes a head into a string sized once for it: appending piece by piece checked capacity and
// length each time (~1,100 instructions for a status read's head).
class HeadWriter {
 public:
  explicit HeadWriter(std::string& out) : out_(out), at_(out.data()) {}
  void put(std::string_view text) {
    std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
  }
  void number(std::uint64_t value) { at_ = std::to_chars(at_, at_ + 20, value).ptr; }
  // CR and LF would end the header early (response splitting): dropped.
  void header(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    if (value.find('\r') == std::string_view::npos && value.find('\n') == std::string_view::npos) {
      put(value);
    } else {
      for (const char c : value)
        if (c != '\r' && c != '\n') *at_++ = c;
    }
    put("\r\n");
  }
  void finish() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }

  static constexpr std::size_t header_bytes(std::string_view name, std::string_view value) {
    return name.size() + value.size() + 4;
  }

 private:
  std::string& out_;
  char* at_;
};

}  // namespace

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

std::string response_head(const HttpResponse& response, unsigned version, bool keep_alive, bool chunked) {
  const std::string_view reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  constexpr std::string_view server = "\r\nServer: nox\r\n";
  std::size_t bound = 9 + 20 + 1 + reason.size() + server.size() + 44 + 26 + 2;  // status line .. end
  if (!response.content_type.empty()) bound += HeadWriter::header_bytes("Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) bound += HeadWriter::header_bytes(name, value);
  std::string head(bound, '\0');
  HeadWriter out(head);
  out.put(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.number(static_cast<std::uint64_t>(response.status));
  out.put(" ");
  out.put(reason);
  out.put(server);
  if (!response.content_type.empty()) out.header("Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) out.header(name, value);
  if (chunked) {
    out.put("Transfer-Encoding: chunked\r\n");
  } else if (status_has_body(response.status)) {
    out.put("Content-Length: ");
    out.number(response.sized ? response.sized->size() : response.body.size());
    out.put("\r\n");
  }
  if (version == 10 && keep_alive) out.put("Connection: keep-alive\r\n");
  if (version != 10 && !keep_alive) out.put("Connection: close\r\n");
  out.put("\r\n");
  out.finish();
  return head;
}

}  // namespace nox
