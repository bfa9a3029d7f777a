#include "core/random.hpp"

#include "core/base64url.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nox {

// Drawn 4 KiB at a time per thread: one system call per 512 words.
std::uint64_t secure_random_word() {
  thread_local std::array<std::uint64_t, 512> pool;
  thread_local std::size_t left = 0;
  if (left == 0) {
    auto* bytes = reinterpret_cast<unsigned char*>(pool.data());
    std::size_t got = 0;
    while (got < sizeof(pool)) {
      const ssize_t n = ::getrandom(bytes + got, sizeof(pool) - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
      }
      got += static_cast<std::size_t>(n);
    }
    left = pool.size();
  }
  const std::uint64_t word = pool[--left];
  pool[left] = 0;  // a used word is not left in memory
  return word;
}

std::string secure_random_base64url(std::size_t count) {
  std::string bytes;
  while (bytes.size() < count) {
    const std::uint64_t word = secure_random_word();
    for (int i = 0; i < 8 && bytes.size() < count; ++i) bytes += static_cast<char>((word >> (8 * i)) & 0xff);
  }
  return base64url_encode(bytes);
}

std::string secure_random_hex() {
  static constexpr char digits[] = "0123456789abcdef";
  std::uint64_t word = secure_random_word();
  std::string hex(16, '0');
  for (char& c : hex) c = digits[word & 0xf], word >>= 4;
  return hex;
}

}  // namespace nox
