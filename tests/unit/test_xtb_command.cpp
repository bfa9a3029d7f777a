// JobSpec -> xtb command line, environment and input files; XtbEngine's file writing,
// version probe and PATH search.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engines/xtb/command.hpp"
#include "engines/xtb/progress.hpp"
#include "engines/xtb/xtb_engine.hpp"

namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

nox::Molecule water() {
  return {{{"O", 0, 0, 0.117}, {"H", 0, 0.757, -0.467}, {"H", 0, -0.757, -0.467}}, "water"};
}

nox::JobSpec spec(std::string task = "energy", std::string method = "gfn2") {
  nox::JobSpec s;
  s.engine = "xtb";
  s.task = std::move(task);
  s.method = std::move(method);
  s.molecule = water();
  return s;
}

// The arguments after the program.
Args args(const nox::JobSpec& s) {
  auto built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch/job-1");
  BOOST_REQUIRE(!built.command.argv.empty());
  BOOST_TEST(built.command.argv[0] == "/usr/bin/xtb");
  return Args(built.command.argv.begin() + 1, built.command.argv.end());
}

std::set<std::string> fields(const nox::FieldErrors& errors) {
  std::set<std::string> out;
  for (const auto& e : errors) out.insert(e.field);
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "nox-xtb-command-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(xtb_command)

BOOST_AUTO_TEST_CASE(water_energy_gfn2_exactly) {
  auto built = nox::xtb::build_xtb_command(spec(), "/usr/bin/xtb", "/scratch/job-1");
  BOOST_TEST(built.command.argv == (Args{"/usr/bin/xtb", "mol.xyz", "--chrg", "0", "--uhf", "0", "--gfn", "2",
                                         "--sp", "--json"}),
             boost::test_tools::per_element());
  BOOST_TEST(built.command.stdout_file == "xtb.log");
  using Env = std::vector<std::pair<std::string, std::string>>;
  BOOST_TEST((built.command.env == Env{{"OMP_NUM_THREADS", "1"},
                                       {"OPENBLAS_NUM_THREADS", "1"},
                                       {"MKL_NUM_THREADS", "1"},
                                       {"HOME", "/scratch/job-1"},
                                       {"PATH", "/usr/bin:/bin"}}));
  BOOST_REQUIRE(built.files.size() == 1u);
  BOOST_TEST(built.files[0].name == "mol.xyz");
  BOOST_TEST(built.files[0].content == water().to_xyz());
}

// Every task x method x solvent x charge/multiplicity, against rules written out here.
BOOST_AUTO_TEST_CASE(every_combination) {
  const std::vector<std::pair<std::string, Args>> tasks{{"energy", {"--sp"}},
                                                        {"gradient", {"--grad"}},
                                                        {"optimize", {"--opt", "normal"}},
                                                        {"hessian", {"--hess"}},
                                                        {"optimize_hessian", {"--ohess", "normal"}}};
  const std::vector<std::pair<std::string, Args>> methods{
      {"gfn2", {"--gfn", "2"}}, {"gfn1", {"--gfn", "1"}}, {"gfnff", {"--gfnff"}}};
  const std::vector<std::optional<nox::Solvent>> solvents{std::nullopt, nox::Solvent{"alpb", "water"},
                                                          nox::Solvent{"gbsa", "toluene"}};
  // Water has 10 electrons: (charge, multiplicity) pairs with the right parity.
  const std::vector<std::pair<int, int>> states{{0, 1}, {0, 3}, {1, 2}, {-1, 2}, {2, 1}};
  int checked = 0;
  for (const auto& [task, task_args] : tasks)
    for (const auto& [method, method_args] : methods)
      for (const auto& solvent : solvents)
        for (const auto& [charge, multiplicity] : states) {
          auto s = spec(task, method);
          s.solvent = solvent;
          s.charge = charge;
          s.multiplicity = multiplicity;
          BOOST_TEST_REQUIRE(nox::xtb::validate_xtb_spec(s).empty());
          Args expected{"mol.xyz", "--chrg", std::to_string(charge), "--uhf",
                        std::to_string(multiplicity - 1)};
          expected.insert(expected.end(), method_args.begin(), method_args.end());
          if (solvent) expected.insert(expected.end(), {"--" + solvent->model, solvent->name});
          expected.insert(expected.end(), task_args.begin(), task_args.end());
          if (method != "gfnff") expected.push_back("--json");
          BOOST_TEST(args(s) == expected, boost::test_tools::per_element());
          ++checked;
        }
  BOOST_TEST(checked == 5 * 3 * 3 * 5);
}

BOOST_AUTO_TEST_CASE(keywords_become_flags) {
  auto s = spec("optimize");
  s.keywords = {{"opt_level", "tight"},
                {"accuracy", 0.5},
                {"electronic_temperature", 1000},
                {"max_iterations", 500},
                {"max_opt_cycles", 40}};
  BOOST_TEST(nox::xtb::validate_xtb_spec(s).empty());
  BOOST_TEST(
      args(s) == (Args{"mol.xyz", "--chrg", "0", "--uhf", "0", "--gfn", "2", "--opt", "tight", "--json",
                       "--acc", "0.5", "--etemp", "1000", "--iterations", "500", "--cycles", "40"}),
      boost::test_tools::per_element());

  // Optimization settings mean nothing to a single point and are left off.
  s.task = "energy";
  BOOST_TEST(args(s) == (Args{"mol.xyz", "--chrg", "0", "--uhf", "0", "--gfn", "2", "--sp", "--json", "--acc",
                              "0.5", "--etemp", "1000", "--iterations", "500"}),
             boost::test_tools::per_element());

  s.task = "optimize_hessian";
  s.keywords = {{"opt_level", "vtight"}};
  BOOST_TEST(
      args(s) == (Args{"mol.xyz", "--chrg", "0", "--uhf", "0", "--gfn", "2", "--ohess", "vtight", "--json"}),
      boost::test_tools::per_element());
}

// The density cube is computed by Nox from molden.input (engines/xtb/density_cube.hpp): xtb is
// asked for the orbitals, not for its own density.cub.
BOOST_AUTO_TEST_CASE(molden_and_density_cube) {
  auto s = spec();
  s.outputs = {"molden", "density_cube"};
  auto built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch");
  BOOST_TEST(Args(built.command.argv.begin() + 1, built.command.argv.end()) ==
                 (Args{"mol.xyz", "--chrg", "0", "--uhf", "0", "--gfn", "2", "--sp", "--json", "--molden"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(built.files.size() == 1u);
  BOOST_TEST(built.files[0].name == "mol.xyz");
  s.outputs = {"density_cube"};
  built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch");
  BOOST_TEST(built.command.argv.back() == "--molden");

  // An open shell also gets its spin density, which is xtb's.
  s.charge = 1;
  s.multiplicity = 2;
  built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch");
  BOOST_REQUIRE(built.files.size() == 2u);
  BOOST_TEST(built.files[1].content == "$write\n   spin density=true\n$cube\n   step=0.4\n   pthr=0.05\n$end\n");
}

BOOST_AUTO_TEST_CASE(spin_density_and_thermo_temperature_go_into_xtb_inp) {
  auto s = spec("optimize_hessian");
  s.keywords["thermo_temperature"] = 500.0;
  auto built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch");
  BOOST_REQUIRE(built.files.size() == 2u);
  BOOST_TEST(built.files[1].content == "$thermo\n   temp=500\n$end\n");
  // Only a Hessian has thermochemistry: an energy needs no xtb.inp for it.
  s.task = "energy";
  BOOST_TEST(nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch").files.size() == 1u);
  s.keywords.erase("thermo_temperature");
  s.charge = 1;
  s.multiplicity = 2;
  s.outputs = {"spin_density_cube", "wbo"};
  built = nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch");
  BOOST_REQUIRE(built.files.size() == 2u);
  BOOST_TEST(built.files[1].content == "$write\n   spin density=true\n$cube\n   step=0.4\n   pthr=0.05\n$end\n");
  // A closed shell has no spin density: xtb would silently write nothing.
  s.charge = 0;
  s.multiplicity = 1;
  s.outputs = {"spin_density_cube"};
  const auto errors = nox::xtb::validate_xtb_spec(s);
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].message.find("no spin density") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refusals) {
  using nox::xtb::validate_xtb_spec;
  auto s = spec("energy", "gfn0");
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"method"});
  BOOST_CHECK_THROW(nox::xtb::build_xtb_command(s, "/usr/bin/xtb", "/scratch"), std::invalid_argument);

  s = spec("energy", "gfnff");
  s.outputs = {"molden"};
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"outputs"});

  s = spec("scan");
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"task"});

  // Water with one extra electron cannot be a singlet; xtb would quietly run a doublet.
  s = spec();
  s.charge = -1;
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"multiplicity"});
  s.charge = 0;
  s.multiplicity = 13;
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"multiplicity"});
  s.multiplicity = 0;
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"multiplicity"});
  s.multiplicity = 1;
  s.charge = 12;
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"charge"});

  s = spec();
  s.solvent = nox::Solvent{"cosmo", "water"};
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"solvent.model"});
  s.solvent = nox::Solvent{"alpb", "wa\"ter"};
  BOOST_TEST(fields(validate_xtb_spec(s)) == std::set<std::string>{"solvent.name"});

  s = spec();
  s.keywords = {{"opt_level", "bogus"},  {"accuracy", 0},       {"electronic_temperature", -1},
                {"max_iterations", 2.5}, {"max_opt_cycles", 0}, {"basis", "sto-3g"}};
  BOOST_TEST(
      fields(validate_xtb_spec(s)) ==
      (std::set<std::string>{"keywords.opt_level", "keywords.accuracy", "keywords.electronic_temperature",
                             "keywords.max_iterations", "keywords.max_opt_cycles", "keywords.basis"}));

  s = spec();
  s.molecule.atoms.clear();
  BOOST_TEST(fields(validate_xtb_spec(s)).count("molecule") == 1u);
}

