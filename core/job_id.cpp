#include "core/job_id.hpp"

#include <cstdint>

#include "core/random.hpp"
#include "core/sha256.hpp"

namespace nox {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kShared = 24;             // hex digits a batch's jobs share with it
constexpr std::uint32_t kMemberBit = 0x80000000u;  // set in a batch's job, clear in a job alone
constexpr unsigned kPositionBits = 14;           // max_batch_size < 2^14

// 128 bits from the OS's CSPRNG, shaped as RFC 9562 UUIDv4.
std::string random_uuid4() {
  std::uint64_t hi = secure_random_word();
  std::uint64_t lo = secure_random_word();
  // RFC 9562 UUIDv4: version nibble 4 (byte 6 high nibble), variant bits 10 (byte 8 top bits).
  hi = (hi & ~0x0000'0000'0000'F000ULL) | 0x0000'0000'0000'4000ULL;
  lo = (lo & ~0xC000'0000'0000'0000ULL) | 0x8000'0000'0000'0000ULL;
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[15 - i] = kHex[(hi >> (4 * i)) & 0xF];
    id[31 - i] = kHex[(lo >> (4 * i)) & 0xF];
  }
  return id;
}

void write_hex8(std::string& id, std::uint32_t value) {
  for (int i = 0; i < 8; ++i) id[kShared + 7 - i] = kHex[(value >> (4 * i)) & 0xF];
}

std::optional<std::uint32_t> read_hex8(std::string_view id) {
  if (!is_valid_job_id(id)) return std::nullopt;
  std::uint32_t value = 0;
  for (std::size_t i = kShared; i < 32; ++i) {
    const char c = id[i];
    value = value << 4 | static_cast<std::uint32_t>(c >= 'a' ? c - 'a' + 10 : c - '0');
  }
  return value;
}

// A job alone never looks like a batch's job: its digit at index 24 is made 0-7.
std::string alone(std::string id) {
  const char c = id[kShared];
  const int nibble = (c >= 'a' ? c - 'a' + 10 : c - '0') & 7;
  id[kShared] = kHex[nibble];
  return id;
}

std::string with_size(std::string id, std::size_t size) {
  write_hex8(id, static_cast<std::uint32_t>(size));
  return id;
}

}  // namespace

std::string new_job_id() { return alone(random_uuid4()); }

std::string new_batch_id(std::size_t size) { return with_size(random_uuid4(), size); }

std::string batch_id_for(std::string_view seed, std::size_t size) { return with_size(job_id_for(seed), size); }

std::string batch_job_id(std::string_view batch_id, std::size_t position) {
  const std::size_t size = batch_size_of(batch_id).value_or(0);
  std::string id(batch_id);
  write_hex8(id, kMemberBit | static_cast<std::uint32_t>(size) << kPositionBits | static_cast<std::uint32_t>(position));
  return id;
}

std::optional<std::size_t> batch_size_of(std::string_view batch_id) {
  const auto value = read_hex8(batch_id);
  if (!value || *value == 0 || *value > max_batch_size) return std::nullopt;
  return *value;
}

std::optional<std::string> batch_of_job_id(std::string_view job_id) {
  const auto value = read_hex8(job_id);
  if (!value || !(*value & kMemberBit)) return std::nullopt;
  const std::size_t size = (*value & ~kMemberBit) >> kPositionBits;
  const std::size_t position = *value & ((1u << kPositionBits) - 1);
  if (size == 0 || size > max_batch_size || position >= size) return std::nullopt;
  return with_size(std::string(job_id), size);
}

std::string job_id_for(std::string_view seed) {
  std::string id = sha256_hex(seed).substr(0, 32);
  id[12] = '4';                                                             // version 4
  id[16] = "89ab"[(id[16] >= 'a' ? id[16] - 'a' + 10 : id[16] - '0') & 3];  // variant 10
  return alone(std::move(id));
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
