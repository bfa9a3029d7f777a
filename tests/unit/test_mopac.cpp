// MOPAC: the input Nox writes, and its output -> result, on real runs recorded in
// tests/fixtures/mopac (no MOPAC run here).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/job_spec.hpp"
#include "engines/mopac/aux_file.hpp"
#include "engines/mopac/input.hpp"
#include "engines/mopac/interpret.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path fixtures = fs::path(NOX_FIXTURES_DIR) / "mopac";
constexpr const char* kWater = "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n";
constexpr const char* kBentWater = "3\nwater\nO 0 0 0.217\nH 0 0.857 -0.467\nH 0 -0.757 -0.567\n";
constexpr const char* kHydroxyl = "2\nOH\nO 0 0 0\nH 0 0 0.97\n";
constexpr const char* kSodiumChloride = "2\nNaCl\nNa 0 0 0\nCl 0 0 2.4\n";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nox::JobSpec spec(const std::string& task, const std::string& xyz, const std::string& extra = "") {
  const std::string body = R"({"engine": "mopac", "task": ")" + task + R"(", "molecule": {"xyz": )" +
                           json::serialize(json::value(xyz)) + "}" + extra + "}";
  auto parsed = nox::parse_job_spec(json::parse(body));
  if (auto* errors = std::get_if<nox::FieldErrors>(&parsed)) {
    BOOST_FAIL("spec refused: " << errors->front().field << ": " << errors->front().message);
  }
  return std::get<nox::JobSpec>(parsed);
}

struct Case {
  const char* dir;
  nox::JobSpec spec;
};

std::vector<Case> recorded_cases() {
  return {
      {"water_energy_pm7", spec("energy", kWater)},
      {"water_gradient_pm7", spec("gradient", kWater)},
      {"water_optimize_pm7", spec("optimize", kWater)},
      {"water_hessian_pm7", spec("hessian", kWater)},
      {"water_optimize_hessian_pm7", spec("optimize_hessian", kWater)},
      {"water_opt_out_of_cycles_pm7", spec("optimize", kBentWater, R"(, "keywords": {"max_opt_cycles": 2})")},
      {"water_energy_pm7_cosmo_water", spec("energy", kWater, R"(, "solvent": {"name": "water"})")},
      {"hydroxyl_energy_pm7", spec("energy", kHydroxyl, R"(, "multiplicity": 2)")},
      {"sodium_chloride_rm1_no_parameters", spec("energy", kSodiumChloride, R"(, "method": "rm1")")},
  };
}

nox::EngineOutput interpret(const char* dir, const nox::JobSpec& s) {
  nox::ProcessOutcome outcome;
  outcome.exit_code = 0;  // MOPAC's, always
  outcome.wall_s = 0.1;
  return nox::mopac::interpret_mopac_run(s, fixtures / dir, outcome);
}

nox::JobSpec case_spec(const char* dir) {
  for (auto& c : recorded_cases()) {
    if (std::string_view(c.dir) == dir) return c.spec;
  }
  BOOST_FAIL("no case " << dir);
  return {};
}

