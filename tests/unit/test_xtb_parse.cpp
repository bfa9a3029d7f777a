// xtb output -> result, on real output recorded in tests/fixtures/xtb (no xtb run here).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>

#include "engines/vibrations.hpp"
#include "engines/xtb/parse.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path fixtures = fs::path(NOX_FIXTURES_DIR) / "xtb";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A plain reader, not parse_xyz: the overlapping-atoms fixture must get through.
nox::Molecule read_xyz(const fs::path& p) {
  std::istringstream in(slurp(p));
  std::size_t n = 0;
  in >> n;
  std::string rest;
  std::getline(in, rest);
  nox::Molecule m;
  std::getline(in, m.comment);
  for (std::size_t i = 0; i < n; ++i) {
    nox::Atom a;
    in >> a.symbol >> a.x >> a.y >> a.z;
    m.atoms.push_back(a);
  }
  return m;
}

std::string last_bytes(const std::string& s, std::size_t n) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// The ProcessOutcome run_process would have produced for the recorded run.
nox::ProcessOutcome outcome_of(const fs::path& dir) {
  nox::ProcessOutcome o;
  std::string code = slurp(dir / "exit_code");
  if (code.starts_with("signal ")) {
    o.exit_code = -1;
    o.term_signal = std::stoi(code.substr(7));
  } else {
    o.exit_code = std::stoi(code);
  }
  o.stdout_tail = last_bytes(slurp(dir / "xtb.log"), 8192);
  o.stderr_tail = last_bytes(slurp(dir / "stderr"), 8192);
  o.wall_s = 0.25;
  return o;
}

nox::JobSpec spec_for(const fs::path& dir, std::string task, std::string method = "gfn2",
                      int multiplicity = 1) {
  nox::JobSpec spec;
  spec.engine = "xtb";
  spec.task = std::move(task);
  spec.method = std::move(method);
  spec.molecule = read_xyz(dir / "mol.xyz");
  spec.multiplicity = multiplicity;
  spec.timeout_s = 60;
  return spec;
}

struct Parsed {
  nox::EngineOutput out;
  const json::object& r() const { return out.result; }
};

Parsed interpret(const std::string& name, const std::string& task, const std::string& method = "gfn2",
                 int multiplicity = 1) {
  const fs::path dir = fixtures / name;
  return {nox::xtb::interpret_xtb_run(spec_for(dir, task, method, multiplicity), dir, outcome_of(dir))};
}

double num(const json::value& v) { return v.to_number<double>(); }

