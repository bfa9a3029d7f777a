// The memory store's packed job records: every part survives, finished records shrink.
#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "storage/packed_record.hpp"

using nox::RecordParts;

namespace {

RecordParts sample() {
  RecordParts p;
  p.spec = R"({"engine":"echo","molecule":{"xyz":"3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}})";
  p.summary = R"({"engine":"echo","formula":"H2O"})";
  p.result = R"({"echo":)" + p.spec + "}";
  p.error = "";
  p.progress = std::string(200, 'x');  // a part longer than 127 bytes: a two-byte length
  p.worker_id = "host-1234-abcdef";
  p.owner = "alice";
  return p;
}

void check_equal(const RecordParts& a, const RecordParts& b) {
  BOOST_TEST(a.spec == b.spec);
  BOOST_TEST(a.summary == b.summary);
  BOOST_TEST(a.result == b.result);
  BOOST_TEST(a.error == b.error);
  BOOST_TEST(a.progress == b.progress);
  BOOST_TEST(a.worker_id == b.worker_id);
  BOOST_TEST(a.owner == b.owner);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packed_record)

BOOST_AUTO_TEST_CASE(round_trips_plain_and_compressed) {
  const RecordParts parts = sample();
  check_equal(nox::unpack_record(nox::pack_record(parts, false)), parts);
  check_equal(nox::unpack_record(nox::pack_record(parts, true)), parts);
  check_equal(nox::unpack_record(nox::pack_record(RecordParts{}, true)), RecordParts{});
}

BOOST_AUTO_TEST_CASE(a_finished_record_is_smaller) {
  const RecordParts parts = sample();
  const std::string plain = nox::pack_record(parts, false);
  const std::string packed = nox::pack_record(parts, true);
  BOOST_TEST(packed.size() < plain.size() / 2, packed.size() << " of " << plain.size());
}

BOOST_AUTO_TEST_CASE(foreign_bytes_are_refused) {
  BOOST_CHECK_THROW(nox::unpack_record(""), std::runtime_error);
  BOOST_CHECK_THROW(nox::unpack_record("Q123"), std::runtime_error);
  BOOST_CHECK_THROW(nox::unpack_record("P\x05" "ab"), std::runtime_error);
  BOOST_CHECK_THROW(nox::unpack_record("Zgarbage"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
