// RedisStore's remembered answers to requests made with an Idempotency-Key: one string key
// per request key (`answer:<key>`), written with SET NX so the first answer wins, expiring
// after the time the key is honoured.
#include "storage/redis/redis_store.hpp"

namespace nox {

namespace asio = boost::asio;

asio::awaitable<Result<Done>> RedisStore::remember_answer(std::string answer_key, std::string answer,
                                                          std::chrono::milliseconds ttl) {
  redis::Command command{"SET", key("answer:" + answer_key), answer, "NX", "PX",
                         std::to_string(std::max<std::int64_t>(ttl.count(), 1))};
  Result<std::vector<redis::Reply>> replies = co_await exec(std::move(command));
  if (!replies) co_return replies.error();
  co_return Done{};
}

asio::awaitable<Result<std::optional<std::string>>> RedisStore::recall_answer(std::string answer_key) {
  redis::Command command{"GET", key("answer:" + answer_key)};
  Result<std::vector<redis::Reply>> replies = co_await exec(std::move(command));
  if (!replies) co_return replies.error();
  const std::string* text = replies->front().text();
  co_return text ? std::optional<std::string>(*text) : std::nullopt;
}

}  // namespace nox