std::vector<double> numbers(const json::value& v) {
  std::vector<double> out;
  for (const auto& x : v.as_array()) out.push_back(num(x));
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(xtb_parse)

BOOST_AUTO_TEST_CASE(water_energy_gfn2) {
  auto p = interpret("water_energy_gfn2", "energy");
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(num(p.r().at("energy_eh")) == -5.070375897275);
  BOOST_TEST(num(p.r().at("homo_lumo_gap_ev")) == 14.693003302697);
  // From stdout ("full: 0.000 0.000 -0.891 2.266"), au converted to Debye; total as xtb prints it.
  const auto& dipole = p.r().at("dipole_debye").as_object();
  BOOST_TEST(num(dipole.at("x")) == 0.0);
  BOOST_TEST(num(dipole.at("y")) == 0.0);
  BOOST_TEST(num(dipole.at("z")) == -0.891 * 2.541746);
  BOOST_TEST(num(dipole.at("total")) == 2.266);
  std::vector<double> charges{-0.56395155, 0.28197578, 0.28197578};
  BOOST_TEST(numbers(p.r().at("partial_charges")) == charges, boost::test_tools::per_element());
  const auto& bonds = p.r().at("bond_orders").as_array();
  BOOST_REQUIRE(bonds.size() == 2u);
  BOOST_TEST(bonds[0].at("i").as_int64() == 1);
  BOOST_TEST(bonds[0].at("j").as_int64() == 2);
  BOOST_TEST(num(bonds[0].at("order")) == 0.92011699880059661);
  BOOST_TEST(bonds[1].at("i").as_int64() == 1);
  BOOST_TEST(bonds[1].at("j").as_int64() == 3);
  BOOST_TEST(num(bonds[1].at("order")) == 0.92011699880059639);
  BOOST_TEST(num(p.r().at("wall_time_s")) == 0.25);
  BOOST_TEST(p.r().at("engine") == (json::value{{"name", "xtb"}, {"version", "6.5.1"}}));
  for (auto key : {"gradient_eh_bohr", "optimization", "optimized_xyz", "frequencies_cm1", "thermochemistry",
                   "warnings"})
    BOOST_TEST(!p.r().contains(key), key);
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log", "xtbout.json", "charges", "wbo"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(water_optimize_gfn2) {
  auto p = interpret("water_optimize_gfn2", "optimize");
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(num(p.r().at("energy_eh")) == -5.070543958094);
  BOOST_TEST(p.r().at("optimization") == (json::value{{"converged", true}, {"cycles", 4}}));
  BOOST_TEST(p.r().at("optimized_xyz").as_string() == slurp(fixtures / "water_optimize_gfn2" / "xtbopt.xyz"));
  BOOST_TEST(p.r().at("optimized_xyz").as_string().starts_with("3\n energy: -5.070543958094 gnorm:"));
  BOOST_TEST(num(p.r().at("homo_lumo_gap_ev")) == 14.370324691809);
  BOOST_TEST(num(p.r().at("dipole_debye").at("z")) == -0.873 * 2.541746);
  BOOST_TEST(
      p.out.artifact_files == (Names{"xtb.log", "xtbopt.xyz", "xtbout.json", "charges", "wbo", "xtbopt.log"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(water_ohess_gfn2) {
  auto p = interpret("water_ohess_gfn2", "optimize_hessian");
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(num(p.r().at("energy_eh")) == -5.070543958094);
  std::vector<double> freqs{1541.44, 3636.56, 3644.72};
  BOOST_TEST(numbers(p.r().at("frequencies_cm1")) == freqs, boost::test_tools::per_element());
  // The IR intensities of the same modes, from vibspectrum's column (km/mol).
  std::vector<double> ir{133.31501, 6.60775, 16.68562};
  BOOST_TEST(numbers(p.r().at("ir_intensities_km_mol")) == ir, boost::test_tools::per_element());
  BOOST_TEST(p.r().at("imaginary_frequency_count").as_int64() == 0);
  BOOST_TEST(p.r().at("has_imaginary_frequencies").as_bool() == false);
  const auto& thermo = p.r().at("thermochemistry").as_object();
  BOOST_TEST(num(thermo.at("zpe_eh")) == 0.020099629586);
  BOOST_TEST(num(thermo.at("enthalpy_eh")) == -5.046663348910);
  BOOST_TEST(num(thermo.at("free_energy_eh")) == -5.068064248684);
  BOOST_TEST(num(thermo.at("temperature_k")) == 298.15);
  BOOST_TEST(p.r().at("optimization") == (json::value{{"converged", true}, {"cycles", 4}}));
  // The optimized geometry's dipole (stdout: "full: -0.000 -0.000 -0.873 2.219"); xtbout.json
  // still holds the start geometry's -0.891 au.
  BOOST_TEST(slurp(fixtures / "water_ohess_gfn2" / "xtbout.json").find("-0.89140322") != std::string::npos);
  BOOST_TEST(num(p.r().at("dipole_debye").at("z")) == -0.873 * 2.541746);
  BOOST_TEST(num(p.r().at("dipole_debye").at("total")) == 2.219);
  BOOST_TEST(!std::signbit(num(p.r().at("dipole_debye").at("x"))));
  BOOST_TEST(p.out.artifact_files ==
                 (Names{"xtb.log", "xtbopt.xyz", "xtbout.json", "charges", "wbo", "vibspectrum"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(water_energy_gfnff_reads_stdout_and_gfnff_charges) {
  auto p = interpret("water_energy_gfnff", "energy", "gfnff");
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(num(p.r().at("energy_eh")) == -0.327215642875);
  std::vector<double> charges{-0.62690368, 0.31345184, 0.31345184};
  BOOST_TEST(numbers(p.r().at("partial_charges")) == charges, boost::test_tools::per_element());
  // A force field has no orbitals, no density: nothing invented.
  for (auto key : {"homo_lumo_gap_ev", "dipole_debye", "bond_orders", "warnings"})
    BOOST_TEST(!p.r().contains(key), key);
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log", "gfnff_charges"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(water_gradient_gfn2) {
  auto p = interpret("water_gradient_gfn2", "gradient");
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(num(p.r().at("energy_eh")) == -5.070375897275);
  const auto& g = p.r().at("gradient_eh_bohr").as_array();
  BOOST_REQUIRE(g.size() == 3u);
  std::vector<std::vector<double>> expected{
      {9.6067765292525E-17, -1.4987775062325E-16, 8.1366557984433E-04},
      {-9.8110050697441E-17, -5.4664373992512E-03, -4.0683278992223E-04},
      {2.0422854049156E-18, 5.4664373992513E-03, -4.0683278992209E-04}};
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(numbers(g[i]) == expected[i], boost::test_tools::per_element());
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log", "xtbout.json", "charges", "wbo", "gradient"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hydroxyl_radical_doublet) {
  auto p = interpret("hydroxyl_energy_gfn2", "energy", "gfn2", 2);
  BOOST_TEST_REQUIRE(p.out.ok);
  BOOST_TEST(slurp(fixtures / "hydroxyl_energy_gfn2" / "command").find("--uhf 1") != std::string::npos);
  BOOST_TEST(num(p.r().at("energy_eh")) == -4.428339108289);
  BOOST_TEST(num(p.r().at("homo_lumo_gap_ev")) == 16.548730314647);
  BOOST_TEST(num(p.r().at("dipole_debye").at("z")) == 0.817 * 2.541746);
  BOOST_TEST(num(p.r().at("dipole_debye").at("total")) == 2.075);
  BOOST_TEST(p.r().at("partial_charges").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(planar_ammonia_has_one_imaginary_mode) {
  auto p = interpret("ammonia_planar_hessian_gfn2", "hessian");
  BOOST_TEST_REQUIRE(p.out.ok);
  std::vector<double> freqs{-871.20, 1506.21, 1506.45, 3381.88, 3489.87, 3490.11};
  BOOST_TEST(numbers(p.r().at("frequencies_cm1")) == freqs, boost::test_tools::per_element());
  BOOST_TEST(p.r().at("imaginary_frequency_count").as_int64() == 1);
  BOOST_TEST(p.r().at("has_imaginary_frequencies").as_bool() == true);
  BOOST_TEST(num(p.r().at("thermochemistry").at("zpe_eh")) == 0.030469409236);
  BOOST_TEST(num(p.r().at("thermochemistry").at("enthalpy_eh")) == -4.381489090969);
  BOOST_TEST(num(p.r().at("thermochemistry").at("free_energy_eh")) == -4.402616243605);
  BOOST_TEST(!p.r().contains("optimization"));
  BOOST_TEST(p.out.artifact_files ==
                 (Names{"xtb.log", "xtbout.json", "charges", "wbo", "vibspectrum", "xtbhess.xyz"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(scf_not_converged) {
  auto p = interpret("water_scf_not_converged", "energy");
  BOOST_TEST(!p.out.ok);
  BOOST_TEST(p.out.error_code == "scf_not_converged");
  BOOST_TEST(!p.out.retryable);
  BOOST_TEST(p.out.error_message.starts_with("The SCF did not converge within 2 iterations."));
  // The tail of the log comes along, ending with xtb's own box.
  BOOST_TEST(p.out.error_message.find("Self consistent charge iterator did not converge") !=
             std::string::npos);
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(optimization_out_of_cycles_fails_but_keeps_the_geometry) {
  auto p = interpret("water_opt_out_of_cycles", "optimize");
  BOOST_TEST(!p.out.ok);
  BOOST_TEST(p.out.error_code == "optimization_not_converged");
  BOOST_TEST(!p.out.retryable);
  BOOST_TEST(p.out.error_message.find("did not converge within 2 cycles") != std::string::npos);
  BOOST_TEST(p.out.error_message.find("-5.070540746") != std::string::npos);
  BOOST_TEST(p.out.error_message.find("Last lines of the xtb output (xtb.log):\n") != std::string::npos);
  BOOST_TEST(p.r().at("optimization") == (json::value{{"converged", false}, {"cycles", 2}}));
  BOOST_TEST(num(p.r().at("energy_eh")) == -5.070540746228);
  BOOST_TEST(p.r().contains("optimized_xyz"));
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log", "xtbopt.xyz", "xtbout.json", "charges", "wbo"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(overlapping_atoms_are_rejected_with_xtbs_words) {
  auto p = interpret("overlapping_atoms", "energy");
  BOOST_TEST(!p.out.ok);
  BOOST_TEST(p.out.error_code == "input_rejected");
  BOOST_TEST(!p.out.retryable);
  BOOST_TEST(
      p.out.error_message.starts_with("xtb refused the calculation: \"Some atoms in the start geometry are "
                                      "*very* close; XTB REFUSES TO CONTINUE WITH THIS CALCULATION!; Found "
                                      "*very* short distance of 0.000E+00 "
                                      "for O1-H2\""));
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_solvent_is_rejected) {
  auto p = interpret("unknown_solvent", "energy");
  BOOST_TEST(p.out.error_code == "input_rejected");
  BOOST_TEST(
      p.out.error_message.find("solv_model_loadInternalParam: solvent: 'unobtainium' is not parametrized") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(linear_hessian_crash_is_not_retried) {
  auto p = interpret("co2_hessian_crash", "hessian");
  BOOST_TEST(!p.out.ok);
  BOOST_TEST(p.out.error_code == "crashed");
  BOOST_TEST(!p.out.retryable);
  BOOST_TEST(p.out.error_message.find("Hessian of a linear molecule") != std::string::npos);
  BOOST_TEST(p.out.error_message.find("stack smashing detected") != std::string::npos);
  BOOST_TEST(p.out.artifact_files == (Names{"xtb.log", "vibspectrum"}), boost::test_tools::per_element());
}

// Endings that run_process reports, on top of a real log.
BOOST_AUTO_TEST_CASE(process_endings_map_to_error_codes) {
  const fs::path dir = fixtures / "water_energy_gfn2";
  const auto spec = spec_for(dir, "energy");
  auto base = outcome_of(dir);

  auto o = base;
  o.exit_code = 1;
  o.timed_out = true;
  auto out = nox::xtb::interpret_xtb_run(spec, dir, o);
  BOOST_TEST(out.error_code == "timeout");
  BOOST_TEST(out.error_message.find("time limit of 60 s") != std::string::npos);
  BOOST_TEST(!out.retryable);
  BOOST_TEST(out.artifact_files.front() == "xtb.log");

  o = base;
  o.exit_code = 1;
  o.cancelled = true;
  BOOST_TEST(nox::xtb::interpret_xtb_run(spec, dir, o).error_code == "cancelled");

  o = {};
  o.spawn_failed = true;
  o.stderr_tail = "cannot execute /opt/xtb/bin/xtb: No such file or directory";
  out = nox::xtb::interpret_xtb_run(spec, dir, o);
  BOOST_TEST(out.error_code == "engine_not_found");
  BOOST_TEST(out.error_message.find("/opt/xtb/bin/xtb: No such file or directory") != std::string::npos);
  BOOST_TEST(!out.retryable);

  o = base;
  o.exit_code = -1;
  o.term_signal = SIGSEGV;
  out = nox::xtb::interpret_xtb_run(spec, dir, o);
  BOOST_TEST(out.error_code == "crashed");
  BOOST_TEST(out.retryable);
  BOOST_TEST(out.error_message.starts_with("xtb crashed (SIGSEGV, segmentation fault)."));

  o = base;
  o.exit_code = 2;
  o.stdout_tail.clear();
  const fs::path empty = fs::temp_directory_path() / "nox-test-xtb-empty-dir";
  fs::create_directories(empty);
  out = nox::xtb::interpret_xtb_run(spec, empty, o);
  BOOST_TEST(out.error_code == "engine_failed");
  BOOST_TEST(out.error_message.starts_with("xtb stopped with exit code 2"));
  BOOST_TEST(out.artifact_files == (Names{"xtb.log"}), boost::test_tools::per_element());

  o.exit_code = 0;
  out = nox::xtb::interpret_xtb_run(spec, empty, o);
  BOOST_TEST(out.error_code == "unexpected_output");
  fs::remove_all(empty);
}

BOOST_AUTO_TEST_CASE(message_boxes_of_gfnff_log) {
  auto boxes = nox::xtb::message_boxes(slurp(fixtures / "water_energy_gfnff" / "xtb.log"));
  BOOST_REQUIRE(boxes.size() == 1u);
  BOOST_TEST(boxes[0].kind == "WARNING");
  // The header's text ("Runtime exception occurred") says nothing the kind does not.
  BOOST_TEST(boxes[0].lines == (Names{"gfnff_setup: Could not read topology file."}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(small_parsers) {
  using namespace nox::xtb;
  BOOST_TEST(*summary_value("  | TOTAL ENERGY  -1.5 Eh |\n  | TOTAL ENERGY   -2.25 Eh |\n", "TOTAL ENERGY") ==
             -2.25);
  BOOST_TEST(!summary_value("  | TOTAL FREE ENERGY  -1.5 Eh |\n", "TOTAL ENERGY"));
  BOOST_TEST(*block_value(" :: zero point energy  0.1D-01 Eh ::\n", "zero point energy") == 0.01);
  BOOST_TEST(!parse_charges("0.1\nabc\n"));
  BOOST_TEST(!parse_wbo("1 2\n"));
  BOOST_TEST(!parse_gradient("$grad\n cycle = 1\n 1 2 3\n$end\n", 2));
  BOOST_TEST(*xtb_version("   * xtb version 6.7.0 (abc) compiled") == "6.7.0");
  BOOST_TEST(!stated_linear("nothing here"));
  // GFN1 prints its dipole differently.
  auto gfn1 = parse_dipole(
      " dipole moment from electron density (au)\n     X       Y       Z   \n"
      "   0.0000   0.0000  -1.1140  total (Debye):    2.831\n");
  BOOST_REQUIRE(gfn1.has_value());
  BOOST_TEST(gfn1->z_au == -1.114);
  BOOST_TEST(gfn1->total_debye == 2.831);
  BOOST_TEST(!parse_dipole("molecular dipole:\n   full:  0.1 0.2\n"));
  BOOST_TEST(*stated_linear(slurp(fixtures / "water_ohess_gfn2" / "xtb.log")) == false);
  auto opt = optimization_status(slurp(fixtures / "water_opt_out_of_cycles" / "xtb.log"));
  BOOST_REQUIRE(opt.has_value());
  BOOST_TEST(!opt->converged);
  BOOST_TEST(opt->cycles == 2);
}

BOOST_AUTO_TEST_CASE(rigid_modes_are_dropped) {
  using nox::vibrational_frequencies;
  std::vector<double> nonlinear{-0.01, 0.0, 0.02, -871.2, 1506.2, -0.03, 0.0, 0.01, 3381.9};
  BOOST_TEST(vibrational_frequencies(nonlinear, false) == (std::vector<double>{-871.2, 1506.2, 3381.9}),
             boost::test_tools::per_element());
  std::vector<double> linear{0.0, 0.0, 0.0, 0.0, 0.0, 655.35, 655.35, 1344.78, 2445.93};
  BOOST_TEST(vibrational_frequencies(linear, true) == (std::vector<double>{655.35, 655.35, 1344.78, 2445.93}),
             boost::test_tools::per_element());
  BOOST_TEST(vibrational_frequencies({0.0, 0.0, 0.0}, true).empty());

  nox::Molecule co2{{{"C", 0, 0, 0}, {"O", 0, 0, 1.16}, {"O", 0, 0, -1.16}}, ""};
  nox::Molecule water{{{"O", 0, 0, 0.117}, {"H", 0, 0.757, -0.467}, {"H", 0, -0.757, -0.467}}, ""};
  BOOST_TEST(nox::is_linear(co2));
  BOOST_TEST(!nox::is_linear(water));
}

// An optimization stopped by its time limit keeps its last trajectory frame (xtbopt.log).
BOOST_AUTO_TEST_CASE(timed_out_optimization_keeps_its_last_geometry) {
  const fs::path dir = fixtures / "water_optimize_gfn2";
  nox::ProcessOutcome outcome;
  outcome.timed_out = true;
  outcome.term_signal = SIGTERM;
  const auto out = nox::xtb::interpret_xtb_run(spec_for(dir, "optimize", "gfn2", 1), dir, outcome);
  BOOST_TEST(out.error_code == "timeout");
  const std::string trajectory = slurp(dir / "xtbopt.log");
  const auto last = nox::xtb::last_xyz_frame(trajectory);
  BOOST_TEST_REQUIRE(last.has_value());
  BOOST_TEST(out.result.at("optimized_xyz").as_string() == *last);
  BOOST_TEST(last->rfind("3\n", 0) == 0u);
  BOOST_TEST(trajectory.size() > last->size() * 2);  // several frames, the last one taken
  BOOST_TEST(!nox::xtb::last_xyz_frame("not xyz").has_value());
  // A frame cut short is not a frame: the one before it is the last.
  BOOST_TEST(nox::xtb::last_xyz_frame("1\na\nH 0 0 0\n2\nb\nH 0 0 0\n").value_or("") == "1\na\nH 0 0 0\n");
}

BOOST_AUTO_TEST_SUITE_END()
