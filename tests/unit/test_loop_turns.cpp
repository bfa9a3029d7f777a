// take_turn(): long work shares the one loop by time (server/loop_turns.hpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>

#include "server/loop_turns.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// 20 ms of work in ~10 µs items, calling take_turn() between two.
asio::awaitable<void> long_work(bool& done) {
  const auto end = Clock::now() + std::chrono::milliseconds(20);
  while (Clock::now() < end) {
    const auto item_end = Clock::now() + std::chrono::microseconds(10);
    while (Clock::now() < item_end) {
    }
    co_await nox::take_turn();
  }
  done = true;
}

// `items` items of ~10 µs, calling take_turn() between two; counts them in `done_items`.
asio::awaitable<void> counted_work(int items, int& done_items) {
  for (; done_items < items; ++done_items) {
    const auto item_end = Clock::now() + std::chrono::microseconds(10);
    while (Clock::now() < item_end) {
    }
    co_await nox::take_turn();
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(loop_turns)

// Without it the other handler ran once, after the whole 20 ms; with a 0.5 ms share it runs
// every share or so.
BOOST_AUTO_TEST_CASE(long_work_lets_the_rest_of_the_loop_run_between_its_shares) {
  asio::io_context io;
  bool done = false;
  int ran_meanwhile = 0;
  asio::co_spawn(io, long_work(done), asio::detached);
  std::function<void()> other = [&] {
    if (done) return;
    ++ran_meanwhile;
    asio::post(io, other);
  };
  asio::post(io, other);
  io.run();
  BOOST_TEST(done);
  // 20 ms of work over 0.5 ms shares: ~40 turns (at least 10, however slow the machine).
  BOOST_TEST(ran_meanwhile >= 10);
}

// Two busy pieces of work take the turns' shares in turn: the one that happened to yield
// first does not take every share while the other waits for it to finish.
BOOST_AUTO_TEST_CASE(busy_pieces_of_work_take_the_shares_in_turn) {
  asio::io_context io;
  constexpr int items = 2000;  // ~20 ms each
  int first = 0;
  int second = 0;
  int second_when_first_finished = -1;
  asio::co_spawn(io, counted_work(items, first), [&](std::exception_ptr) { second_when_first_finished = second; });
  asio::co_spawn(io, counted_work(items, second), asio::detached);
  io.run();
  BOOST_TEST(first == items);
  BOOST_TEST(second == items);
  // In turn: about half of the second's items were done by then (none if it starved).
  BOOST_TEST(second_when_first_finished > items / 4);
}

BOOST_AUTO_TEST_SUITE_END()
