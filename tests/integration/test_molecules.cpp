// Molecules in every form through noxd: SMILES and SDF converted, identifiers stored, every
// calculation on one molecule found by its InChIKey on both stores, conversion errors as 422.
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

std::string spec_with_molecule(const std::string& engine, const std::string& task, const json::object& molecule,
                               const std::string& extra = "") {
  std::string body = R"({"engine":")" + engine + R"(","task":")" + task + R"(","molecule":)" + json::serialize(molecule);
  if (!extra.empty()) body += "," + extra;
  return body + "}";
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(NOX_FIXTURES_DIR) + "/molecules/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> ids_listed(HttpClient& client, const std::string& query) {
  std::set<std::string> ids;
  const auto page = client.get("/jobs?" + query).json();
  for (const auto& j : page.at("jobs").as_array()) ids.insert(std::string(j.at("job_id").as_string()));
  return ids;
}

// Ethanol by SMILES, water twice by xyz (two orders of atoms), one echo job on water.
void every_calculation_on_one_molecule_is_found_by_its_inchikey(HttpClient& client) {
  const auto ethanol = submit(client, spec_with_molecule("xtb", "optimize", {{"smiles", "CCO"}}));
  const auto water_a = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water")));
  const auto water_b = submit(client, job_spec_json("xtb", "energy", "3\nwater\nH 0 0.757 -0.467\nO 0 0 0.117\nH 0 -0.757 -0.467\n"));
  const auto echo = submit(client, job_spec_json("echo", "energy", molecule_xyz("water")));
  for (const auto& id : {ethanol, water_a, water_b, echo}) wait_until_finished(client, id);

  const auto job = client.get("/jobs/" + ethanol).json();
  BOOST_TEST_REQUIRE(json_string(job, "state") == "completed", json::serialize(job));
  const auto& molecule = job.at("spec").at("molecule");
  BOOST_TEST(molecule.at("from").at("format").as_string() == "smiles");
  BOOST_TEST(molecule.at("identifiers").at("inchikey").as_string() == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N");
  BOOST_TEST(molecule.at("identifiers").at("formula").as_string() == "C2H6O");
  // SMILES to an optimized ethanol with all 9 atoms.
  const std::string optimized(job.at("result").at("optimized_xyz").as_string());
  BOOST_TEST(optimized.rfind("9\n", 0) == 0u);

  BOOST_TEST(ids_listed(client, "inchikey=XLYOFNOQVPJJNP-UHFFFAOYSA-N") == (std::set<std::string>{water_a, water_b}));
  BOOST_TEST(ids_listed(client, "inchikey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N") == (std::set<std::string>{ethanol}));
  BOOST_TEST(ids_listed(client, "inchikey=LFQSCWFLJHTTHZ-UHFFFAOYSA-N&state=pending").empty());
  BOOST_TEST(client.get("/jobs?inchikey=X&tag=y").status == 400);
  // Removing a job takes it out of the index too.
  BOOST_TEST(client.request("DELETE", "/jobs/" + water_a).status == 204);
  BOOST_TEST(ids_listed(client, "inchikey=XLYOFNOQVPJJNP-UHFFFAOYSA-N") == (std::set<std::string>{water_b}));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(molecules)

BOOST_AUTO_TEST_CASE(inchikey_finds_every_calculation_in_memory) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
  every_calculation_on_one_molecule_is_found_by_its_inchikey(client);
}

BOOST_AUTO_TEST_CASE(inchikey_finds_every_calculation_on_redis) {
  RedisServer redis;
  NoxdProcess noxd{{"--slots", "2", "--redis-url", redis.url()}};
  HttpClient client{noxd.port()};
  every_calculation_on_one_molecule_is_found_by_its_inchikey(client);
}

BOOST_AUTO_TEST_CASE(charge_and_multiplicity_follow_the_structure_unless_given) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client{noxd.port()};
  const auto acetate = submit(client, spec_with_molecule("echo", "energy", {{"smiles", "CC(=O)[O-]"}}));
  const auto methyl = submit(client, spec_with_molecule("echo", "energy", {{"smiles", "[CH3]"}}));
  const auto forced = submit(client, spec_with_molecule("echo", "energy", {{"smiles", "[CH3]"}}, R"("multiplicity":4)"));
  auto spec_of = [&](const std::string& id) { return client.get("/jobs/" + id).json().at("spec"); };
  BOOST_TEST(spec_of(acetate).at("charge").as_int64() == -1);
  BOOST_TEST(spec_of(methyl).at("multiplicity").as_int64() == 2);
  BOOST_TEST(spec_of(forced).at("multiplicity").as_int64() == 4);
  // A given charge that cannot fit is refused after conversion, naming the field.
  const auto reply = client.post_json("/jobs", spec_with_molecule("echo", "energy", {{"smiles", "[CH3]"}}, R"("multiplicity":1)"));
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("\"multiplicity\"") != std::string::npos, reply.body);
}

BOOST_AUTO_TEST_CASE(sdf_record_runs_with_xtb) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client{noxd.port()};
  const auto id = submit(client, spec_with_molecule("xtb", "energy", {{"sdf", fixture("caffeine_2d.sdf")}}));
  const auto status = wait_until_finished(client, id);
  BOOST_TEST_REQUIRE(json_string(status, "state") == "completed", client.get("/jobs/" + id).body);
  const auto job = client.get("/jobs/" + id).json();
  BOOST_TEST(job.at("spec").at("molecule").at("identifiers").at("inchikey").as_string() == "RYYVLZVUVIJVGH-UHFFFAOYSA-N");
  BOOST_TEST(job.at("result").at("energy_eh").to_number<double>() < -40);
}

BOOST_AUTO_TEST_CASE(conversion_errors_say_why_and_where) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client{noxd.port()};
  auto refused = [&](const json::object& molecule, const std::string& field, const std::string& words) {
    const auto reply = client.post_json("/jobs", spec_with_molecule("xtb", "energy", molecule));
    BOOST_TEST(reply.status == 422);
    const auto body = reply.json();
    BOOST_TEST(body.at("error").at("code").as_string() == "invalid_spec");
    const auto& detail = body.at("error").at("details").as_array().at(0);
    BOOST_TEST(detail.at("field").as_string() == field);
    BOOST_TEST(std::string(detail.at("message").as_string()).find(words) != std::string::npos, reply.body);
  };
  refused({{"smiles", "c1ccccc1C1CC"}}, "molecule.smiles", "ring bond 1 opened at position 10 is never closed");
  refused({{"smiles", "CC(=O"}}, "molecule.smiles", "branch opened at position 3 is never closed");
  refused({{"smiles", "C1CCCCC1CC2CC"}}, "molecule.smiles", "ring bond 2 opened at position 11 is never closed");
  refused({{"smiles", "Xx"}}, "molecule.smiles", "not a valid SMILES");
  refused({{"smiles", "c1cccc1"}}, "molecule.smiles", "aromatic ring");
  refused({{"sdf", "not a molfile\n"}}, "molecule.sdf", "could not read it as sdf");
  // A batch names the spec that failed.
  const auto batch = client.post_json("/jobs/batch", "[" + spec_with_molecule("xtb", "energy", {{"smiles", "O"}}) + "," +
                                                         spec_with_molecule("xtb", "energy", {{"smiles", "C1CC"}}) + "]");
  BOOST_TEST(batch.status == 422);
  BOOST_TEST(batch.body.find("[1].molecule.smiles") != std::string::npos, batch.body);
}

BOOST_AUTO_TEST_SUITE_END()
