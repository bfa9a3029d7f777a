#include "server/loop_turns.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace nox {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// The loop's thread only (the pool's threads never call these).
thread_local Clock::time_point turn_began{};
thread_local bool marker_queued = false;

}  // namespace

bool turn_spent() { return Clock::now() - turn_began > turn_share; }

asio::awaitable<void> take_turn() {
  if (!turn_spent()) co_return;
  auto executor = co_await asio::this_coro::executor;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [executor](auto resume) {
        asio::post(executor, std::move(resume));
        // The marker goes after this work, so the next turn's share goes first to whatever
        // yielded after it: busy pieces of work take the shares in turn, none starves.
        if (!marker_queued) {
          marker_queued = true;
          asio::post(executor, [] {
            turn_began = Clock::now();
            marker_queued = false;
          });
        }
      },
      asio::use_awaitable);
}

}  // namespace nox
