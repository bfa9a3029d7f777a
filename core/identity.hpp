#pragma once
// Who sent a request, and what they may do. An identity comes from an API key (core/api_keys)
// or, in open mode (no keys configured: loopback only), is the anonymous administrator.
// Scopes (issue 8): compute:read (own jobs, results, files, streams), compute:write (submit,
// cancel, delete own jobs), admin (everyone's jobs, workers, metrics). admin implies both.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nox {

enum class Scope : std::uint8_t { none = 0, read = 1, write = 2, admin = 4 };
using Scopes = std::uint8_t;  // a set of Scope bits

constexpr Scopes scope_bit(Scope s) { return static_cast<Scopes>(s); }
constexpr Scopes all_scopes = scope_bit(Scope::read) | scope_bit(Scope::write) | scope_bit(Scope::admin);

// "compute:read,compute:write" -> bits; nullopt (and `error`) on an unknown name or an empty list.
std::optional<Scopes> parse_scopes(std::string_view text, std::string* error = nullptr);
// "compute:read,compute:write,admin" (in that order).
std::string scopes_text(Scopes scopes);
std::string_view scope_name(Scope scope);

// Per-identity bounds; 0 means no bound.
struct RateLimits {
  double requests_per_s = 0;     // every authenticated request
  double submissions_per_s = 0;  // jobs submitted (a batch counts each job)
  std::uint64_t max_streams = 0; // open SSE streams
  std::uint64_t max_queued = 0;  // unfinished (pending, running) jobs at once; 0: the server's max_queued_per_owner
};

// "20/s", "300/min", "5000/h" -> per second; nullopt when not of that shape or not positive.
std::optional<double> parse_rate(std::string_view text);
std::string rate_text(double per_second);

struct Identity {
  std::string name;    // owner of the jobs it submits; "" in open mode
  Scopes scopes = 0;
  RateLimits limits;
  bool open = false;   // open mode: no credentials configured, every caller is this identity

  bool has(Scope scope) const {
    return (scopes & scope_bit(Scope::admin)) != 0 || (scopes & scope_bit(scope)) != 0;
  }
  bool admin() const { return (scopes & scope_bit(Scope::admin)) != 0; }
  // Another owner's job must look absent (404), not forbidden: its existence is not told.
  bool sees_owner(std::string_view owner) const { return admin() || owner == name; }
  // The owner a list, a stream or a count is confined to; nullopt: everyone's (admin).
  std::optional<std::string> confined_to() const {
    if (admin()) return std::nullopt;
    return name;
  }
};

// The identity of open mode: anonymous, every scope.
Identity open_identity();

}  // namespace nox
