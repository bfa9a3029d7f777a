#include "server/large_json.hpp"

#include "core/json_serialize.hpp"
#include "server/loop_turns.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/stream_parser.hpp>
#include <memory>

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Small pieces (~60 µs of work each), between which the work takes turns with the rest of the
// loop (server/loop_turns.hpp). With 128 KB pieces (~1 ms each), yielding after every one, a
// status read took ~9 ms during a 10,000-job batch.
constexpr std::size_t parse_piece_bytes = 8 * 1024;
constexpr std::size_t serialize_piece_bytes = 16 * 1024;

}  // namespace

json::storage_ptr arena() { return json::make_shared_resource<json::monotonic_resource>(); }

asio::awaitable<ParsedJson> parse_yielding(std::string_view text, json::storage_ptr storage) {
  ParsedJson out;
  json::stream_parser parser;
  parser.reset(std::move(storage));
  while (out.consumed < text.size()) {
    const std::size_t piece = std::min(parse_piece_bytes, text.size() - out.consumed);
    out.consumed += parser.write(text.data() + out.consumed, piece, out.error);
    if (out.error) co_return out;
    if (out.consumed < text.size()) co_await take_turn();
  }
  parser.finish(out.error);
  if (!out.error) {
    // Constructed in place, not assigned: an assignment keeps the target's (default) storage
    // and so copied the whole tree out of the arena, 10,000 specs in one go (a 16 ms stall
    // of the loop, and the arena's gain lost).
    std::destroy_at(&out.value);
    std::construct_at(&out.value, parser.release());
  }
  co_return out;
}

asio::awaitable<std::string> serialize_yielding(const json::value& value, std::size_t expected_size) {
  json::serializer serializer;
  serializer.reset(&value);
  std::string out;
  out.reserve(expected_size);
  while (!serializer.done()) {
    const std::size_t size = out.size();
    out.resize(size + serialize_piece_bytes);
    out.resize(size + serializer.read(out.data() + size, serialize_piece_bytes).size());
    if (!serializer.done()) co_await take_turn();
  }
  co_return with_plain_doubles(std::move(out));
}

asio::awaitable<void> release_yielding(json::value& value) {
  if (json::array* array = value.if_array()) {
    co_await release_taking_turns(*array);  // an element: one job's spec or answer, a few dozen nodes
  } else if (json::object* object = value.if_object()) {
    for (auto& member : *object) co_await release_yielding(member.value());
  }
  value = nullptr;
}

}  // namespace nox
