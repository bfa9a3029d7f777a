// The calculation hash: equal for what computes the same numbers, different for anything that
// changes them (issue 9: engine and version, task, method, keywords, charge, multiplicity,
// solvent, outputs, geometry with atom order, coordinates rounded to 1e-5 Angstrom).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <variant>

#include "core/calculation_hash.hpp"
#include "core/job_spec.hpp"

namespace json = boost::json;

namespace {

nox::JobSpec spec_of(std::string_view extra_json, std::string_view xyz = "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n") {
  json::object o{{"engine", "xtb"}, {"molecule", json::object{{"xyz", xyz}}}};
  const json::value extra = json::parse(extra_json);
  for (const auto& [k, v] : extra.as_object()) o[k] = v;
  auto parsed = nox::parse_job_spec(o);
  BOOST_TEST_REQUIRE(std::holds_alternative<nox::JobSpec>(parsed), "spec " << extra_json << " did not parse");
  return std::get<nox::JobSpec>(std::move(parsed));
}

std::string hash_of(std::string_view extra_json, std::string_view version = "6.5.1") {
  return nox::calculation_hash(spec_of(extra_json), version);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(calculation_hash)

BOOST_AUTO_TEST_CASE(is_64_hex_digits_and_stable) {
  const std::string h = hash_of("{}");
  BOOST_TEST(h.size() == 64u);
  BOOST_TEST(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(hash_of("{}") == h);
}

BOOST_AUTO_TEST_CASE(what_does_not_change_the_numbers_is_left_out) {
  const std::string h = hash_of("{}");
  BOOST_TEST(hash_of(R"({"name":"mine","tags":["a"],"labels":{"k":"v"},"priority":5})") == h);
  BOOST_TEST(hash_of(R"({"timeout_s":10,"max_attempts":3,"threads":2,"cache":false})") == h);
  // Keywords and outputs are sets: the order a client writes them in changes nothing.
  BOOST_TEST(hash_of(R"({"keywords":{"accuracy":0.5,"max_iterations":300}})") ==
             hash_of(R"({"keywords":{"max_iterations":300,"accuracy":0.5}})"));
  BOOST_TEST(hash_of(R"({"outputs":["molden","wbo"]})") == hash_of(R"({"outputs":["wbo","molden"]})"));
  // Spelling the same value differently: upper-case method, 1 vs 1.0.
  BOOST_TEST(hash_of(R"({"method":"GFN2"})") == h);
  BOOST_TEST(hash_of(R"({"keywords":{"accuracy":1}})") == hash_of(R"({"keywords":{"accuracy":1.0}})"));
}

BOOST_AUTO_TEST_CASE(every_input_of_the_result_changes_it) {
  const std::string h = hash_of("{}");
  BOOST_TEST(hash_of("{}", "6.6.0") != h);
  BOOST_TEST(hash_of(R"({"task":"optimize"})") != h);
  BOOST_TEST(hash_of(R"({"method":"gfn1"})") != h);
  BOOST_TEST(hash_of(R"({"keywords":{"accuracy":0.5}})") != h);
  BOOST_TEST(hash_of(R"({"charge":2,"multiplicity":1})") != h);
  BOOST_TEST(hash_of(R"({"charge":1,"multiplicity":2})") != hash_of(R"({"charge":-1,"multiplicity":2})"));
  BOOST_TEST(hash_of(R"({"solvent":{"model":"alpb","name":"water"}})") != h);
  BOOST_TEST(hash_of(R"({"solvent":{"model":"alpb","name":"water"}})") !=
             hash_of(R"({"solvent":{"model":"gbsa","name":"water"}})"));
  BOOST_TEST(hash_of(R"({"outputs":["molden"]})") != h);
  BOOST_TEST(nox::calculation_hash(spec_of(R"({"engine":"mopac","method":"pm7"})"), "6.5.1") != h);
}

BOOST_AUTO_TEST_CASE(geometry_is_rounded_to_1e_5_angstrom_with_atom_order_kept) {
  const std::string h = hash_of("{}");
  auto with_xyz = [](std::string_view xyz) { return nox::calculation_hash(spec_of("{}", xyz), "6.5.1"); };
  // Within rounding (and -0 is 0), the same geometry.
  BOOST_TEST(with_xyz("3\nother comment\nO 0.000001 -0.000004 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n") == h);
  BOOST_TEST(with_xyz("3\n\nO 0 0 0.1170000001\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n") == h);
  // 2e-5 Angstrom is another geometry; so is the same atoms in another order.
  BOOST_TEST(with_xyz("3\n\nO 0 0 0.11702\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n") != h);
  BOOST_TEST(with_xyz("3\n\nH 0 0.757 -0.467\nO 0 0 0.117\nH 0 -0.757 -0.467\n") != h);
}

BOOST_AUTO_TEST_CASE(keys_are_scoped_to_an_owner_unless_shared) {
  BOOST_TEST(nox::calculation_key("abc", "") == "abc");
  BOOST_TEST(nox::calculation_key("abc", "alice") == "abc/alice");
  BOOST_TEST(nox::calculation_key("abc", "alice") != nox::calculation_key("abc", "bob"));
}

BOOST_AUTO_TEST_CASE(the_spec_keeps_its_hash_and_cache_choice) {
  nox::JobSpec spec = spec_of(R"({"cache":false})");
  BOOST_TEST(!spec.cache);
  spec.calculation = nox::calculation_hash(spec, "6.5.1");
  const json::object stored = spec.to_json();
  BOOST_TEST(stored.at("cache") == json::value(false));
  BOOST_TEST(stored.at("calculation") == json::value(spec.calculation));
  auto again = nox::parse_job_spec(stored);
  BOOST_TEST_REQUIRE(std::holds_alternative<nox::JobSpec>(again));
  BOOST_TEST(std::get<nox::JobSpec>(again).calculation == spec.calculation);
  // A default spec stores neither (most jobs; every stored record would carry them).
  const json::object plain = spec_of("{}").to_json();
  BOOST_TEST(!plain.contains("cache"));
  BOOST_TEST(!plain.contains("calculation"));
  BOOST_TEST(std::holds_alternative<nox::FieldErrors>(nox::parse_job_spec(json::parse(
      R"({"engine":"xtb","molecule":{"xyz":"1\n\nHe 0 0 0\n"},"calculation":"nothex"})"))));
  BOOST_TEST(std::holds_alternative<nox::FieldErrors>(nox::parse_job_spec(json::parse(
      R"({"engine":"xtb","molecule":{"xyz":"1\n\nHe 0 0 0\n"},"cache":"yes"})"))));
}

BOOST_AUTO_TEST_SUITE_END()
