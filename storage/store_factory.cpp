#include "storage/store_factory.hpp"

#include "storage/memory_store.hpp"

namespace nox {

std::variant<std::unique_ptr<Store>, std::string> make_store(boost::asio::any_io_executor executor,
                                                             const Settings& settings) {
  if (!settings.redis_url.empty()) return std::string("the Redis store is not part of this build yet");
  MemoryStoreOptions options;
  options.data_dir = settings.data_dir;
  options.events_capacity = settings.events_capacity;
  return std::make_unique<MemoryStore>(std::move(executor), std::move(options));
}

boost::asio::awaitable<void> start_store(Store&) { co_return; }

}  // namespace nox
