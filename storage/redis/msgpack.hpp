#pragma once
// The subset of MessagePack that job records in Redis use: maps, arrays, strings, integers
// and nil. Redis's Lua has cmsgpack, so a record packed here is read and rewritten by the
// scripts with cmsgpack.unpack/pack, and what they pack is read back here. Strings are always
// written as MessagePack `str` (Lua has one string type; cmsgpack reads `bin` as well, but
// writes every string as `str`).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nox::msgpack {

class Writer {
 public:
  void map(std::size_t entries);
  void array(std::size_t items);
  void text(std::string_view s);
  void integer(std::int64_t n);
  void nil() { out_.push_back(static_cast<char>(0xc0)); }
  // A key and its value, for the common case.
  void entry(std::string_view key, std::string_view value) { text(key), text(value); }
  void entry(std::string_view key, std::int64_t value) { text(key), integer(value); }

  std::string& bytes() { return out_; }

 private:
  void header(unsigned char fix_base, std::size_t fix_max, unsigned char c16, unsigned char c32, std::size_t n);
  void be(std::uint64_t v, int bytes);
  std::string out_;
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads values one after the other; throws msgpack::Error on bytes it cannot read.
class Reader {
 public:
  enum class Kind { nil, boolean, integer, number, text, array, map };
  explicit Reader(std::string_view in) : in_(in) {}

  Kind peek() const;
  bool done() const { return in_.empty(); }
  std::size_t map();    // header: entries follow as key, value, key, value...
  std::size_t array();  // header: items follow
  std::string_view text();
  // Integers, and numbers that are whole (cmsgpack writes a Lua number that is not one as double).
  std::int64_t integer();
  void nil();
  void skip();  // any one value, nested ones included

 private:
  unsigned char byte();
  std::uint64_t be(int bytes);
  std::size_t header(unsigned char fix_base, unsigned char c16, unsigned char c32, const char* kind);
  std::string_view take(std::size_t n);
  std::string_view in_;
};

}  // namespace nox::msgpack
