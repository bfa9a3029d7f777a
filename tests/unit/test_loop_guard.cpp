// LoopGuard: a long-lived loop that ends by an exception stops the whole loop (noxd then exits
// non-zero) instead of leaving the instance half-alive; one that returns does not.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "server/loop_guard.hpp"

namespace asio = boost::asio;

namespace {

asio::awaitable<void> forever(int* ticks) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    ++*ticks;
  }
}

asio::awaitable<void> fails_after(int* ticks, int n) {
  while (*ticks < n) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
  throw std::runtime_error("claim failed unexpectedly");
}

asio::awaitable<void> returns() { co_return; }

}  // namespace

BOOST_AUTO_TEST_SUITE(loop_guard)

BOOST_AUTO_TEST_CASE(a_loop_that_throws_stops_everything_and_is_named) {
  asio::io_context io;
  nox::LoopGuard guard(io);
  int ticks = 0;
  asio::co_spawn(io, forever(&ticks), guard.watch("housekeeping"));
  asio::co_spawn(io, returns(), guard.watch("start-up"));
  asio::co_spawn(io, fails_after(&ticks, 3), guard.watch("dispatcher"));
  // Before the guard, detached loops swallowed the exception and run() went on for ever.
  io.run_for(std::chrono::seconds(10));
  BOOST_TEST(io.stopped());
  BOOST_TEST_REQUIRE(guard.failure().has_value());
  BOOST_TEST(*guard.failure() == "dispatcher: claim failed unexpectedly");
  BOOST_TEST(ticks >= 3);
}

BOOST_AUTO_TEST_CASE(loops_that_return_leave_the_loop_running) {
  asio::io_context io;
  nox::LoopGuard guard(io);
  asio::co_spawn(io, returns(), guard.watch("start-up"));
  int ticks = 0;
  asio::co_spawn(io, forever(&ticks), guard.watch("housekeeping"));
  io.run_for(std::chrono::milliseconds(50));
  BOOST_TEST(!io.stopped());
  BOOST_TEST(!guard.failure().has_value());
  BOOST_TEST(ticks > 0);
}

BOOST_AUTO_TEST_SUITE_END()
