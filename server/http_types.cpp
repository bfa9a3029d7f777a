#include "server/http_types.hpp"

#include "core/percent.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

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

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  // CR and LF would end the header early (response splitting): dropped. Whole runs without
  // them are appended at once (a character at a time was 1.5% of a status read; find_first_of
  // calls memchr on its set for every character, 4%).
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\r' && value[i] != '\n') continue;
    out.append(value.substr(run, i - run));
    run = i + 1;
  }
  out.append(value.substr(run));
  out += "\r\n";
}

}  // namespace

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

std::string response_head(const HttpResponse& response, unsigned version, bool keep_alive, bool chunked) {
  std::string head;
  head.reserve(192);
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char number[24];
  head.append(number, std::to_chars(number, number + sizeof number, response.status).ptr);
  head += ' ';
  head += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  head += "\r\nServer: nox\r\n";
  if (!response.content_type.empty()) append_header(head, "Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) append_header(head, name, value);
  if (chunked) head += "Transfer-Encoding: chunked\r\n";
  else if (status_has_body(response.status)) {
    head += "Content-Length: ";
    head.append(number,
                std::to_chars(number, number + sizeof number, response.sized ? response.sized->size() : response.body.size()).ptr);
    head += "\r\n";
  }
  if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

}  // namespace nox
