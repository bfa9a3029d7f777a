// MOPAC through noxd: results equal to mopac run by hand, its files kept, GET /engines, bad specs.
#include <cmath>
#include <fstream>
#include <regex>
#include <set>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

struct Server {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
};

// Runs mopac by hand, the way its manual shows (not Nox's input writer), and reads the heat of
// formation from the .out's "FINAL HEAT OF FORMATION" line: an independent reference.
double heat_of_formation_run_directly(const std::string& xyz_name) {
  TempDir dir("nox-mopac-direct-");
  std::ifstream in(std::string(NOX_FIXTURES_DIR) + "/molecules/" + xyz_name + ".xyz");
  std::size_t atoms = 0;
  std::string line;
  in >> atoms;
  std::getline(in, line);
  std::getline(in, line);
  std::ofstream mop(dir.path() / "direct.mop");
  mop << "PM7 1SCF\ndirect run\n\n";
  for (std::size_t i = 0; i < atoms && std::getline(in, line); ++i) {
    std::istringstream fields(line);
    std::string symbol;
    double x, y, z;
    fields >> symbol >> x >> y >> z;
    mop << symbol << " " << x << " 1 " << y << " 1 " << z << " 1\n";
  }
  mop.close();
  const auto run = run_command("cd " + dir.path().string() + " && mopac direct.mop >/dev/null 2>&1 && grep 'FINAL HEAT OF FORMATION' direct.out");
  const std::regex number("FORMATION\\s*=\\s*(-?[0-9.]+)\\s*KCAL/MOL");
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(run.out, m, number), "mopac by hand said: " << run.out);
  return std::stod(m[1]);
}

json::value completed_result(HttpClient& client, const std::string& id) {
  auto status = wait_until_finished(client, id);
  BOOST_REQUIRE_MESSAGE(json_string(status, "state") == "completed", client.get("/jobs/" + id).body);
  return client.get("/jobs/" + id + "/result").json().at("result");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mopac_engine)

BOOST_FIXTURE_TEST_CASE(pm7_heat_of_formation_equals_mopac_run_directly, Server) {
  for (const char* molecule : {"water", "decane"}) {
    BOOST_TEST_CONTEXT(molecule) {
      const auto id = submit(client, job_spec_json("mopac", "energy", molecule_xyz(molecule), "\"method\":\"pm7\""));
      const auto result = completed_result(client, id);
      const double direct = heat_of_formation_run_directly(molecule);
      BOOST_TEST(std::abs(result.at("heat_of_formation_kcal_mol").to_number<double>() - direct) < 0.01);
      BOOST_TEST(result.at("energy_eh").to_number<double>() < 0);
      BOOST_TEST(result.at("engine").at("name").as_string() == "mopac");
    }
  }
}

