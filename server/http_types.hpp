#pragma once
// The request and response that routes see: plain data, no Beast, so that route files
// compile fast and can be tested without a socket.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/identity.hpp"

namespace nox {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  Headers headers;     // names lower-case
  std::string body;
  // Who sent it (server/access_control.hpp), set before the route runs. A public route may be
  // called without a credential: then no scope at all.
  Identity identity;
  std::string client;      // the peer's address (access log)
  std::string_view route = "-";  // the matched pattern ("/jobs/{id}"), "-" when none; set by the server

  std::string_view path() const;
  std::string_view query() const;
  // The first header of that (lower-case) name, or empty.
  std::string_view header(std::string_view name) const;
};

// Percent-decoded value of a query parameter ('+' is a space), or nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// Every name=value pair of a query, decoded, in order.
std::vector<std::pair<std::string, std::string>> query_params(std::string_view query);
// False when a '%' is not followed by two hex digits: the server answers 400 before routing.
bool query_is_valid(std::string_view query);

// Streams a long-lived body (Server-Sent Events) chunk by chunk.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends one chunk; false when the client is gone or too slow (the stream must end).
  virtual boost::asio::awaitable<bool> write(std::string data) = 0;
};

class StreamBody {
 public:
  virtual ~StreamBody() = default;
  virtual boost::asio::awaitable<void> run(StreamWriter& writer) = 0;
  // The client left (or the server stops): run() should return soon.
  virtual void stop() {}
  // False when run() gave up midway (the store failed): the last chunk is not sent and the
  // connection closes, so the client sees a cut-off body rather than a short but whole one.
  virtual bool ended_well() const { return true; }
};

// A body of known length produced piece by piece (an artifact read from the store chunk by
// chunk): sent with Content-Length on a kept-alive connection, each piece written (so the
// client's pace holds the next read back) before the next is asked for.
class SizedBody {
 public:
  virtual ~SizedBody() = default;
  virtual std::uint64_t size() const = 0;
  // The next bytes; empty or nullopt when they cannot be had (the connection is then closed,
  // so the client sees a short body instead of a wrong one).
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
  std::shared_ptr<StreamBody> stream;  // set: the body is streamed chunked; `body` is ignored
  std::shared_ptr<SizedBody> sized;    // set: the body is these bytes; `body` is ignored
};

// The status line and headers of a (non-streamed) response, ending with the blank line.
// Written by hand rather than by Beast's serializer: the hottest routes spent most of
// their time there. Header values have CR/LF removed (no response splitting).
// `chunked`: a streamed body follows (Transfer-Encoding: chunked) instead of response.body.
std::string response_head(const HttpResponse& response, unsigned version, bool keep_alive, bool chunked = false);
// Whether a response with this status carries a body (not 1xx, 204, 304).
bool status_has_body(int status);

}  // namespace nox
