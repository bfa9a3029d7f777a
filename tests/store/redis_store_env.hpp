#pragma once
// What the Redis store tests share: one redis-server, the RedisStores ("instances") opened on
// it, and a raw connection to look at the keys from the outside.
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/redis/redis_connection.hpp"
#include "storage/redis/redis_store.hpp"
#include "tests/support/redis_server.hpp"

namespace nox::test {

inline boost::asio::awaitable<std::string> start_store(RedisStore* store) {
  Result<Done> started = co_await store->start(std::chrono::seconds(5));
  co_return started ? std::string() : started.error().message;
}

inline boost::asio::awaitable<bool> raw_connected(std::shared_ptr<redis::Connection> c) {
  bool up = co_await c->wait_connected(std::chrono::seconds(5));
  co_return up;
}

inline boost::asio::awaitable<redis::Reply> raw_exec(std::shared_ptr<redis::Connection> c, redis::Command command) {
  redis::Response r = co_await c->exec(std::move(command));
  if (!r.ok()) throw std::runtime_error("raw Redis command failed: " + r.message);
  co_return r.reply();
}

struct RedisStoreEnv {
  RedisServer server;
  boost::asio::io_context ioc;
  std::vector<std::unique_ptr<RedisStore>> stores;
  std::shared_ptr<redis::Connection> raw;

  explicit RedisStoreEnv(RedisServerOptions options = {}) : server(options) {
    redis::ConnectionConfig config;
    config.url = std::get<redis::Url>(redis::parse_url(server.url()));
    raw = redis::Connection::create(ioc.get_executor(), config);
    raw->start();
    if (!run_task(ioc, raw_connected(raw))) throw std::runtime_error("no raw connection");
  }
  ~RedisStoreEnv() {
    for (auto& s : stores) s->stop();
    raw->close();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(1));
  }

  RedisStore& open(RedisStoreOptions options = {}) {
    options.url = server.url();
    stores.push_back(std::make_unique<RedisStore>(ioc.get_executor(), options));
    const std::string failure = run_task(ioc, start_store(stores.back().get()));
    if (!failure.empty()) throw std::runtime_error("RedisStore did not start: " + failure);
    return *stores.back();
  }

  redis::Reply redis(redis::Command command) { return run_task(ioc, raw_exec(raw, std::move(command))); }
  std::int64_t number(redis::Command command) { return redis(std::move(command)).integer().value_or(-1); }
  std::optional<std::int64_t> score(const std::string& key, const std::string& member) {
    redis::Reply r = redis(redis::Command{"ZSCORE", key, member});
    if (!r.text()) return std::nullopt;
    return std::stoll(*r.text());
  }
  // Redis's clock, in ms (the scripts' clock).
  std::int64_t redis_now() {
    redis::Reply t = redis(redis::Command{"TIME"});
    return std::stoll(*(*t.array())[0].text()) * 1000 + std::stoll(*(*t.array())[1].text()) / 1000;
  }
  // Calls per command so far (INFO commandstats; commands run inside Lua scripts count too).
  std::map<std::string, std::int64_t> commandstats() {
    std::map<std::string, std::int64_t> calls;
    std::istringstream info(*redis(redis::Command{"INFO", "commandstats"}).text());
    std::string line;
    while (std::getline(info, line)) {
      // cmdstat_evalsha:calls=600,usec=...
      if (line.rfind("cmdstat_", 0) != 0) continue;
      const auto colon = line.find(':');
      const auto calls_at = line.find("calls=");
      if (colon == std::string::npos || calls_at == std::string::npos) continue;
      calls[line.substr(8, colon - 8)] = std::stoll(line.substr(calls_at + 6));
    }
    return calls;
  }
  // All calls but the INFO and CONFIG commands tests send to look.
  std::int64_t total_calls() {
    std::int64_t total = 0;
    for (const auto& [name, calls] : commandstats())
      if (name != "info" && name.rfind("config", 0) != 0) total += calls;
    return total;
  }
};

}  // namespace nox::test
