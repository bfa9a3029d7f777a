#pragma once
// The long-lived loops (accept, dispatcher, housekeeping, event reader, signals) run detached
// for the life of the process. One that ended by an exception would stop silently and leave
// noxd half-alive (nothing claimed, or nothing accepted) while /ready still answered 200. A
// LoopGuard is their completion handler: it logs which loop ended and why, and stops the
// io_context, so that main exits with a non-zero status and systemd (Restart=on-failure)
// starts a whole instance again. Restarting one loop in place was not chosen: the state it
// shares with the others (slots, leases, subscriber lists) may be half-updated.
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>

namespace nox {

class LoopGuard {
 public:
  explicit LoopGuard(boost::asio::io_context& io) : io_(io) {}

  // The completion handler for co_spawn of the loop `name`.
  auto watch(std::string name) {
    return [this, name = std::move(name)](std::exception_ptr error) { ended(name, error); };
  }
  // The first loop that ended by an exception: "<loop>: <what>".
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  void ended(const std::string& name, std::exception_ptr error);
  boost::asio::io_context& io_;
  std::optional<std::string> failure_;
};

}  // namespace nox
