// Big request bodies (server/large_json.hpp): parsed in pieces into an arena, serialized in pieces.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "server/large_json.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

nox::ParsedJson parse(const std::string& text, json::storage_ptr storage) {
  asio::io_context ioc;
  auto done = asio::co_spawn(ioc, nox::parse_yielding(text, std::move(storage)), asio::use_future);
  ioc.run();
  return done.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(large_json)

// The parsed tree stays in the storage it was parsed into. It used to be assigned to a value of
// the default storage, which copied the whole tree: a 10,000-job batch held the loop 16 ms
// (a probe's p99 during the batch 63 ms against a goal of 5; bench/RESULTS.md run 18).
BOOST_AUTO_TEST_CASE(a_body_parsed_in_pieces_stays_in_its_arena) {
  std::string text = "[";
  for (int i = 0; i < 20000; ++i) {
    if (i) text += ',';
    text += R"({"engine":"echo","task":"energy","molecule":{"xyz":"1\n\nH 0 0 0\n"},"tags":["t)" + std::to_string(i) + "\"]}";
  }
  text += ']';
  BOOST_TEST_REQUIRE(text.size() > 256 * 1024u);  // several pieces
  const json::storage_ptr arena = nox::arena();
  nox::ParsedJson parsed = parse(text, arena);
  BOOST_TEST_REQUIRE(!parsed.error);
  BOOST_TEST(parsed.consumed == text.size());
  BOOST_TEST(parsed.value.storage().get() == arena.get());
  const json::array& specs = parsed.value.as_array();
  BOOST_TEST(specs.size() == 20000u);
  BOOST_TEST(specs[19999].as_object().storage().get() == arena.get());
  BOOST_TEST(specs[19999].at("tags").at(0) == json::value("t19999"));

  nox::ParsedJson bad = parse(text.substr(0, text.size() - 1) + "}", nox::arena());
  BOOST_TEST(static_cast<bool>(bad.error));
}

BOOST_AUTO_TEST_SUITE_END()
