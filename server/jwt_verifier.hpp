#pragma once
// JWT bearer tokens from a lab's identity provider (issue 8): HS256 with a shared secret, or
// RS256/ES256 against the public keys of a JWKS file. The signature is checked by libjwt; the
// JWK -> PEM conversion uses OpenSSL (both only in jwt_verifier.cpp). `exp` is required, `nbf`,
// `iss` and `aud` are checked, `sub` becomes the owner and `scope` (space-separated) the scopes.
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/identity.hpp"

namespace nox {

struct JwtOptions {
  std::string hs256_secret;  // empty: HS256 tokens are refused
  std::string jwks_json;     // empty: RS256/ES256 tokens are refused
  std::string issuer;        // set: `iss` must equal it
  std::string audience;      // set: `aud` (a string or an array) must contain it
  std::int64_t leeway_s = 30;  // clock skew allowed on exp and nbf
};

class JwtVerifier {
 public:
  JwtVerifier() = default;  // accepts no token
  // Parses the JWKS (RSA and EC P-256 keys); an error says which key is unusable and why.
  static std::variant<JwtVerifier, std::string> create(JwtOptions options);

  bool enabled() const { return !options_.hs256_secret.empty() || !keys_.empty(); }
  // The identity the token names, or why it is refused (a message for the 401).
  std::variant<Identity, std::string> verify(const std::string& token, TimeMs now) const;

 private:
  struct PublicKey {
    std::string kid;
    std::string algorithm;  // "RS256" | "ES256"
    std::string pem;        // SubjectPublicKeyInfo, what libjwt verifies with
  };
  JwtOptions options_;
  std::vector<PublicKey> keys_;
};

// True when `credential` has the shape of a JWT (three base64url parts), not of an API key.
bool looks_like_jwt(std::string_view credential);

}  // namespace nox
