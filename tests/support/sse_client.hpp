#pragma once
// A blocking Server-Sent Events client for tests: opens a stream, parses events.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace nox::test {

struct SseEvent {
  std::string id;
  std::string type;  // "message" when the event has no `event:` line
  std::string data;
};

class SseClient {
 public:
  SseClient(std::uint16_t port, const std::string& target, const std::map<std::string, std::string>& headers = {});
  ~SseClient();

  int status() const;
  std::string header(const std::string& lower_case_name) const;
  // The next event, or nullopt when none arrives in time or the stream has ended.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The server ended the stream properly (its last chunk arrived); a connection cut short
  // without it is not `ended` (curl reports that as exit 18).
  bool ended() const;
  int comments_seen() const;
  std::optional<int> retry_ms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nox::test