BOOST_AUTO_TEST_CASE(engine_prepare_writes_the_inputs) {
  TempDir dir;
  nox::XtbEngine engine("/usr/bin/xtb");
  BOOST_TEST(engine.name() == "xtb");
  BOOST_TEST(engine.uses_subprocess());
  auto s = spec("optimize");
  s.outputs = {"spin_density_cube"};
  s.charge = 1;
  s.multiplicity = 2;
  auto command = engine.prepare(s, dir.path);
  BOOST_TEST(command.argv.front() == "/usr/bin/xtb");
  BOOST_TEST(slurp(dir.path / "mol.xyz") == water().to_xyz());
  BOOST_TEST(slurp(dir.path / "xtb.inp").starts_with("$write\n"));
  auto home =
      std::find_if(command.env.begin(), command.env.end(), [](auto& kv) { return kv.first == "HOME"; });
  BOOST_REQUIRE(home != command.env.end());
  BOOST_TEST(home->second == dir.path.string());
  BOOST_TEST(dynamic_cast<nox::xtb::XtbProgressParser*>(engine.progress_parser().get()) != nullptr);

  // A scratch dir that is gone: no command for a missing input.
  BOOST_CHECK_THROW(engine.prepare(s, dir.path / "missing"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(version_probe_and_path_search) {
  TempDir dir;
  // A stand-in that prints what xtb 6.5.1 prints for --version (and checks it got it).
  const fs::path fake = dir.path / "xtb";
  {
    std::ofstream out(fake);
    out << "#!/bin/sh\n[ \"$1\" = --version ] || exit 3\n"
           "echo '      -----------------------------------------------------------      '\n"
           "echo '   * xtb version 6.5.1 (unknown) compiled by '\\''builduser@buildhost'\\'' on 2022-12-09'\n"
           "echo 'normal termination of xtb' >&2\n";
  }
  ::chmod(fake.c_str(), 0755);
  BOOST_TEST(nox::probe_xtb_version(fake).value_or("none") == "6.5.1");
  BOOST_TEST(!nox::probe_xtb_version(dir.path / "missing"));

  const fs::path broken = dir.path / "broken";
  {
    std::ofstream out(broken);
    out << "#!/bin/sh\necho 'no version here'\n";
  }
  ::chmod(broken.c_str(), 0755);
  BOOST_TEST(!nox::probe_xtb_version(broken));

  BOOST_TEST(nox::find_on_path(fake.string()).value_or("none") == fake);
  BOOST_TEST(!nox::find_on_path((dir.path / "missing").string()));
  BOOST_TEST(nox::find_on_path("sh").has_value());
  BOOST_TEST(!nox::find_on_path("nox-no-such-program-anywhere"));
  BOOST_TEST(!nox::find_on_path(""));
}

BOOST_AUTO_TEST_SUITE_END()
