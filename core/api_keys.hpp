#pragma once
// API keys: the keys file holds one JSON record per line (name, scopes, limits, the SHA-256
// of the key, when it was made). The key itself is shown once, by `noxd keys add`, and never
// stored: a stolen keys file grants nothing. Keys are 32 random bytes, so a fast hash is
// enough (no password stretching is needed for a secret nobody chose).
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/identity.hpp"

namespace nox {

struct ApiKeyRecord {
  std::string name;  // the identity, owner of the jobs submitted with this key
  Scopes scopes = 0;
  RateLimits limits;
  std::string sha256;  // of the key, 64 lowercase hex digits
  TimeMs created_at = 0;
};

// Names become owners (job records, Redis index keys, logs): 1-64 of [A-Za-z0-9._@-].
bool is_valid_key_name(std::string_view name);

// "nox_" and 43 characters of URL-safe base64 (256 random bits).
std::string new_api_key();

// The file's text -> records; an error names the line and what is wrong with it. Blank lines
// and lines starting with '#' are skipped.
std::variant<std::vector<ApiKeyRecord>, std::string> parse_keys_file(std::string_view text);
// One line of the file (no newline).
std::string key_record_line(const ApiKeyRecord& record);

// The loaded keys, looked up by the key a request presents.
class KeyRing {
 public:
  KeyRing() = default;
  explicit KeyRing(std::vector<ApiKeyRecord> records) : records_(std::move(records)) {}

  // The record whose key this is, or null. Every record's hash is compared, each in constant
  // time, so the answer's timing tells nothing about which bytes matched.
  const ApiKeyRecord* find(std::string_view presented_key) const;
  const std::vector<ApiKeyRecord>& records() const { return records_; }

 private:
  // Keys found before, to their record's index: a key sent again skips the SHA-256 (~1 us, a
  // twentieth of a status read). Found by a hash of the key and then compared in constant
  // time; only keys that matched are kept, at most max_remembered (emptied whole beyond). A
  // reload or revocation makes a new KeyRing, so a revoked key is never remembered.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  static constexpr std::size_t max_remembered = 4096;

  std::vector<ApiKeyRecord> records_;
  mutable std::unordered_map<std::string, std::size_t, KeyHash, KeyEqual> remembered_;
};

}  // namespace nox
