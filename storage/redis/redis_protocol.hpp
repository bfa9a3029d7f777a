#pragma once
// The socket-free half of the Redis client: our reply tree, command encoding and reply
// decoding (both done by hiredis 0.14, RESP2), and connection URLs. Tested on bytes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct redisReader;

namespace nox::redis {

struct Reply;
using ReplyArray = std::vector<Reply>;
struct ReplyNil {};
struct ReplyStatus {
  std::string text;
};
struct ReplyError {
  std::string message;
};

// One decoded reply. hiredis types stay inside redis_protocol.cpp.
struct Reply {
  std::variant<ReplyNil, std::int64_t, std::string, ReplyStatus, ReplyError, ReplyArray> value;

  bool is_nil() const { return std::holds_alternative<ReplyNil>(value); }
  bool is_error() const { return std::holds_alternative<ReplyError>(value); }
  bool is_array() const { return std::holds_alternative<ReplyArray>(value); }
  // Bulk strings and status replies ("OK", "QUEUED") both read as text.
  const std::string* text() const;
  // Integers, and bulk strings that hold one (what Lua numbers and ZSCORE come back as).
  std::optional<std::int64_t> integer() const;
  const ReplyArray* array() const { return std::get_if<ReplyArray>(&value); }
  const std::string* error() const;
  // A short readable form for logs and test failures.
  std::string describe() const;
};

// A batch of commands encoded once, shared cheaply between the caller (which may resend it
// after NOSCRIPT) and the connection's writer.
class Command {
 public:
  Command() = default;
  Command(std::initializer_list<std::string_view> args) { push(args); }

  Command& push(std::initializer_list<std::string_view> args);
  Command& push(const std::vector<std::string_view>& args);
  Command& push(const std::vector<std::string>& args);

  std::size_t count() const { return count_; }
  const std::string& payload() const;
  bool empty() const { return count_ == 0; }

 private:
  Command& push_argv(std::size_t argc, const char** argv, const std::size_t* lengths);

  std::shared_ptr<std::string> payload_;
  std::size_t count_ = 0;
};

// Incremental reply decoder over hiredis's reader. A reader that hit a protocol error stays
// broken (hiredis 0.14), so one decoder lives exactly as long as one connection.
class ReplyDecoder {
 public:
  ReplyDecoder();
  ~ReplyDecoder();
  ReplyDecoder(const ReplyDecoder&) = delete;
  ReplyDecoder& operator=(const ReplyDecoder&) = delete;

  void feed(const char* data, std::size_t size);
  // The next complete reply, nothing when more bytes are needed, or (failed() true) nothing
  // forever after a protocol error.
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  redisReader* reader_ = nullptr;
  std::string error_;
};

// Where and how to connect, from a URL:
//   redis://[[user]:password@]host[:port][/db]      (default port 6379, db 0)
//   unix:///path/redis.sock[?db=N][&password=...]   (also redis+unix://)
struct Url {
  bool unix_socket = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string path;  // unix socket path
  std::string user;  // empty: AUTH with the password only
  std::string password;
  int db = 0;
};

struct UrlError {
  std::string message;
};

std::variant<Url, UrlError> parse_url(std::string_view text);
// The URL with the password replaced by "***", for logs.
std::string redacted(const Url& url);

}  // namespace nox::redis
