// QCSchema in and out (core/qcschema): AtomicInput -> Nox spec, finished job -> AtomicResult.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/job_spec.hpp"
#include "core/qcschema.hpp"

namespace {

namespace json = boost::json;

json::object water_input(const std::string& driver, const std::string& method) {
  return json::parse(R"({"schema_name": "qcschema_input", "schema_version": 1, "driver": ")" + driver +
                     R"(", "model": {"method": ")" + method + R"(", "basis": null},
      "molecule": {"schema_name": "qcschema_molecule", "schema_version": 2, "symbols": ["O", "H", "H"],
                   "geometry": [0.0, 0.0, -0.129, 0.0, -1.494, 1.027, 0.0, 1.494, 1.027],
                   "molecular_charge": 0, "molecular_multiplicity": 1, "connectivity": [[0, 1, 1], [0, 2, 1]]},
      "keywords": {"accuracy": 0.5}, "extras": {"nox": {"tags": ["qcs"], "priority": 3}}})")
      .as_object();
}

json::object translated(const json::object& input) {
  auto out = nox::qcschema_input_to_spec(input);
  if (auto* errors = std::get_if<nox::FieldErrors>(&out)) BOOST_FAIL(errors->front().field << ": " << errors->front().message);
  return std::get<json::object>(out);
}

nox::FieldErrors refused(const json::object& input) {
  auto out = nox::qcschema_input_to_spec(input);
  BOOST_REQUIRE(std::holds_alternative<nox::FieldErrors>(out));
  return std::get<nox::FieldErrors>(out);
}

