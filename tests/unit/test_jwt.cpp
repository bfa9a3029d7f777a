// JWT bearer tokens (issue 8): HS256 with a secret, RS256 and ES256 against a JWKS; exp, nbf,
// iss, aud; sub and scope; the algorithm cannot be chosen by the token.
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "core/base64url.hpp"
#include "server/jwt_verifier.hpp"

using namespace nox;

namespace {

constexpr TimeMs now = 1796059732000;  // ms
constexpr std::int64_t now_s = now / 1000;
const std::string secret = "0123456789abcdef0123456789abcdef-lab-secret";

std::string base64url(const std::string& bytes) { return base64url_encode(bytes); }

struct Claims {
  std::string sub = "alice";
  std::string scope = "compute:read compute:write";
  std::int64_t exp = now_s + 600;
  std::int64_t nbf = 0;
  std::string iss = "https://id.lab.example";
  std::string aud = "nox";
  std::string kid;
};

std::string sign(jwt_alg_t alg, const std::string& key, const Claims& c) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  if (!c.sub.empty()) jwt_add_grant(jwt, "sub", c.sub.c_str());
  if (!c.scope.empty()) jwt_add_grant(jwt, "scope", c.scope.c_str());
  if (c.exp) jwt_add_grant_int(jwt, "exp", c.exp);
  if (c.nbf) jwt_add_grant_int(jwt, "nbf", c.nbf);
  if (!c.iss.empty()) jwt_add_grant(jwt, "iss", c.iss.c_str());
  if (!c.aud.empty()) jwt_add_grant(jwt, "aud", c.aud.c_str());
  if (!c.kid.empty()) jwt_add_header(jwt, "kid", c.kid.c_str());
  jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
              alg == JWT_ALG_NONE ? 0 : static_cast<int>(key.size()));
  char* text = jwt_encode_str(jwt);
  std::string token = text ? text : "";
  std::free(text);
  jwt_free(jwt);
  return token;
}

// A key pair made here: its private PEM (to sign) and its JWK (to verify).
struct KeyPair {
  std::string private_pem;
  std::string jwk;
};

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return pem;
}

KeyPair rsa_pair(const std::string& kid) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIGNUM *n = nullptr, *e = nullptr;
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
  auto bytes = [](BIGNUM* bn) {
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    return out;
  };
  KeyPair pair{pem_of(key), "{\"kty\":\"RSA\",\"kid\":\"" + kid + "\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"" +
                                base64url(bytes(n)) + "\",\"e\":\"" + base64url(bytes(e)) + "\"}"};
  BN_free(n);
  BN_free(e);
  EVP_PKEY_free(key);
  return pair;
}

KeyPair ec_pair(const std::string& kid) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  unsigned char point[65];
  std::size_t length = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
  const std::string raw(reinterpret_cast<char*>(point) + 1, 64);
  KeyPair pair{pem_of(key), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"" + kid + "\",\"x\":\"" +
                                base64url(raw.substr(0, 32)) + "\",\"y\":\"" + base64url(raw.substr(32)) + "\"}"};
  EVP_PKEY_free(key);
  return pair;
}

JwtVerifier make(JwtOptions options) {
  auto created = JwtVerifier::create(std::move(options));
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<JwtVerifier>(created),
                        (std::holds_alternative<std::string>(created) ? std::get<std::string>(created) : ""));
  return std::get<JwtVerifier>(created);
}

std::string refusal(const JwtVerifier& verifier, const std::string& token) {
  auto result = verifier.verify(token, now);
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string("accepted");
}

JwtOptions hs256_options() {
  JwtOptions o;
  o.hs256_secret = secret;
  o.issuer = "https://id.lab.example";
  o.audience = "nox";
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jwt_tokens)

BOOST_AUTO_TEST_CASE(an_hs256_token_names_its_owner_and_scopes) {
  const JwtVerifier verifier = make(hs256_options());
  const std::string token = sign(JWT_ALG_HS256, secret, Claims{});
  BOOST_TEST(looks_like_jwt(token));
  BOOST_TEST(!looks_like_jwt("nox_" + std::string(43, 'A')));
  auto result = verifier.verify(token, now);
  BOOST_TEST_REQUIRE(std::holds_alternative<Identity>(result), refusal(verifier, token));
  const Identity& identity = std::get<Identity>(result);
  BOOST_TEST(identity.name == "alice");
  BOOST_TEST(identity.has(Scope::read));
  BOOST_TEST(identity.has(Scope::write));
  BOOST_TEST(!identity.admin());
}

