#pragma once
// SHA-256 of bytes (OpenSSL libcrypto), as lowercase hex: an artifact's identity and ETag,
// an API key's stored form.
#include <memory>
#include <string>
#include <string_view>

namespace nox {

// Incremental hashing, for data that arrives in pieces (a file read in chunks).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // The digest of everything updated so far, 64 lowercase hex digits. Ends this hash.
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// Compares secrets (or their digests) in time that depends on the length only (CRYPTO_memcmp).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace nox
