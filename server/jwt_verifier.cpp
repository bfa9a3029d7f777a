#include "server/jwt_verifier.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>

#include <cstdlib>

#include "core/base64url.hpp"

namespace nox {

namespace json = boost::json;

namespace {

struct Owned {
  OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* context = nullptr;
  EVP_PKEY* key = nullptr;
  BIO* bio = nullptr;
  std::vector<BIGNUM*> numbers;
  ~Owned() {
    BIO_free(bio);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    for (BIGNUM* n : numbers) BN_free(n);
  }
};

// A public key from its OpenSSL parameters, as PEM; nullopt when OpenSSL refuses them.
std::optional<std::string> pem_of(Owned& o, const char* type) {
  o.params = OSSL_PARAM_BLD_to_param(o.builder);
  o.context = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  if (!o.params || !o.context || EVP_PKEY_fromdata_init(o.context) <= 0 ||
      EVP_PKEY_fromdata(o.context, &o.key, EVP_PKEY_PUBLIC_KEY, o.params) <= 0)
    return std::nullopt;
  o.bio = BIO_new(BIO_s_mem());
  if (!o.bio || PEM_write_bio_PUBKEY(o.bio, o.key) != 1) return std::nullopt;
  char* data = nullptr;
  const long length = BIO_get_mem_data(o.bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::optional<std::string> text_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// One JWK -> (algorithm, PEM), or why it cannot be used.
std::variant<std::pair<std::string, std::string>, std::string> jwk_to_pem(const json::object& jwk) {
  const auto kty = text_field(jwk, "kty").value_or("");
  Owned o;
  if (kty == "RSA") {
    const auto n = base64url_decode(text_field(jwk, "n").value_or(""));
    const auto e = base64url_decode(text_field(jwk, "e").value_or(""));
    if (!n || !e || n->size() < 256) return std::string("an RSA key needs n (2048 bits or more) and e");
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr);
    o.numbers = {bn_n, bn_e};
    if (!bn_n || !bn_e || !OSSL_PARAM_BLD_push_BN(o.builder, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(o.builder, OSSL_PKEY_PARAM_RSA_E, bn_e))
      return std::string("OpenSSL refused the RSA numbers");
    auto pem = pem_of(o, "RSA");
    if (!pem) return std::string("OpenSSL refused the RSA key");
    return std::make_pair(std::string("RS256"), std::move(*pem));
  }
  if (kty == "EC") {
    if (text_field(jwk, "crv").value_or("") != "P-256") return std::string("only EC keys on P-256 (ES256) are supported");
    const auto x = base64url_decode(text_field(jwk, "x").value_or(""));
    const auto y = base64url_decode(text_field(jwk, "y").value_or(""));
    if (!x || !y || x->size() != 32 || y->size() != 32) return std::string("an EC P-256 key needs 32-byte x and y");
    std::string point = "\x04" + *x + *y;  // uncompressed
    if (!OSSL_PARAM_BLD_push_utf8_string(o.builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(o.builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
      return std::string("OpenSSL refused the EC point");
    auto pem = pem_of(o, "EC");
    if (!pem) return std::string("OpenSSL refused the EC key (is the point on P-256?)");
    return std::make_pair(std::string("ES256"), std::move(*pem));
  }
  return "key type '" + kty + "' is not supported (RSA or EC)";
}

struct Token {
  jwt_t* jwt = nullptr;
  ~Token() { jwt_free(jwt); }
};

// An owner name goes into logs and store keys as it is: printable, no quotes or backslashes.
bool usable_subject(std::string_view sub) {
  if (sub.empty() || sub.size() > 128) return false;
  for (const char c : sub)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

std::optional<std::int64_t> time_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (!v || !v->is_number()) return std::nullopt;
  return static_cast<std::int64_t>(v->to_number<double>());
}

}  // namespace

bool looks_like_jwt(std::string_view credential) {
  return credential.size() > 20 && credential.starts_with("eyJ") &&
         std::count(credential.begin(), credential.end(), '.') == 2;
}

std::variant<JwtVerifier, std::string> JwtVerifier::create(JwtOptions options) {
  JwtVerifier verifier;
  if (!options.jwks_json.empty()) {
    boost::system::error_code ec;
    json::value jwks = json::parse(options.jwks_json, ec);
    const json::value* keys = !ec && jwks.is_object() ? jwks.as_object().if_contains("keys") : nullptr;
    if (!keys || !keys->is_array()) return std::string("the JWKS is not a JSON object with a \"keys\" array");
    std::size_t index = 0;
    for (const json::value& key : keys->as_array()) {
      const std::string where = "JWKS key " + std::to_string(index++) + ": ";
      if (!key.is_object()) return where + "not an object";
      const json::object& jwk = key.as_object();
      if (auto use = text_field(jwk, "use"); use && *use != "sig") continue;  // encryption keys
      auto converted = jwk_to_pem(jwk);
      if (auto* error = std::get_if<std::string>(&converted)) return where + *error;
      auto& [algorithm, pem] = std::get<std::pair<std::string, std::string>>(converted);
      if (auto alg = text_field(jwk, "alg"); alg && *alg != algorithm)
        return where + "alg " + *alg + " does not fit the key (expected " + algorithm + ")";
      verifier.keys_.push_back({text_field(jwk, "kid").value_or(""), algorithm, std::move(pem)});
    }
    if (verifier.keys_.empty()) return std::string("the JWKS has no signing key");
  }
  verifier.options_ = std::move(options);
  return verifier;
}

std::variant<Identity, std::string> JwtVerifier::verify(const std::string& token, TimeMs now) const {
  if (!enabled()) return std::string("this server takes no bearer tokens, only API keys");
  // The header first, unverified, only to choose the key: the algorithm must be one this
  // server has a key for, so a token cannot pick another (no "none", no HS256 signed with a
  // public key).
  Token header;
  if (jwt_decode(&header.jwt, token.c_str(), nullptr, 0) != 0) return std::string("the token is malformed");
  // (Decoded without a key, libjwt reports the algorithm as none: read the header's own text.)
  const char* alg_header = jwt_get_header(header.jwt, "alg");
  const jwt_alg_t algorithm = alg_header ? jwt_str_alg(alg_header) : JWT_ALG_INVAL;
  const char* kid_header = jwt_get_header(header.jwt, "kid");
  const std::string kid = kid_header ? kid_header : "";
  std::string key;
  if (algorithm == JWT_ALG_HS256 && !options_.hs256_secret.empty()) {
    key = options_.hs256_secret;
  } else if (algorithm == JWT_ALG_RS256 || algorithm == JWT_ALG_ES256) {
    const std::string name = algorithm == JWT_ALG_RS256 ? "RS256" : "ES256";
    const PublicKey* chosen = nullptr;
    std::size_t candidates = 0;
    for (const auto& k : keys_) {
      if (k.algorithm != name || (!kid.empty() && k.kid != kid)) continue;
      chosen = &k;
      ++candidates;
    }
    if (!chosen) return "no key in the JWKS for this token (" + name + (kid.empty() ? "" : ", kid " + kid) + ")";
    if (candidates > 1) return std::string("the token names no kid and the JWKS has several keys for it");
    key = chosen->pem;
  } else {
    return "the token's algorithm " + std::string(alg_header ? alg_header : "(none given)") + " is not accepted here";
  }
  Token verified;
  if (jwt_decode(&verified.jwt, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 0 ||
      jwt_get_alg(verified.jwt) != algorithm)
    return std::string("the token's signature does not verify");

  char* claims_text = jwt_get_grants_json(verified.jwt, nullptr);
  if (!claims_text) return std::string("the token has no claims");
  boost::system::error_code ec;
  json::value claims_value = json::parse(claims_text, ec);
  std::free(claims_text);
  if (ec || !claims_value.is_object()) return std::string("the token's claims are not a JSON object");
  const json::object& claims = claims_value.as_object();
  const std::int64_t now_s = now / 1000;
  const auto exp = time_claim(claims, "exp");
  if (!exp) return std::string("the token has no exp");
  if (now_s > *exp + options_.leeway_s) return std::string("the token has expired");
  if (auto nbf = time_claim(claims, "nbf"); nbf && now_s + options_.leeway_s < *nbf)
    return std::string("the token is not valid yet (nbf)");
  if (!options_.issuer.empty() && text_field(claims, "iss").value_or("") != options_.issuer)
    return "the token's issuer is not " + options_.issuer;
  if (!options_.audience.empty()) {
    bool found = false;
    if (const json::value* aud = claims.if_contains("aud")) {
      if (aud->is_string()) found = aud->get_string() == options_.audience;
      if (aud->is_array())
        for (const json::value& a : aud->get_array()) found = found || (a.is_string() && a.get_string() == options_.audience);
    }
    if (!found) return "the token is not meant for " + options_.audience + " (aud)";
  }
  const auto sub = text_field(claims, "sub");
  if (!sub || !usable_subject(*sub)) return std::string("the token's sub is missing or not a usable owner name");
  Identity identity;
  identity.name = *sub;
  // `scope`: space-separated (RFC 8693); names this server does not know are ignored.
  if (const json::value* scope = claims.if_contains("scope"); scope && scope->is_string()) {
    std::string_view rest = scope->get_string();
    while (!rest.empty()) {
      const std::size_t space = rest.find(' ');
      const std::string_view item = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
      if (auto bits = parse_scopes(item)) identity.scopes |= *bits;
    }
  }
  if (identity.scopes == 0) return std::string("the token grants none of compute:read, compute:write, admin (scope)");
  return identity;
}

}  // namespace nox
