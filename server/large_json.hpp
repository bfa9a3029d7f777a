#pragma once
// JSON texts of megabytes (a batch of 10,000 specs, its answer) parsed and serialized in
// pieces, yielding to the event loop between them: each takes 10-50 ms in one go, which
// would hold up every other request on the one loop thread.
//
// Give such a value a monotonic arena (`arena()`): its ~200,000 nodes then cost no malloc and
// no free each. Freed one by one they cost 20-40 ms, and glibc sorted the freed chunks on the
// next allocations, stalling whatever ran next for another 10-15 ms.
#include <boost/asio/awaitable.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

namespace nox {

struct ParsedJson {
  boost::json::value value;
  boost::system::error_code error;  // set when `text` is not one JSON value
  std::size_t consumed = 0;         // bytes read before the error
};

// A shared monotonic resource: memory is given back all at once when the last value using it
// is destroyed (values copied out of it with the default storage do not keep it).
boost::json::storage_ptr arena();

// `text` parsed into a value allocated from `storage`.
boost::asio::awaitable<ParsedJson> parse_yielding(std::string_view text, boost::json::storage_ptr storage = {});
// `expected_size`: roughly how long the text will be. Growing the string as it fills copied
// it whole at each doubling (a megabyte and its fresh pages in one go).
boost::asio::awaitable<std::string> serialize_yielding(const boost::json::value& value, std::size_t expected_size = 0);
// Empties `value` (null after) an element of its arrays at a time. Even in an arena the tree
// is destroyed node by node (its storage is shared): a 10,000-job body held the loop ~2 ms.
boost::asio::awaitable<void> release_yielding(boost::json::value& value);

}  // namespace nox
