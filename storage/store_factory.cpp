#include "storage/store_factory.hpp"

#include "core/log.hpp"
#include "storage/memory_store.hpp"
#include "storage/redis/redis_store.hpp"

namespace nox {

std::variant<std::unique_ptr<Store>, std::string> make_store(boost::asio::any_io_executor executor,
                                                             const Settings& settings) {
  if (!settings.redis_url.empty()) {
    RedisStoreOptions options;
    options.url = settings.redis_url;
    options.prefix = settings.redis_prefix;
    options.events_maxlen = settings.events_capacity;
    options.command_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(settings.redis_command_timeout_s * 1000));
    options.max_jobs = settings.max_jobs;
    auto store = RedisStore::make(std::move(executor), std::move(options));
    if (auto* error = std::get_if<std::string>(&store)) return "--redis-url: " + *error;
    return std::unique_ptr<Store>(std::move(std::get<std::unique_ptr<RedisStore>>(store)));
  }
  MemoryStoreOptions options;
  options.data_dir = settings.data_dir;
  options.events_capacity = settings.events_capacity;
  options.max_jobs = settings.max_jobs;
  return std::make_unique<MemoryStore>(std::move(executor), std::move(options));
}

boost::asio::awaitable<std::optional<std::string>> start_store(Store& store) {
  auto* redis = dynamic_cast<RedisStore*>(&store);
  if (!redis) co_return std::nullopt;
  auto started = co_await redis->start(std::chrono::seconds(5));
  if (!started && started.error().code == StoreErrc::invalid) co_return started.error().message;
  if (!started) log_warn("Redis not reachable yet (" + started.error().message + "); retrying in the background");
  else log_info("connected to Redis");
  co_return std::nullopt;
}

void stop_store(Store& store) {
  if (auto* redis = dynamic_cast<RedisStore*>(&store)) redis->stop();
}

}  // namespace nox
