// Milliseconds since the epoch <-> RFC 3339.
#include <boost/test/unit_test.hpp>

#include "core/clock.hpp"

BOOST_AUTO_TEST_SUITE(core_clock)

BOOST_AUTO_TEST_CASE(formats_epoch_and_known_instants) {
  BOOST_TEST(nox::to_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(nox::to_rfc3339(1) == "1970-01-01T00:00:00.001Z");
  // 2000-02-29T12:34:56.789Z (a leap day in a year divisible by 400)
  BOOST_TEST(nox::to_rfc3339(951827696789) == "2000-02-29T12:34:56.789Z");
  BOOST_TEST(nox::to_rfc3339(1700000000000) == "2023-11-14T22:13:20.000Z");
  BOOST_TEST(nox::to_rfc3339(4102444799999) == "2099-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(formats_times_before_the_epoch) {
  BOOST_TEST(nox::to_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(nox::to_rfc3339(-86400000) == "1969-12-31T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(parses_z_times) {
  BOOST_TEST(nox::parse_rfc3339("1970-01-01T00:00:00Z").value() == 0);
  BOOST_TEST(nox::parse_rfc3339("1970-01-01T00:00:00.000Z").value() == 0);
  BOOST_TEST(nox::parse_rfc3339("2000-02-29T12:34:56.789Z").value() == 951827696789);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14T22:13:20Z").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14t22:13:20z").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14 22:13:20Z").value() == 1700000000000);
}

BOOST_AUTO_TEST_CASE(parses_fractions_of_any_length) {
  BOOST_TEST(nox::parse_rfc3339("1970-01-01T00:00:01.5Z").value() == 1500);
  BOOST_TEST(nox::parse_rfc3339("1970-01-01T00:00:01.05Z").value() == 1050);
  BOOST_TEST(nox::parse_rfc3339("1970-01-01T00:00:01.123456789Z").value() == 1123);
}

BOOST_AUTO_TEST_CASE(parses_offsets) {
  // 22:13:20Z == 23:13:20+01:00 == 16:43:20-05:30
  BOOST_TEST(nox::parse_rfc3339("2023-11-14T23:13:20+01:00").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14T16:43:20-05:30").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-15T00:13:20.000+02:00").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14T22:13:20+00:00").value() == 1700000000000);
  BOOST_TEST(nox::parse_rfc3339("2023-11-14T22:13:20-00:00").value() == 1700000000000);
}

BOOST_AUTO_TEST_CASE(round_trips) {
  for (nox::TimeMs t : {nox::TimeMs{0}, nox::TimeMs{1}, nox::TimeMs{-1}, nox::TimeMs{951827696789},
                        nox::TimeMs{1700000000123}, nox::TimeMs{253402300799999}}) {
    BOOST_TEST(nox::parse_rfc3339(nox::to_rfc3339(t)).value() == t);
  }
  const nox::TimeMs now = nox::now_ms();
  BOOST_TEST(nox::parse_rfc3339(nox::to_rfc3339(now)).value() == now);
}

BOOST_AUTO_TEST_CASE(refuses_malformed_times) {
  const char* bad[] = {
      "",
      "2023-11-14",                 // no time
      "2023-11-14T22:13:20",        // no offset
      "2023-11-14T22:13Z",          // no seconds
      "2023-11-14T22:13:20.Z",      // empty fraction
      "2023-13-14T22:13:20Z",       // month 13
      "2023-00-14T22:13:20Z",       // month 0
      "2023-02-29T22:13:20Z",       // not a leap year
      "1900-02-29T00:00:00Z",       // 1900 is not a leap year
      "2023-04-31T00:00:00Z",       // April has 30 days
      "2023-11-00T22:13:20Z",       // day 0
      "2023-11-14T24:00:00Z",       // hour 24
      "2023-11-14T22:60:00Z",       // minute 60
      "2023-11-14T22:13:61Z",       // second 61
      "2023-11-14T22:13:20+0100",   // offset without colon
      "2023-11-14T22:13:20+24:00",  // offset hour 24
      "2023-11-14T22:13:20Zjunk",   // trailing text
      " 2023-11-14T22:13:20Z",      // leading space
      "23-11-14T22:13:20Z",         // two-digit year
      "2023-1-14T22:13:20Z",        // one-digit month
      "2023-11-14X22:13:20Z",       // bad separator
      "abcd-ef-ghTij:kl:mnZ",
  };
  for (const char* s : bad) {
    BOOST_TEST_CONTEXT(s) { BOOST_TEST(!nox::parse_rfc3339(s).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(accepts_leap_day_of_leap_years) {
  BOOST_TEST(nox::parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  BOOST_TEST(nox::parse_rfc3339("2000-02-29T00:00:00Z").has_value());
}

BOOST_AUTO_TEST_CASE(now_is_recent_and_in_milliseconds) {
  const nox::TimeMs now = nox::now_ms();
  BOOST_TEST(now > 1700000000000);   // after 2023-11
  BOOST_TEST(now < 32503680000000);  // before year 3000, i.e. not microseconds
}

BOOST_AUTO_TEST_SUITE_END()
