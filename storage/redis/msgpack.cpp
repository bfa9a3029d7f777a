#include "storage/redis/msgpack.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace nox::msgpack {

void Writer::be(std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Writer::header(unsigned char fix_base, std::size_t fix_max, unsigned char c16, unsigned char c32,
                    std::size_t n) {
  if (n <= fix_max) {
    out_.push_back(static_cast<char>(fix_base | n));
  } else if (n <= 0xffff) {
    out_.push_back(static_cast<char>(c16));
    be(n, 2);
  } else {
    out_.push_back(static_cast<char>(c32));
    be(n, 4);
  }
}

void Writer::map(std::size_t entries) { header(0x80, 15, 0xde, 0xdf, entries); }
void Writer::array(std::size_t items) { header(0x90, 15, 0xdc, 0xdd, items); }

void Writer::text(std::string_view s) {
  if (s.size() <= 31) {
    out_.push_back(static_cast<char>(0xa0 | s.size()));
  } else if (s.size() <= 0xff) {
    out_.push_back(static_cast<char>(0xd9));
    be(s.size(), 1);
  } else if (s.size() <= 0xffff) {
    out_.push_back(static_cast<char>(0xda));
    be(s.size(), 2);
  } else {
    out_.push_back(static_cast<char>(0xdb));
    be(s.size(), 4);
  }
  out_.append(s);
}

void Writer::integer(std::int64_t n) {
  if (n >= 0) {
    const auto u = static_cast<std::uint64_t>(n);
    if (u <= 0x7f) {
      out_.push_back(static_cast<char>(u));
    } else if (u <= 0xff) {
      out_.push_back(static_cast<char>(0xcc)), be(u, 1);
    } else if (u <= 0xffff) {
      out_.push_back(static_cast<char>(0xcd)), be(u, 2);
    } else if (u <= 0xffffffff) {
      out_.push_back(static_cast<char>(0xce)), be(u, 4);
    } else {
      out_.push_back(static_cast<char>(0xcf)), be(u, 8);
    }
  } else if (n >= -32) {
    out_.push_back(static_cast<char>(n));
  } else if (n >= -128) {
    out_.push_back(static_cast<char>(0xd0)), be(static_cast<std::uint64_t>(n), 1);
  } else if (n >= -32768) {
    out_.push_back(static_cast<char>(0xd1)), be(static_cast<std::uint64_t>(n), 2);
  } else if (n >= INT32_MIN) {
    out_.push_back(static_cast<char>(0xd2)), be(static_cast<std::uint64_t>(n), 4);
  } else {
    out_.push_back(static_cast<char>(0xd3)), be(static_cast<std::uint64_t>(n), 8);
  }
}

unsigned char Reader::byte() {
  if (in_.empty()) throw Error("msgpack: truncated");
  const auto b = static_cast<unsigned char>(in_.front());
  in_.remove_prefix(1);
  return b;
}

std::uint64_t Reader::be(int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | byte();
  return v;
}

std::string_view Reader::take(std::size_t n) {
  if (n > in_.size()) throw Error("msgpack: truncated");
  std::string_view s = in_.substr(0, n);
  in_.remove_prefix(n);
  return s;
}

Reader::Kind Reader::peek() const {
  if (in_.empty()) throw Error("msgpack: truncated");
  const auto b = static_cast<unsigned char>(in_.front());
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return Kind::integer;
  if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) return Kind::map;
  if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) return Kind::array;
  if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb) || (b >= 0xc4 && b <= 0xc6)) return Kind::text;
  if (b == 0xc0) return Kind::nil;
  if (b == 0xc2 || b == 0xc3) return Kind::boolean;
  if (b == 0xca || b == 0xcb) return Kind::number;
  throw Error("msgpack: unsupported type byte " + std::to_string(b));
}

std::size_t Reader::header(unsigned char fix_base, unsigned char c16, unsigned char c32, const char* kind) {
  const unsigned char b = byte();
  if ((b & 0xf0) == fix_base) return b & 0x0f;
  if (b == c16) return be(2);
  if (b == c32) return be(4);
  throw Error(std::string("msgpack: not ") + kind);
}

std::size_t Reader::map() { return header(0x80, 0xde, 0xdf, "a map"); }
std::size_t Reader::array() { return header(0x90, 0xdc, 0xdd, "an array"); }

std::string_view Reader::text() {
  const unsigned char b = byte();
  if ((b & 0xe0) == 0xa0) return take(b & 0x1f);
  if (b == 0xd9 || b == 0xc4) return take(be(1));
  if (b == 0xda || b == 0xc5) return take(be(2));
  if (b == 0xdb || b == 0xc6) return take(be(4));
  throw Error("msgpack: not a string");
}

std::int64_t Reader::integer() {
  const unsigned char b = byte();
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return static_cast<std::int8_t>(b);
  switch (b) {
    case 0xcc: return static_cast<std::int64_t>(be(1));
    case 0xcd: return static_cast<std::int64_t>(be(2));
    case 0xce: return static_cast<std::int64_t>(be(4));
    case 0xcf: return static_cast<std::int64_t>(be(8));
    case 0xd0: return static_cast<std::int8_t>(be(1));
    case 0xd1: return static_cast<std::int16_t>(be(2));
    case 0xd2: return static_cast<std::int32_t>(be(4));
    case 0xd3: return static_cast<std::int64_t>(be(8));
    case 0xca: {
      const float f = std::bit_cast<float>(static_cast<std::uint32_t>(be(4)));
      if (std::trunc(f) != f || std::fabs(f) > 9e18f) throw Error("msgpack: not a whole number");
      return static_cast<std::int64_t>(f);
    }
    case 0xcb: {
      const double d = std::bit_cast<double>(be(8));
      if (std::trunc(d) != d || std::fabs(d) > 9e18) throw Error("msgpack: not a whole number");
      return static_cast<std::int64_t>(d);
    }
    default: throw Error("msgpack: not an integer");
  }
}

void Reader::nil() {
  if (byte() != 0xc0) throw Error("msgpack: not nil");
}

void Reader::skip() {
  switch (peek()) {
    case Kind::nil:
    case Kind::boolean: byte(); return;
    case Kind::integer:
    case Kind::number: {
      const unsigned char b = byte();
      static constexpr int widths[] = {1, 2, 4, 8, 1, 2, 4, 8};  // 0xcc..0xd3
      if (b == 0xca) take(4);
      else if (b == 0xcb) take(8);
      else if (b >= 0xcc && b <= 0xd3) take(static_cast<std::size_t>(widths[b - 0xcc]));
      return;
    }
    case Kind::text: text(); return;
    case Kind::array: {
      for (std::size_t n = array(); n > 0; --n) skip();
      return;
    }
    case Kind::map: {
      for (std::size_t n = map(); n > 0; --n) skip(), skip();
      return;
    }
  }
}

}  // namespace nox::msgpack
