#include "core/job_id.hpp"

#include <cstdint>

#include "core/random.hpp"
#include "core/sha256.hpp"

namespace nox {

std::string new_job_id() {
  std::uint64_t hi = secure_random_word();
  std::uint64_t lo = secure_random_word();
  // RFC 9562 UUIDv4: version nibble 4 (byte 6 high nibble), variant bits 10 (byte 8 top bits).
  hi = (hi & ~0x0000'0000'0000'F000ULL) | 0x0000'0000'0000'4000ULL;
  lo = (lo & ~0xC000'0000'0000'0000ULL) | 0x8000'0000'0000'0000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[15 - i] = kHex[(hi >> (4 * i)) & 0xF];
    id[31 - i] = kHex[(lo >> (4 * i)) & 0xF];
  }
  return id;
}

std::string job_id_for(std::string_view seed) {
  std::string id = sha256_hex(seed).substr(0, 32);
  id[12] = '4';                                                             // version 4
  id[16] = "89ab"[(id[16] >= 'a' ? id[16] - 'a' + 10 : id[16] - '0') & 3];  // variant 10
  return id;
}

// Only the shape is checked (not the version/variant bits): ids are opaque to clients, and a
// store may hold ids made another way (tests, imports) that are still safe as keys and paths.
bool is_valid_job_id(std::string_view text) {
  if (text.size() != 32) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace nox
