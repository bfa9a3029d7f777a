// JSON text as Nox writes it: doubles in plain form, everything else as Boost.JSON writes it.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "core/json_serialize.hpp"

namespace json = boost::json;
using nox::serialize_json;
using nox::with_plain_doubles;

BOOST_AUTO_TEST_SUITE(json_serialize)

// The defect: Boost.JSON 1.81 writes 2.5 as "2.5E0" and 0.0 as "0E0" in every response.
BOOST_AUTO_TEST_CASE(doubles_have_no_exponent_where_none_is_needed) {
  json::object o{{"wall_time_s", 2.5}, {"zero", 0.0}, {"energy", -5.070544443}, {"big", 123456.75}};
  BOOST_TEST(serialize_json(o) == R"({"wall_time_s":2.5,"zero":0.0,"energy":-5.070544443,"big":123456.75})");
  BOOST_TEST(serialize_json(json::value(0.001)) == "0.001");
}

BOOST_AUTO_TEST_CASE(a_double_stays_a_double_when_read_back) {
  for (double d : {3.0, -0.0, 1e21, 1e-7, 6.02214076e23, 2.5, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min()}) {
    const std::string text = serialize_json(json::value(d));
    BOOST_TEST(text.find('E') == std::string::npos, text);
    const json::value back = json::parse(text);
    BOOST_TEST_REQUIRE(back.is_double(), text);
    BOOST_TEST(back.get_double() == d, text);
    BOOST_TEST(std::signbit(back.get_double()) == std::signbit(d), text);
  }
  BOOST_TEST(serialize_json(json::value(3.0)) == "3.0");
  BOOST_TEST(serialize_json(json::value(1e-7)) == "1e-07");
}

BOOST_AUTO_TEST_CASE(integers_and_strings_are_left_as_they_are) {
  json::value v = json::parse(R"({"n":-12,"big":9007199254740993,"s":"7E0 \"5E1\" \\","t":["1E5","x\\\"2E2"],"u":18446744073709551615})");
  const std::string boost_text = json::serialize(v);
  BOOST_TEST(serialize_json(v) == boost_text);
  BOOST_TEST(with_plain_doubles(boost_text) == boost_text);
}

BOOST_AUTO_TEST_CASE(doubles_inside_arrays_and_beside_strings) {
  json::value v = json::parse(R"({"gradient":[[1.5e-3,-2.0],[0.0,1e300]],"name":"O 1E0","e":-1.25})");
  BOOST_TEST(serialize_json(v) == R"({"gradient":[[0.0015,-2.0],[0.0,1e+300]],"name":"O 1E0","e":-1.25})");
  BOOST_TEST(json::parse(serialize_json(v)) == v);
}

BOOST_AUTO_TEST_CASE(text_serialized_in_pieces_is_rewritten_too) {
  BOOST_TEST(with_plain_doubles(R"([1.5E0,{"a":2E-1}])") == R"([1.5,{"a":0.2}])");
  BOOST_TEST(with_plain_doubles("") == "");
  BOOST_TEST(with_plain_doubles("E") == "E");
}

// Many generated documents (doubles of every magnitude and sign beside integers, strings
// holding number-like text and escapes, nesting): each reads back as the same value as
// Boost.JSON's own text, and is that text wherever it had no double to rewrite.
BOOST_AUTO_TEST_CASE(generated_documents_read_back_equal) {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char* strings[] = {"1E5", "-2.5E-3\"", "x\\y", "E", "9E", "\"E1\"", "", "OH",
                           "tab\there\r\n", "\x01\x1f\b\f", "\u00e9 \u00fc /", "\x7f"};
  std::function<json::value(int)> make = [&](int depth) -> json::value {
    switch (next() % (depth > 2 ? 4 : 6)) {
      case 0: {
        const double mantissa = static_cast<double>(next() % 2000000) / 1000.0 - 1000.0;
        return json::value(std::ldexp(mantissa, static_cast<int>(next() % 120) - 60));
      }
      case 1:
        return json::value(static_cast<std::int64_t>(next() % 100000) - 50000);
      case 2:
        return json::value(strings[next() % std::size(strings)]);
      case 3:
        return json::value(static_cast<double>(next() % 7));
      case 4: {
        json::array a;
        for (std::uint64_t n = next() % 6; n > 0; --n) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (std::uint64_t n = next() % 5; n > 0; --n) o[strings[next() % std::size(strings)] + std::to_string(n)] = make(depth + 1);
        return o;
      }
    }
  };
  for (int round = 0; round < 2000; ++round) {
    const json::value original = make(0);
    const std::string text = serialize_json(original);
    const std::string boost_text = json::serialize(original);
    // Boost.JSON 1.81's parser may miss a double by an ulp (it is not correctly rounded), so
    // both texts go through it: the same value either way.
    BOOST_TEST_REQUIRE(json::parse(text) == json::parse(boost_text), text << "\n" << boost_text);
    if (boost_text.find('E') == std::string::npos) BOOST_TEST(text == boost_text);
    // Written directly, or Boost's text rewritten (large_json's pieces): the same bytes.
    BOOST_TEST(text == with_plain_doubles(boost_text));
  }
}

BOOST_AUTO_TEST_SUITE_END()
