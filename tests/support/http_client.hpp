#pragma once
// A small blocking HTTP/1.1 client for integration tests (keep-alive, one connection).
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace nox::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  boost::json::value json() const;  // throws when the body is not JSON
  std::string header(const std::string& name) const;
};

// Bytes written as they are on a new connection (requests HttpClient would not send), then
// everything the server answers until it closes the connection or `timeout` passes.
struct RawExchange {
  std::string received;
  bool closed_by_server = false;  // false: still open when the timeout passed
};
// `from`: the local address to connect from ("127.0.0.2": another client address on loopback).
RawExchange raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5), const std::string& from = "");

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();

  HttpReply request(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::map<std::string, std::string>& headers = {});
  HttpReply get(const std::string& target) { return request("GET", target); }
  HttpReply post_json(const std::string& target, const std::string& body) {
    return request("POST", target, body, {{"content-type", "application/json"}});
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nox::test