double number(const json::value& v) { return v.to_number<double>(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(mopac)

// The recorded runs were made from these very inputs: what Nox writes is what was tested.
BOOST_AUTO_TEST_CASE(input_is_what_the_recorded_runs_read) {
  for (const Case& c : recorded_cases()) {
    BOOST_TEST_CONTEXT(c.dir) { BOOST_TEST(nox::mopac::mopac_input(c.spec) == slurp(fixtures / c.dir / "mol.mop")); }
  }
}

BOOST_AUTO_TEST_CASE(input_names_method_spin_solvent_and_time_limit) {
  const std::string input =
      nox::mopac::mopac_input(spec("energy", kHydroxyl, R"(, "multiplicity": 2, "method": "PM6-D3H4",
                                   "timeout_s": 10.5, "solvent": {"model": "cosmo", "dielectric": 4.5})"));
  BOOST_TEST(input.starts_with("1SCF ENPART PM6-D3H4 AUX(PRECISION=9) CHARGE=0 DOUBLET UHF EPS=4.5000 &\n"
                               "THREADS=1 T=71\n"));
}

BOOST_AUTO_TEST_CASE(more_than_eight_unpaired_electrons_are_refused) {
  nox::JobSpec s = spec("energy", kWater);
  s.multiplicity = 11;
  const auto errors = nox::mopac::validate_mopac_spec(s);
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].field == "multiplicity");
  BOOST_CHECK_THROW(nox::mopac::mopac_input(s), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(aux_file_reads_keys_units_values_and_sections) {
  const auto sections = nox::mopac::parse_aux(slurp(fixtures / "water_optimize_hessian_pm7" / "mol.aux"));
  BOOST_TEST_REQUIRE(sections.size() == 2u);  // the optimization, then FORCE on its geometry
  const auto& opt = sections[0];
  BOOST_TEST(opt.text("MOPAC_VERSION").value_or("") == "22.0.6");
  BOOST_TEST(opt.text("EMPIRICAL_FORMULA").value_or("") == "H2 O  =     3 atoms");
  const auto* elements = opt.last("ATOM_EL");
  BOOST_TEST_REQUIRE(elements);
  BOOST_TEST(elements->values == (std::vector<std::string>{"O", "H", "H"}));
  const auto* coords = opt.last("ATOM_X_OPT");
  BOOST_TEST_REQUIRE(coords);
  BOOST_TEST(coords->units == "ANGSTROMS");
  BOOST_TEST(coords->values.size() == 9u);
  BOOST_TEST(std::abs(opt.number("HEAT_OF_FORMATION").value_or(0) - -57.7996038310821) < 1e-9);  // D exponent
  BOOST_TEST(sections[1].numbers("VIB._FREQ").value_or(std::vector<double>{}).size() == 9u);
  BOOST_TEST(!opt.number("NO_SUCH_KEY"));
  // Units may hold a space; the values before such a key must not swallow it.
  BOOST_TEST(opt.last("AREA")->units == "SQUARE ANGSTROMS");
  BOOST_TEST(opt.numbers("DIP_VEC").value_or(std::vector<double>{}).size() == 3u);
}

BOOST_AUTO_TEST_CASE(energy_reads_heat_of_formation_total_energy_dipole_charges_gap) {
  const auto out = interpret("water_energy_pm7", case_spec("water_energy_pm7"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  const auto& r = out.result;
  BOOST_TEST(std::abs(number(r.at("heat_of_formation_kcal_mol")) - -57.7947569939324) < 1e-9);
  BOOST_TEST(std::abs(number(r.at("total_energy_ev")) - -322.6790) < 1e-9);
  BOOST_TEST(std::abs(number(r.at("energy_eh")) - -322.6790 / 27.211386245988) < 1e-12);
  BOOST_TEST(r.at("partial_charges").as_array().size() == 3u);
  BOOST_TEST(number(r.at("dipole_debye").at("total")) > 1.5);
  BOOST_TEST(number(r.at("homo_lumo_gap_ev")) > 10);
  BOOST_TEST(r.at("engine").at("name").as_string() == "mopac");
  BOOST_TEST(r.at("engine").at("version").as_string() == "22.0.6");
  BOOST_TEST(out.artifact_files == (std::vector<std::string>{"mol.out", "mol.arc", "mol.aux", "mol.mop", "mopac.log"}));
}

BOOST_AUTO_TEST_CASE(gradient_is_converted_to_hartree_per_bohr) {
  const auto out = interpret("water_gradient_pm7", case_spec("water_gradient_pm7"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  const auto sections = nox::mopac::parse_aux(slurp(fixtures / "water_gradient_pm7" / "mol.aux"));
  const auto kcal = sections[0].numbers("GRADIENTS").value();
  const auto& rows = out.result.at("gradient_eh_bohr").as_array();
  BOOST_TEST_REQUIRE(rows.size() == 3u);
  // kcal/mol/Angstrom -> Eh/bohr: / 627.509 * 0.529177.
  BOOST_TEST(std::abs(number(rows[1].as_array()[1]) - kcal[4] / 627.5094740631 * 0.529177210903) < 1e-12);
}

BOOST_AUTO_TEST_CASE(optimization_reads_cycles_and_the_final_geometry) {
  const auto out = interpret("water_optimize_pm7", case_spec("water_optimize_pm7"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  BOOST_TEST(out.result.at("optimization").at("converged").as_bool());
  BOOST_TEST(out.result.at("optimization").at("cycles").as_int64() == 3);
  const auto xyz = nox::parse_xyz(std::string(out.result.at("optimized_xyz").as_string()));
  BOOST_TEST_REQUIRE(std::holds_alternative<nox::Molecule>(xyz));
  BOOST_TEST(std::get<nox::Molecule>(xyz).atoms.size() == 3u);
}

BOOST_AUTO_TEST_CASE(optimize_hessian_gives_three_real_modes_and_thermochemistry) {
  const auto out = interpret("water_optimize_hessian_pm7", case_spec("water_optimize_hessian_pm7"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  const auto& r = out.result;
  const auto& freqs = r.at("frequencies_cm1").as_array();
  BOOST_TEST_REQUIRE(freqs.size() == 3u);  // 3N - 6: the rigid-body modes dropped
  BOOST_TEST(std::abs(number(freqs[0]) - 1395.42) < 1e-9);
  BOOST_TEST(r.at("imaginary_frequency_count").as_int64() == 0);
  const auto& thermo = r.at("thermochemistry");
  BOOST_TEST(number(thermo.at("temperature_k")) == 298.0);
  BOOST_TEST(number(thermo.at("zpe_kcal_mol")) > 10);
  BOOST_TEST(number(thermo.at("free_energy_kcal_mol")) < number(thermo.at("heat_of_formation_kcal_mol")));
  BOOST_TEST(r.contains("optimized_xyz"));
  BOOST_TEST(r.contains("energy_eh"));  // from the optimization job's ENPART
}

BOOST_AUTO_TEST_CASE(hessian_away_from_a_minimum_is_computed_not_refused) {
  const auto out = interpret("water_hessian_pm7", case_spec("water_hessian_pm7"));  // FORCE LET, no .arc
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  BOOST_TEST(out.result.at("frequencies_cm1").as_array().size() == 3u);
  BOOST_TEST(!out.result.contains("optimization"));
}

// MOPAC exits 0 and writes no .arc: the .aux's ERROR_MESSAGE says what happened.
BOOST_AUTO_TEST_CASE(optimization_out_of_cycles_fails_but_keeps_the_last_geometry) {
  const auto out = interpret("water_opt_out_of_cycles_pm7", case_spec("water_opt_out_of_cycles_pm7"));
  BOOST_TEST(!out.ok);
  BOOST_TEST(out.error_code == "optimization_not_converged");
  BOOST_TEST(!out.retryable);
  BOOST_TEST(out.result.at("optimization").at("cycles").as_int64() == 2);
  BOOST_TEST(out.result.contains("optimized_xyz"));
}

BOOST_AUTO_TEST_CASE(solvent_run_gives_the_solvated_heat_of_formation_only) {
  const auto out = interpret("water_energy_pm7_cosmo_water", case_spec("water_energy_pm7_cosmo_water"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  BOOST_TEST(std::abs(number(out.result.at("heat_of_formation_kcal_mol")) - -65.2147281456773) < 1e-9);
  BOOST_TEST(!out.result.contains("energy_eh"));  // ENPART's total lacks the dielectric energy
}

BOOST_AUTO_TEST_CASE(open_shell_runs_unrestricted) {
  const auto out = interpret("hydroxyl_energy_pm7", case_spec("hydroxyl_energy_pm7"));
  BOOST_TEST_REQUIRE(out.ok, out.error_message);
  BOOST_TEST(std::abs(number(out.result.at("heat_of_formation_kcal_mol")) - 7.26167278782668) < 1e-9);
}

// Exit 0, no .aux: the reason is only in the .out's termination box.
BOOST_AUTO_TEST_CASE(element_without_parameters_is_input_rejected_with_mopacs_words) {
  const auto out = interpret("sodium_chloride_rm1_no_parameters", case_spec("sodium_chloride_rm1_no_parameters"));
  BOOST_TEST(!out.ok);
  BOOST_TEST(out.error_code == "input_rejected");
  BOOST_TEST(out.error_message.find("Data are not available for Sodium.") != std::string::npos, out.error_message);
  BOOST_TEST(!out.retryable);
}

BOOST_AUTO_TEST_CASE(how_the_process_ended_decides_first) {
  const nox::JobSpec s = case_spec("water_energy_pm7");
  nox::ProcessOutcome timed_out;
  timed_out.timed_out = true;
  timed_out.term_signal = 9;
  BOOST_TEST(nox::mopac::interpret_mopac_run(s, fixtures / "water_energy_pm7", timed_out).error_code == "timeout");
  nox::ProcessOutcome killed;
  killed.term_signal = 11;
  const auto crash = nox::mopac::interpret_mopac_run(s, fixtures / "water_energy_pm7", killed);
  BOOST_TEST(crash.error_code == "crashed");
  BOOST_TEST(crash.retryable);
  nox::ProcessOutcome empty_dir;
  empty_dir.exit_code = 0;
  const auto nothing = nox::mopac::interpret_mopac_run(s, fixtures / "no-such-dir", empty_dir);
  BOOST_TEST(nothing.error_code == "engine_failed");
}

BOOST_AUTO_TEST_CASE(termination_box_lists_errors_not_the_normal_end) {
  const auto messages = nox::mopac::termination_messages(slurp(fixtures / "water_opt_out_of_cycles_pm7" / "mol.out"));
  BOOST_TEST(messages == (std::vector<std::string>{"EXCESS NUMBER OF OPTIMIZATION CYCLES"}));
  BOOST_TEST(nox::mopac::termination_messages(slurp(fixtures / "water_energy_pm7" / "mol.out")).empty());
}

BOOST_AUTO_TEST_SUITE_END()