BOOST_AUTO_TEST_CASE(expired_early_foreign_or_forged_tokens_are_refused) {
  const JwtVerifier verifier = make(hs256_options());
  Claims expired;
  expired.exp = now_s - 60;  // beyond the 30 s of leeway
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, expired)) == "the token has expired");
  Claims skewed;
  skewed.exp = now_s - 10;  // within it
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, skewed)) == "accepted");
  Claims early;
  early.nbf = now_s + 600;
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, early)).find("nbf") != std::string::npos);
  Claims no_exp;
  no_exp.exp = 0;
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, no_exp)) == "the token has no exp");
  Claims other_issuer;
  other_issuer.iss = "https://evil.example";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, other_issuer)).find("issuer") != std::string::npos);
  Claims other_audience;
  other_audience.aud = "another-service";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, other_audience)).find("aud") != std::string::npos);
  Claims no_sub;
  no_sub.sub = "";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, no_sub)).find("sub") != std::string::npos);
  Claims quoted_sub;
  quoted_sub.sub = "al\"ice";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, quoted_sub)).find("sub") != std::string::npos);
  Claims no_scope;
  no_scope.scope = "openid profile";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret, no_scope)).find("scope") != std::string::npos);
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, secret + "x", Claims{})) == "the token's signature does not verify");
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_NONE, "", Claims{})).find("not accepted") != std::string::npos);
  std::string tampered = sign(JWT_ALG_HS256, secret, Claims{});
  tampered[tampered.find('.') + 5] ^= 1;
  BOOST_TEST(refusal(verifier, tampered) != "accepted");
  BOOST_TEST(refusal(verifier, "eyJ.not.atoken") == "the token is malformed");
}

BOOST_AUTO_TEST_CASE(rs256_and_es256_tokens_verify_against_the_jwks) {
  const KeyPair rsa = rsa_pair("rsa-1");
  const KeyPair ec = ec_pair("ec-1");
  const KeyPair stranger = rsa_pair("rsa-1");  // same kid, another key
  JwtOptions options;
  options.jwks_json = "{\"keys\":[" + rsa.jwk + "," + ec.jwk + "]}";
  const JwtVerifier verifier = make(options);
  Claims c;
  c.scope = "admin";
  c.kid = "rsa-1";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_RS256, rsa.private_pem, c)) == "accepted");
  BOOST_TEST(std::get<Identity>(verifier.verify(sign(JWT_ALG_RS256, rsa.private_pem, c), now)).admin());
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_RS256, stranger.private_pem, c)) == "the token's signature does not verify");
  c.kid = "ec-1";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_ES256, ec.private_pem, c)) == "accepted");
  c.kid = "unknown";
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_ES256, ec.private_pem, c)).find("no key in the JWKS") != std::string::npos);
  c.kid = "";  // no kid: the one key of that type
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_ES256, ec.private_pem, c)) == "accepted");
  // Algorithm confusion: an HS256 token "signed" with the public key is not checked against it.
  BOOST_TEST(refusal(verifier, sign(JWT_ALG_HS256, rsa.jwk, c)).find("not accepted") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unusable_jwks_is_refused_at_start) {
  auto error = [](const std::string& jwks) {
    JwtOptions o;
    o.jwks_json = jwks;
    auto created = JwtVerifier::create(o);
    return std::holds_alternative<std::string>(created) ? std::get<std::string>(created) : std::string();
  };
  BOOST_TEST(error("[]").find("\"keys\"") != std::string::npos);
  BOOST_TEST(error("{\"keys\":[{\"kty\":\"oct\",\"k\":\"abc\"}]}").find("key 0") != std::string::npos);
  BOOST_TEST(error("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}").find("2048") != std::string::npos);
  BOOST_TEST(error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"\",\"y\":\"\"}]}").find("P-256") !=
             std::string::npos);
  BOOST_TEST(error("{\"keys\":[]}").find("no signing key") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
