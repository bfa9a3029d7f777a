// QCSchema through noxd: AtomicInput in, AtomicResult out, validated against MolSSI's JSON Schema
// documents (../shared/qcschema, draft-04) by ajv (tests/browser/qcschema-validate.mjs).
#include <cmath>
#include <fstream>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

const std::string schemas = std::string(NOX_SOURCE_DIR) + "/../shared/qcschema";

json::object water_input(const std::string& driver, const std::string& method, const std::string& keywords = "{}") {
  // The molecule of MolSSI's own example (water_energy_B3LYP_input.json), with a method Nox runs.
  return json::parse(R"({"schema_name": "qcschema_input", "schema_version": 1, "driver": ")" + driver +
                     R"(", "model": {"method": ")" + method + R"("}, "keywords": )" + keywords + R"(,
      "molecule": {"schema_name": "qcschema_molecule", "schema_version": 2, "symbols": ["O", "H", "H"],
                   "geometry": [0.0, 0.0, -0.1294769411935893, 0.0, -1.494187339479985, 1.0274465079245698,
                                0.0, 1.494187339479985, 1.0274465079245698],
                   "connectivity": [[0, 1, 1], [0, 2, 1]]}})")
      .as_object();
}

// ajv's verdict on `document` against one of MolSSI's schema files ("" when valid).
std::string schema_problems(const json::value& document, const std::string& schema_file) {
  TempDir dir("nox-qcschema-");
  const auto file = dir.path() / "document.json";
  std::ofstream(file) << json::serialize(document);
  const auto run = run_command("node " + std::string(NOX_SOURCE_DIR) + "/tests/browser/qcschema-validate.mjs " + schemas +
                               "/v1/" + schema_file + " " + schemas + "/v1/qc_schema_molecule.schema " + file.string() +
                               " 2>&1");
  return run.status == 0 ? "" : run.out;
}

json::value qcschema_of(HttpClient& client, const std::string& id) {
  wait_until_finished(client, id);
  const auto reply = client.get("/jobs/" + id + "/result?format=qcschema");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  return reply.json();
}

struct Server {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(qcschema_api)

BOOST_FIXTURE_TEST_CASE(energy_gradient_hessian_round_trips_validate, Server) {
  // The checker can fail: a document without the required fields is not an AtomicResult.
  BOOST_TEST(schema_problems(json::parse(R"({"schema_name": "qc_schema_output"})"), "qc_schema_output.schema") != "");
  const auto energy = submit(client, json::serialize(water_input("energy", "GFN2-xTB")));
  const auto gradient = submit(client, json::serialize(water_input("gradient", "GFN2-xTB")));
  const auto hessian = submit(client, json::serialize(water_input("hessian", "GFN2-xTB")));
  const auto pm7 = submit(client, json::serialize(water_input("properties", "PM7")));
  for (const auto& [id, driver, length] : {std::tuple{energy, "energy", 0u}, std::tuple{gradient, "gradient", 9u},
                                           std::tuple{hessian, "hessian", 81u}, std::tuple{pm7, "energy", 0u}}) {
    BOOST_TEST_CONTEXT(driver << " " << id) {
      const auto document = qcschema_of(client, id);
      BOOST_TEST(schema_problems(document, "qc_schema_output.schema") == "");
      BOOST_TEST(document.at("success").as_bool());
      BOOST_TEST(document.at("driver").as_string() == driver);
      if (length == 0) {
        BOOST_TEST(document.at("return_result").as_double() < 0);
      } else {
        BOOST_TEST(document.at("return_result").as_array().size() == length);
      }
    }
  }
  // The same energy as the native result.
  const auto native = client.get("/jobs/" + energy + "/result").json();
  BOOST_TEST(qcschema_of(client, energy).at("return_result").as_double() ==
             native.at("result").at("energy_eh").as_double());
  BOOST_TEST(qcschema_of(client, pm7).at("model").at("method").as_string() == "PM7");
}

BOOST_FIXTURE_TEST_CASE(failures_and_refusals, Server) {
  // A calculation that fails is a FailedOperation with QCElemental's error type.
  const auto scf = submit(client, json::serialize(water_input("energy", "GFN2-xTB", R"({"max_iterations": 1})")));
  const auto failed = qcschema_of(client, scf);
  BOOST_TEST(!failed.at("success").as_bool());
  BOOST_TEST(failed.at("error").at("error_type").as_string() == "convergence_error");
  BOOST_TEST(failed.at("input_data").at("model").at("method").as_string() == "GFN2-xTB");
  // What Nox cannot run is refused by field, with QCSchema's names.
  const auto b3lyp = client.post_json("/jobs", json::serialize(water_input("energy", "B3LYP")));
  BOOST_TEST(b3lyp.status == 422);
  BOOST_TEST(b3lyp.body.find("model.method") != std::string::npos, b3lyp.body);
  // An optimization has no AtomicResult; an unknown format is a bad parameter.
  const auto opt = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("water")));
  wait_until_finished(client, opt);
  const auto none = client.get("/jobs/" + opt + "/result?format=qcschema");
  BOOST_TEST(none.status == 409);
  BOOST_TEST(none.body.find("no_qcschema_result") != std::string::npos);
  BOOST_TEST(client.get("/jobs/" + opt + "/result?format=xml").status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