BOOST_FIXTURE_TEST_CASE(optimize_hessian_keeps_mopacs_files, Server) {
  const auto id = submit(client, job_spec_json("mopac", "optimize_hessian", molecule_xyz("water")));
  const auto result = completed_result(client, id);
  BOOST_TEST(result.at("optimization").at("converged").as_bool());
  BOOST_TEST(result.at("frequencies_cm1").as_array().size() == 3u);
  BOOST_TEST(result.at("imaginary_frequency_count").as_int64() == 0);
  BOOST_TEST(result.at("thermochemistry").at("temperature_k").to_number<double>() == 298.0);
  std::set<std::string> names;
  const auto listing = client.get("/jobs/" + id + "/artifacts").json();
  for (const auto& a : listing.at("artifacts").as_array()) names.insert(std::string(a.at("name").as_string()));
  for (const char* expected : {"mol.out", "mol.arc", "mol.aux", "mol.mop"}) BOOST_TEST(names.count(expected) == 1u, expected);
  const auto aux = client.get("/jobs/" + id + "/artifacts/mol.aux");
  BOOST_TEST(aux.status == 200);
  BOOST_TEST(aux.body.find("VIB._FREQ") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(cosmo_solvent_and_open_shell_run, Server) {
  const auto solvated = submit(client, job_spec_json("mopac", "energy", molecule_xyz("water"),
                                                     "\"solvent\":{\"model\":\"cosmo\",\"name\":\"water\"}"));
  const auto gas = submit(client, job_spec_json("mopac", "energy", molecule_xyz("water")));
  const double in_water = completed_result(client, solvated).at("heat_of_formation_kcal_mol").to_number<double>();
  const double in_gas = completed_result(client, gas).at("heat_of_formation_kcal_mol").to_number<double>();
  BOOST_TEST(in_water < in_gas - 3);  // water is stabilised by its own solvent
  const auto job = client.get("/jobs/" + solvated).json();
  BOOST_TEST(job.at("spec").at("solvent").at("dielectric").to_number<double>() == 78.3553);
}

// MOPAC exits 0 on everything; Nox must still tell the chemist it failed, and why.
BOOST_FIXTURE_TEST_CASE(element_without_parameters_fails_with_mopacs_reason, Server) {
  const std::string nacl = "2\nsodium chloride\nNa 0 0 0\nCl 0 0 2.4\n";
  const auto id = submit(client, job_spec_json("mopac", "energy", nacl, "\"method\":\"rm1\""));
  auto status = wait_until_finished(client, id);
  BOOST_TEST(json_string(status, "state") == "failed");
  const auto job = client.get("/jobs/" + id).json();
  BOOST_TEST(job.at("error").at("code").as_string() == "input_rejected");
  BOOST_TEST(std::string(job.at("error").at("message").as_string()).find("Sodium") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(specs_are_checked_against_the_engines_words, Server) {
  auto refused = [&](const std::string& extra, const std::string& field, const std::string& words) {
    auto reply = client.post_json("/jobs", job_spec_json("mopac", "energy", molecule_xyz("water"), extra));
    BOOST_TEST(reply.status == 422);
    BOOST_TEST(reply.body.find(field) != std::string::npos, reply.body);
    BOOST_TEST(reply.body.find(words) != std::string::npos, reply.body);
  };
  refused("\"method\":\"gfn2\"", "\"method\"", "pm7, pm6, pm6-d3h4, am1, rm1");
  refused("\"solvent\":{\"model\":\"alpb\",\"name\":\"water\"}", "solvent.model", "one of cosmo");
  refused("\"solvent\":{\"name\":\"seawater\"}", "solvent.name", "or give its dielectric constant");
  refused("\"outputs\":[\"molden\"]", "\"outputs\"", "mopac has no optional outputs");
  refused("\"keywords\":{\"opt_level\":\"tight\"}", "keywords.opt_level", "allowed: max_opt_cycles");
  refused("\"multiplicity\":11,\"charge\":-8", "multiplicity", "1 (singlet) to 9 (nonet)");
}

BOOST_FIXTURE_TEST_CASE(engines_lists_what_each_engine_takes, Server) {
  const auto reply = client.get("/engines");
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  const auto body = reply.json();
  std::map<std::string, json::object> by_name;
  for (const auto& e : body.at("engines").as_array()) by_name[std::string(e.at("name").as_string())] = e.as_object();
  BOOST_REQUIRE(by_name.count("xtb") && by_name.count("mopac") && by_name.count("echo"));
  const auto& mopac = by_name["mopac"];
  BOOST_TEST(mopac.at("available").as_bool());
  BOOST_TEST(mopac.at("version").as_string() == "22.0.6");
  BOOST_TEST(json::serialize(mopac.at("methods")) == R"(["pm7","pm6","pm6-d3h4","am1","rm1"])");
  const auto& cosmo = mopac.at("solvent_models").as_array().at(0);
  BOOST_TEST(cosmo.at("name").as_string() == "cosmo");
  BOOST_TEST(cosmo.at("takes_dielectric").as_bool());
  BOOST_TEST(json::serialize(cosmo.at("solvents_by_method").at("pm7")).find(R"({"name":"water","dielectric":7.83553E1})") !=
             std::string::npos);
  // xtb's gfn0 crashes with this build: the engine refuses it, so it is not offered.
  BOOST_TEST(json::serialize(by_name["xtb"].at("methods")) == R"(["gfn2","gfn1","gfnff"])");
  BOOST_TEST(by_name["xtb"].at("solvent_models").as_array().size() == 2u);
  BOOST_TEST(json::serialize(by_name["xtb"].at("outputs")) == R"(["molden","density_cube","spin_density_cube","wbo"])");
}

BOOST_AUTO_TEST_SUITE_END()
