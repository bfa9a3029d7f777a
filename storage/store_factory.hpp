#pragma once
// Builds the store the settings ask for: Redis when a URL is given, else in memory.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/settings.hpp"
#include "storage/store.hpp"

namespace nox {

std::variant<std::unique_ptr<Store>, std::string> make_store(boost::asio::any_io_executor executor,
                                                             const Settings& settings);
// Connects (Redis) and keeps the connection alive; returns at once for the memory store.
// A Redis that is not up yet is retried in the background; what must stop noxd instead (a
// Redis holding records this version cannot read) is returned as a message.
boost::asio::awaitable<std::optional<std::string>> start_store(Store& store);
// Closes the store's connections at shutdown.
void stop_store(Store& store);

}  // namespace nox
