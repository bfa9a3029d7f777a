#pragma once
// Long work on the one event loop (a 10,000-job batch parsed, checked and created; jobs claimed
// and started by the hundred; events fanned out; a retention sweep) shares the loop by time.
// Each piece of it calls take_turn() between items. While the current turn of the loop has
// had less than its share of such work (turn_share), take_turn() returns at once; once the
// share is spent, the work lets everything already queued (requests, replies, timers) run
// first and goes on in the next turn, with a fresh share.
//
// Counting items per yield did not bound a turn: each loop yielded every few dozen items, but
// a turn held one slice of every such loop at once (the batch's creates, their answers, the
// claims, the starts, the outcomes, the event reader), and a status read waited behind
// them all: ~5-10 ms during a 10,000-job batch. With one shared clock a turn holds about one
// share of long work, however many loops are busy.
//
// A turn begins when a marker, posted by the first piece of work that found the share spent,
// runs: everything queued before it has run by then. Single-threaded: the loop's thread only.
#include <boost/asio/awaitable.hpp>
#include <chrono>

namespace nox {

// How much long work a turn of the loop holds before the rest of the loop runs.
inline constexpr std::chrono::microseconds turn_share{500};

// True when this turn's share of long work is spent (the next take_turn() yields).
bool turn_spent();

// Between two items of long work: returns at once while the turn's share lasts, else resumes
// in the next turn of the loop.
boost::asio::awaitable<void> take_turn();

// Empties `items` from the back, taking turns: a batch's 10,000 specs or answers freed at once
// held the loop ~10 ms at the end of its request.
template <class Items>
boost::asio::awaitable<void> release_taking_turns(Items& items) {
  while (!items.empty()) {
    items.pop_back();
    co_await take_turn();
  }
}

}  // namespace nox
