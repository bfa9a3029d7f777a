// SHA-256 (core/sha256): the FIPS 180-2 test vectors, and hashing in pieces equals hashing whole.
#include <boost/test/unit_test.hpp>
#include <string>

#include "core/sha256.hpp"

BOOST_AUTO_TEST_SUITE(core_sha256)

BOOST_AUTO_TEST_CASE(known_vectors) {
  BOOST_TEST(nox::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(nox::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(nox::sha256_hex(std::string(1000000, 'a')) ==
             "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(pieces_hash_like_the_whole) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7919 % 256);
  nox::Sha256 hash;
  for (std::size_t at = 0; at < data.size(); at += 4093) hash.update(std::string_view(data).substr(at, 4093));
  BOOST_TEST(hash.hex_digest() == nox::sha256_hex(data));
  BOOST_TEST(nox::sha256_hex(std::string("\0\x01", 2)) != nox::sha256_hex(std::string("\0", 1)));
}

BOOST_AUTO_TEST_SUITE_END()
