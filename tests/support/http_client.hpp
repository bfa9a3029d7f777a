#pragma once
// A small blocking HTTP/1.1 client for integration tests (keep-alive, one connection).
#include <boost/json/value.hpp>
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
