// The Redis status cache: served only while the event log is followed, dropped by events,
// and never filled with an answer that an event overtook.
#include <boost/test/unit_test.hpp>
#include <chrono>

#include "core/status_cache.hpp"

BOOST_AUTO_TEST_SUITE(status_cache)

BOOST_AUTO_TEST_CASE(serves_only_while_enabled) {
  nox::StatusCache cache;
  cache.put("a", {"{}", "alice"}, cache.generation());
  BOOST_TEST(!cache.find("a"));  // off until the event log is followed
  cache.set_enabled(true);
  cache.put("a", {"{\"state\":\"pending\"}", "alice"}, cache.generation());
  BOOST_TEST(cache.find("a").value_or(nox::StatusText{}).json == "{\"state\":\"pending\"}");
  cache.set_enabled(false);  // the log cannot be read: nothing is trusted
  BOOST_TEST(!cache.find("a"));
  cache.set_enabled(true);
  BOOST_TEST(!cache.find("a"));  // and what was there is gone
}

BOOST_AUTO_TEST_CASE(an_event_drops_its_job) {
  nox::StatusCache cache;
  cache.set_enabled(true);
  cache.put("a", {"A", "alice"}, cache.generation());
  cache.put("b", {"B", "alice"}, cache.generation());
  cache.invalidate("a");
  BOOST_TEST(!cache.find("a"));
  BOOST_TEST(cache.find("b").value_or(nox::StatusText{}).json == "B");
}

BOOST_AUTO_TEST_CASE(a_read_overtaken_by_an_event_is_not_kept) {
  nox::StatusCache cache;
  cache.set_enabled(true);
  const auto before = cache.generation();  // the store read starts
  cache.invalidate("a");                   // an event arrives while it is out
  cache.put("a", {"stale", "alice"}, before);
  BOOST_TEST(!cache.find("a"));
  cache.put("a", {"fresh", "alice"}, cache.generation());
  BOOST_TEST(cache.find("a").value_or(nox::StatusText{}).json == "fresh");
}

BOOST_AUTO_TEST_CASE(holds_at_most_its_capacity) {
  nox::StatusCache cache(2);
  cache.set_enabled(true);
  cache.put("a", {"A", "alice"}, cache.generation());
  cache.put("b", {"B", "alice"}, cache.generation());
  cache.put("c", {"C", "alice"}, cache.generation());
  int held = 0;
  for (const char* id : {"a", "b", "c"}) held += cache.find(id) ? 1 : 0;
  BOOST_TEST(held <= 2);
  BOOST_TEST(cache.find("c").value_or(nox::StatusText{}).json == "C");
  BOOST_TEST(cache.find("c")->owner == "alice");  // kept with it, for the owner check
}

BOOST_AUTO_TEST_CASE(entries_older_than_max_age_are_not_served) {
  nox::StatusCache cache(10, std::chrono::milliseconds(1));
  cache.set_enabled(true);
  cache.put("a", {"A", "alice"}, cache.generation());
  const auto stored = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - stored < std::chrono::milliseconds(3)) {
  }
  BOOST_TEST(!cache.find("a"));
}

BOOST_AUTO_TEST_SUITE_END()
