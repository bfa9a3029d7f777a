#pragma once
// Reading the replies of RedisStore's scripts ({'ok', ...}, {'not_found'}, {'conflict', state}):
// shared by the RedisStore files (redis_store.cpp, redis_store_artifacts.cpp).
#include <string>
#include <string_view>

#include "storage/redis/redis_protocol.hpp"
#include "storage/store_result.hpp"

namespace nox::redis {

inline const Reply& nil_reply() {
  static const Reply nil{};
  return nil;
}

// The i-th element of an array reply, or nil.
inline const Reply& item(const Reply& reply, std::size_t i) {
  const ReplyArray* a = reply.array();
  return a && i < a->size() ? (*a)[i] : nil_reply();
}

inline std::string text_or(const Reply& reply, std::string fallback = {}) {
  const std::string* t = reply.text();
  return t ? *t : fallback;
}

// The first element of a script's answer: "ok", "not_found", "conflict", ...
inline std::string_view status_of(const Reply& reply) {
  const std::string* t = item(reply, 0).text();
  return t ? std::string_view(*t) : std::string_view{};
}

// A script's refusal ({'not_found'} / {'conflict', state}) or an answer we do not understand.
inline StoreError refusal(const Reply& reply, std::string_view id, std::string_view what) {
  const std::string_view status = status_of(reply);
  if (status == "not_found") return not_found("no job " + std::string(id));
  if (status == "conflict") {
    const std::string state = text_or(item(reply, 1));
    return conflict("job " + std::string(id) + " is " + state + ": " + std::string(what),
                    parse_job_state(state).value_or(JobState::pending));
  }
  return unavailable("unexpected answer from Redis: " + reply.describe());
}

}  // namespace nox::redis
