// API keys, scopes and rate limits (issue 8): the pure parts.
#include <boost/test/unit_test.hpp>
#include <set>

#include "core/api_keys.hpp"
#include "core/identity.hpp"
#include "core/sha256.hpp"
#include "core/token_bucket.hpp"

using namespace nox;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(api_keys_and_scopes)

BOOST_AUTO_TEST_CASE(scopes_parse_and_print) {
  BOOST_TEST(parse_scopes("compute:read,compute:write").value() ==
             (scope_bit(Scope::read) | scope_bit(Scope::write)));
  BOOST_TEST(parse_scopes(" admin ").value() == scope_bit(Scope::admin));
  std::string why;
  BOOST_TEST(!parse_scopes("compute:read,root", &why));
  BOOST_TEST(why.find("unknown scope 'root'") != std::string::npos);
  BOOST_TEST(!parse_scopes("", &why));
  BOOST_TEST(scopes_text(all_scopes) == "compute:read,compute:write,admin");
}

BOOST_AUTO_TEST_CASE(admin_implies_every_scope_and_sees_every_owner) {
  Identity reader;
  reader.name = "alice";
  reader.scopes = scope_bit(Scope::read);
  BOOST_TEST(reader.has(Scope::read));
  BOOST_TEST(!reader.has(Scope::write));
  BOOST_TEST(!reader.has(Scope::admin));
  BOOST_TEST(reader.sees_owner("alice"));
  BOOST_TEST(!reader.sees_owner("bob"));
  BOOST_TEST(!reader.sees_owner(""));  // open mode's jobs are not hers
  BOOST_TEST(reader.confined_to().value() == "alice");
  Identity admin;
  admin.name = "root";
  admin.scopes = scope_bit(Scope::admin);
  BOOST_TEST(admin.has(Scope::write));
  BOOST_TEST(admin.sees_owner("bob"));
  BOOST_TEST(!admin.confined_to());
  BOOST_TEST(open_identity().admin());
  BOOST_TEST(Identity{}.has(Scope::read) == false);  // anonymous on a public route
}

BOOST_AUTO_TEST_CASE(rates_parse_per_second) {
  BOOST_TEST(parse_rate("20/s").value() == 20.0);
  BOOST_TEST(parse_rate("120/min").value() == 2.0);
  BOOST_TEST(parse_rate("3600/h").value() == 1.0);
  BOOST_TEST(!parse_rate("20"));
  BOOST_TEST(!parse_rate("0/s"));
  BOOST_TEST(!parse_rate("-1/s"));
  BOOST_TEST(!parse_rate("5/day"));
  BOOST_TEST(rate_text(20) == "20/s");
  BOOST_TEST(rate_text(0.5) == "30/min");
}