nox::Job finished(const json::object& input, nox::JobState state, json::value result, json::value error = nullptr) {
  auto spec = nox::parse_job_spec(json::value(translated(input)));
  BOOST_REQUIRE(std::holds_alternative<nox::JobSpec>(spec));
  nox::Job job;
  job.id = "0123456789abcdef0123456789abcdef";
  job.state = state;
  job.spec = std::get<nox::JobSpec>(spec).to_json();
  job.result = std::move(result);
  job.error = std::move(error);
  return job;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(qcschema)

BOOST_AUTO_TEST_CASE(atomic_input_becomes_a_spec) {
  BOOST_TEST(nox::is_qcschema_input(json::value(water_input("energy", "GFN2-xTB"))));
  BOOST_TEST(!nox::is_qcschema_input(json::parse(R"({"engine": "xtb"})")));
  const json::object spec = translated(water_input("gradient", "gfn2-xtb"));
  BOOST_TEST(spec.at("engine") == "xtb");
  BOOST_TEST(spec.at("method") == "gfn2");
  BOOST_TEST(spec.at("task") == "gradient");
  BOOST_TEST(spec.at("keywords").at("accuracy").as_double() == 0.5);
  BOOST_TEST(spec.at("tags").at(0) == "qcs");
  BOOST_TEST(spec.at("charge").as_int64() == 0);
  const auto parsed = nox::parse_job_spec(json::value(spec));
  BOOST_TEST_REQUIRE(std::holds_alternative<nox::JobSpec>(parsed));
  BOOST_TEST(std::get<nox::JobSpec>(parsed).molecule.atoms.size() == 3u);
  BOOST_TEST(translated(water_input("properties", "PM7")).at("engine") == "mopac");
  BOOST_TEST(translated(water_input("properties", "PM7")).at("task") == "energy");
}

BOOST_AUTO_TEST_CASE(inputs_nox_cannot_run_are_refused_by_field) {
  BOOST_TEST(refused(water_input("energy", "B3LYP")).front().field == "model.method");
  BOOST_TEST(refused(water_input("optimization", "GFN2-xTB")).front().field == "driver");
  BOOST_TEST(refused(water_input("hessian", "PM7")).front().field == "driver");
  json::object with_basis = water_input("energy", "GFN2-xTB");
  with_basis["model"].as_object()["basis"] = "cc-pVDZ";
  BOOST_TEST(refused(with_basis).front().field == "model.basis");
  json::object ghost = water_input("energy", "GFN2-xTB");
  ghost["molecule"].as_object()["real"] = json::array{true, false, true};
  BOOST_TEST(refused(ghost).front().field == "molecule.real");
  json::object clash = water_input("energy", "GFN2-xTB");
  clash["extras"].as_object()["nox"].as_object()["engine"] = "echo";
  BOOST_TEST(refused(clash).front().field == "extras.nox.engine");
}

BOOST_AUTO_TEST_CASE(completed_job_becomes_an_atomic_result) {
  const nox::Job job = finished(water_input("energy", "GFN2-xTB"), nox::JobState::completed,
                                json::parse(R"({"energy_eh": -5.07, "dipole_debye": {"x": 0, "y": 0, "z": 2.541746, "total": 2.541746},
                                                "engine": {"name": "xtb", "version": "6.5.1"}})"));
  auto out = nox::qcschema_result(job);
  BOOST_TEST_REQUIRE(std::holds_alternative<json::object>(out));
  const json::object& r = std::get<json::object>(out);
  BOOST_TEST(r.at("schema_name") == "qc_schema_output");
  BOOST_TEST(r.at("success").as_bool());
  BOOST_TEST(r.at("return_result").as_double() == -5.07);
  BOOST_TEST(r.at("properties").at("return_energy").as_double() == -5.07);
  BOOST_TEST(r.at("properties").at("calcinfo_natom").as_int64() == 3);
  BOOST_TEST(std::abs(r.at("properties").at("scf_dipole_moment").at(2).as_double() - 1.0) < 1e-12);
  BOOST_TEST(r.at("model").at("method") == "GFN2-xTB");
  BOOST_TEST(r.at("provenance").at("creator") == "xtb");
  BOOST_TEST(r.at("provenance").at("version") == "6.5.1");
  // The geometry goes back in bohr as it came (through Angstrom and back).
  BOOST_TEST(std::abs(r.at("molecule").at("geometry").at(4).as_double() - -1.494) < 1e-9);
}

BOOST_AUTO_TEST_CASE(gradient_and_hessian_return_flat_arrays) {
  const nox::Job gradient = finished(water_input("gradient", "GFN2-xTB"), nox::JobState::completed,
                                     json::parse(R"({"energy_eh": -5.0, "gradient_eh_bohr": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]})"));
  const auto g = std::get<json::object>(nox::qcschema_result(gradient));
  BOOST_TEST(json::serialize(g.at("return_result")) == "[1,2,3,4,5,6,7,8,9]");
  const nox::Job hessian = finished(water_input("hessian", "GFN2-xTB"), nox::JobState::completed, json::parse(R"({"energy_eh": -5.0})"));
  const std::vector<double> matrix(81, 0.25);
  const auto h = std::get<json::object>(nox::qcschema_result(hessian, &matrix));
  BOOST_TEST(h.at("return_result").as_array().size() == 81u);
  BOOST_TEST(std::holds_alternative<std::string>(nox::qcschema_result(hessian)));  // no Hessian read
}

BOOST_AUTO_TEST_CASE(failed_job_becomes_a_failed_operation) {
  const nox::Job job = finished(water_input("energy", "GFN2-xTB"), nox::JobState::failed, nullptr,
                                json::parse(R"({"code": "scf_not_converged", "message": "The SCF did not converge"})"));
  const auto r = std::get<json::object>(nox::qcschema_result(job));
  BOOST_TEST(!r.at("success").as_bool());
  BOOST_TEST(r.at("error").at("error_type") == "convergence_error");
  BOOST_TEST(r.at("error").at("error_message") == "The SCF did not converge");
  BOOST_TEST(r.at("input_data").at("driver") == "energy");
  BOOST_TEST(r.at("extras").at("nox").at("error").at("code") == "scf_not_converged");
}

BOOST_AUTO_TEST_CASE(turbomole_hessian_file) {
  // As xtb writes it: each row of 3N numbers over lines of five.
  const auto values = nox::parse_turbomole_hessian("$hessian   \n   0.5 -0.25  1e-3\n  2.0\n$end\n");
  BOOST_TEST_REQUIRE(values.has_value());
  BOOST_TEST(*values == (std::vector<double>{0.5, -0.25, 1e-3, 2.0}));
  BOOST_TEST(!nox::parse_turbomole_hessian("no hessian here").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
