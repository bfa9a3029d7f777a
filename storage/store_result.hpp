#pragma once
// The value-or-reason every Store operation answers with.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/job_state.hpp"

namespace nox {

enum class StoreErrc {
  not_found,    // no such job / artifact
  conflict,     // the job is not in a state this operation applies to
  unavailable,  // the store cannot be reached now (Redis down): retry later
  invalid,      // the request itself is not acceptable (e.g. artifact too large)
  full,         // the store holds max_jobs jobs: new submissions wait until retention frees room
  quota,        // the job's owner holds its maximum of unfinished jobs: wait until some finish
  busy,         // the store holds the server's maximum of unfinished jobs (max_queued): wait until some finish
};

struct StoreError {
  StoreErrc code = StoreErrc::unavailable;
  std::string message;
  std::optional<JobState> current_state;  // conflict: the state the job is in
};

struct Done {};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(StoreError error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const StoreError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, StoreError> v_;
};

inline StoreError not_found(std::string message) { return {StoreErrc::not_found, std::move(message), {}}; }
inline StoreError conflict(std::string message, JobState current) {
  return {StoreErrc::conflict, std::move(message), current};
}
inline StoreError unavailable(std::string message) { return {StoreErrc::unavailable, std::move(message), {}}; }
inline StoreError full(std::string message) { return {StoreErrc::full, std::move(message), {}}; }
// `owner` holds `held` unfinished jobs, its bound (CreateBounds::max_unfinished_of_owner).
inline StoreError over_quota(const std::string& owner, std::uint64_t held) {
  return {StoreErrc::quota,
          owner + " has " + std::to_string(held) +
              " unfinished (pending or running) jobs, its limit max_queued: submit more once some finish",
          {}};
}

}  // namespace nox
