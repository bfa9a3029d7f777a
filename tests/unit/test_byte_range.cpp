// Range, If-None-Match and If-Range rules of artifact downloads (server/byte_range), on strings.
#include <boost/test/unit_test.hpp>

#include "server/byte_range.hpp"

using nox::parse_range;
using Kind = nox::RangeRequest::Kind;

namespace {

bool partial(std::string_view header, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
  const auto r = parse_range(header, size);
  return r.kind == Kind::partial && r.first == first && r.last == last;
}

bool kind(std::string_view header, std::uint64_t size, Kind k) { return parse_range(header, size).kind == k; }

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_range)

BOOST_AUTO_TEST_CASE(single_ranges) {
  BOOST_TEST(partial("bytes=0-0", 10, 0, 0));
  BOOST_TEST(partial("bytes=2-5", 10, 2, 5));
  BOOST_TEST(partial("bytes=2-", 10, 2, 9));
  BOOST_TEST(partial("bytes=-3", 10, 7, 9));
  BOOST_TEST(partial("bytes=-30", 10, 0, 9));          // more than there is: all of it
  BOOST_TEST(partial("bytes=5-1000", 10, 5, 9));       // clamped to the end
  BOOST_TEST(partial("BYTES = 1-2 ", 10, 1, 2));       // unit is case-insensitive, spaces tolerated
  BOOST_TEST(partial("bytes=9-9", 10, 9, 9));
}

BOOST_AUTO_TEST_CASE(unsatisfiable_ranges) {
  BOOST_TEST(kind("bytes=10-", 10, Kind::unsatisfiable));
  BOOST_TEST(kind("bytes=10-20", 10, Kind::unsatisfiable));
  BOOST_TEST(kind("bytes=-0", 10, Kind::unsatisfiable));
  BOOST_TEST(kind("bytes=0-", 0, Kind::unsatisfiable));  // an empty file has no byte 0
  BOOST_TEST(kind("bytes=-5", 0, Kind::unsatisfiable));
}

BOOST_AUTO_TEST_CASE(ignored_headers_answer_whole) {
  BOOST_TEST(kind("", 10, Kind::whole));
  BOOST_TEST(kind("items=0-1", 10, Kind::whole));
  BOOST_TEST(kind("bytes=0-1,4-5", 10, Kind::whole));  // several ranges: 200 with everything
  BOOST_TEST(kind("bytes=5-2", 10, Kind::whole));      // last before first: invalid, ignored
  BOOST_TEST(kind("bytes=a-b", 10, Kind::whole));
  BOOST_TEST(kind("bytes=-", 10, Kind::whole));
  BOOST_TEST(kind("bytes=+1-2", 10, Kind::whole));
  BOOST_TEST(kind("bytes 0-1", 10, Kind::whole));
  BOOST_TEST(kind("bytes=99999999999999999999-", 10, Kind::whole));  // does not fit in 64 bits
}

BOOST_AUTO_TEST_CASE(if_none_match) {
  const std::string etag = "\"abc\"";
  BOOST_TEST(nox::if_none_match_matches("\"abc\"", etag));
  BOOST_TEST(nox::if_none_match_matches("W/\"abc\"", etag));  // weak comparison
  BOOST_TEST(nox::if_none_match_matches("\"x\", \"abc\"", etag));
  BOOST_TEST(nox::if_none_match_matches("*", etag));
  BOOST_TEST(!nox::if_none_match_matches("\"abd\"", etag));
  BOOST_TEST(!nox::if_none_match_matches("abc", etag));
  BOOST_TEST(!nox::if_none_match_matches("", etag));
  BOOST_TEST(!nox::if_none_match_matches("\"abc\"", ""));  // no validator: only "*" matches
  BOOST_TEST(nox::if_none_match_matches("*", ""));
}

BOOST_AUTO_TEST_CASE(if_range) {
  BOOST_TEST(nox::if_range_matches("\"abc\"", "\"abc\""));
  BOOST_TEST(!nox::if_range_matches("W/\"abc\"", "\"abc\""));  // weak tags never allow a range
  BOOST_TEST(!nox::if_range_matches("Mon, 30 Nov 2026 10:00:00 GMT", "\"abc\""));
  BOOST_TEST(!nox::if_range_matches("\"abc\"", ""));
}

BOOST_AUTO_TEST_SUITE_END()