BOOST_AUTO_TEST_CASE(new_keys_are_random_and_url_safe) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = new_api_key();
    BOOST_TEST_REQUIRE(key.size() == 4u + 43u);
    BOOST_TEST(key.starts_with("nox_"));
    for (char c : key.substr(4))
      BOOST_TEST(((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'));
    seen.insert(key);
  }
  BOOST_TEST(seen.size() == 200u);
}

BOOST_AUTO_TEST_CASE(the_keys_file_keeps_hashes_and_round_trips) {
  ApiKeyRecord record;
  record.name = "alice";
  record.scopes = scope_bit(Scope::read) | scope_bit(Scope::write);
  record.limits.requests_per_s = 20;
  record.limits.max_streams = 4;
  record.limits.max_queued = 500;
  record.sha256 = sha256_hex("nox_secret");
  record.created_at = 1796059732400;
  const std::string line = key_record_line(record);
  BOOST_TEST(line.find("nox_secret") == std::string::npos);  // the key itself is never written
  auto parsed = parse_keys_file("# comment\n\n" + line + "\n");
  BOOST_TEST_REQUIRE(std::holds_alternative<std::vector<ApiKeyRecord>>(parsed));
  const auto& records = std::get<std::vector<ApiKeyRecord>>(parsed);
  BOOST_TEST_REQUIRE(records.size() == 1u);
  BOOST_TEST(records[0].name == "alice");
  BOOST_TEST(records[0].scopes == record.scopes);
  BOOST_TEST(records[0].limits.requests_per_s == 20.0);
  BOOST_TEST(records[0].limits.max_streams == 4u);
  BOOST_TEST(records[0].limits.max_queued == 500u);
  BOOST_TEST(records[0].created_at == record.created_at);
}

BOOST_AUTO_TEST_CASE(a_bad_keys_file_names_the_line) {
  auto error = [](std::string_view text) {
    auto parsed = parse_keys_file(text);
    return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : std::string();
  };
  const std::string hash = sha256_hex("k");
  BOOST_TEST(error("{\"name\":\"a\"}").starts_with("line 1: "));
  BOOST_TEST(error("\nnot json").starts_with("line 2: not a JSON object"));
  BOOST_TEST(error("{\"name\":\"a b\",\"scopes\":\"admin\",\"sha256\":\"" + hash + "\"}").find("\"name\"") !=
             std::string::npos);
  BOOST_TEST(error("{\"name\":\"a\",\"scopes\":\"root\",\"sha256\":\"" + hash + "\"}").find("unknown scope") !=
             std::string::npos);
  BOOST_TEST(error("{\"name\":\"a\",\"scopes\":\"admin\",\"sha256\":\"abc\"}").find("sha256") != std::string::npos);
  const std::string one = "{\"name\":\"a\",\"scopes\":\"admin\",\"sha256\":\"" + hash + "\"}\n";
  BOOST_TEST(error(one + one).find("line 2: a second key named a") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_ring_finds_only_the_right_key) {
  ApiKeyRecord a, b;
  a.name = "alice";
  a.sha256 = sha256_hex("nox_a");
  b.name = "bob";
  b.sha256 = sha256_hex("nox_b");
  KeyRing ring({a, b});
  BOOST_TEST(ring.find("nox_a")->name == "alice");
  BOOST_TEST(ring.find("nox_b")->name == "bob");
  BOOST_TEST(!ring.find("nox_c"));
  BOOST_TEST(!ring.find(""));
  BOOST_TEST(!ring.find(a.sha256));  // the stored hash is not a key
  BOOST_TEST(equal_in_constant_time("abc", "abc"));
  BOOST_TEST(!equal_in_constant_time("abc", "abd"));
  BOOST_TEST(!equal_in_constant_time("abc", "ab"));
}

BOOST_AUTO_TEST_CASE(token_buckets_allow_a_burst_then_the_rate) {
  TokenBuckets buckets;
  const auto t0 = TokenBuckets::Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) BOOST_TEST(buckets.take("a", 5, 1, t0).count() == 0);
  const auto wait = buckets.take("a", 5, 1, t0);
  BOOST_TEST(wait.count() == 200);  // one token at 5/s
  BOOST_TEST(buckets.take("b", 5, 1, t0).count() == 0);  // buckets are per identity
  BOOST_TEST(buckets.take("a", 5, 1, t0 + 200ms).count() == 0);
  BOOST_TEST(buckets.take("a", 5, 1, t0 + 200ms).count() > 0);
  // A batch bigger than the burst goes through from a full bucket and leaves it in debt.
  BOOST_TEST(buckets.take("c", 2, 10, t0).count() == 0);
  BOOST_TEST(buckets.take("c", 2, 1, t0 + 1s).count() > 0);
  BOOST_TEST(buckets.take("z", 0, 1000, t0).count() == 0);  // no limit
  buckets.forget_idle(t0 + 1h);  // refilled buckets are forgotten; a fresh one is full
  for (int i = 0; i < 5; ++i) BOOST_TEST(buckets.take("a", 5, 1, t0 + 1h).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
