// Job spec validation: every rule has a case, plus the to_json round trip.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <variant>

#include "core/clock.hpp"
#include "core/job.hpp"
#include "core/job_id.hpp"
#include "core/job_spec.hpp"
#include "core/smiles_syntax.hpp"

namespace json = boost::json;

namespace {

const char* const kWaterXyz = "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n";

// A valid spec (water) with `extra` fields merged over it; a null in `extra` removes the field.
json::object spec_with(const json::object& extra) {
  json::object o{{"engine", "xtb"}, {"molecule", json::object{{"xyz", kWaterXyz}}}};
  for (const auto& [k, v] : extra) o[k] = v;
  return o;
}

json::object spec_with(std::string_view extra_json) { return spec_with(json::parse(extra_json).as_object()); }

nox::JobSpec parse_ok(const json::value& body, const nox::SpecLimits& limits = {}) {
  auto r = nox::parse_job_spec(body, limits);
  if (auto* errors = std::get_if<nox::FieldErrors>(&r)) {
    std::ostringstream out;
    for (const auto& e : *errors) out << "\n  " << e.field << ": " << e.message;
    BOOST_FAIL("unexpected spec errors:" << out.str() << "\nfor " << json::serialize(body));
  }
  return std::get<nox::JobSpec>(std::move(r));
}

nox::FieldErrors parse_errors(const json::value& body, const nox::SpecLimits& limits = {}) {
  auto r = nox::parse_job_spec(body, limits);
  if (std::holds_alternative<nox::JobSpec>(r)) BOOST_FAIL("expected errors for " << json::serialize(body));
  return std::get<nox::FieldErrors>(std::move(r));
}

// Exactly one error, on `field`, whose message contains `part`.
void expect_one_error(const json::value& body, std::string_view field, std::string_view part,
                      const nox::SpecLimits& limits = {}) {
  const nox::FieldErrors errors = parse_errors(body, limits);
  BOOST_TEST_CONTEXT(json::serialize(body)) {
    BOOST_TEST_REQUIRE(errors.size() == 1u);
    BOOST_TEST(errors[0].field == field);
    BOOST_TEST(errors[0].message.find(part) != std::string::npos, "message: " << errors[0].message);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_job_spec)

// ---------------------------------------------------------------- whole body

BOOST_AUTO_TEST_CASE(minimal_spec_gets_defaults) {
  const nox::JobSpec s = parse_ok(spec_with(json::object{}));
  BOOST_TEST(s.engine == "xtb");
  BOOST_TEST(s.task == "energy");
  BOOST_TEST(s.method == "gfn2");
  BOOST_TEST(s.molecule.atoms.size() == 3u);
  BOOST_TEST(s.molecule.comment == "water");
  BOOST_TEST(s.charge == 0);
  BOOST_TEST(s.multiplicity == 1);
  BOOST_TEST(!s.solvent.has_value());
  BOOST_TEST(s.keywords.empty());
  BOOST_TEST(s.outputs.empty());
  BOOST_TEST(s.priority == 0);
  BOOST_TEST(s.timeout_s == 3600.0);
  BOOST_TEST(s.max_attempts == 1);
  BOOST_TEST(s.tags.empty());
  BOOST_TEST(s.name == "");
}

BOOST_AUTO_TEST_CASE(design_example_parses) {
  const json::value body = json::parse(R"({ "engine": "xtb", "task": "optimize", "method": "gfn2",
    "molecule": {"xyz": "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"},
    "charge": 0, "multiplicity": 1,
    "solvent": {"model": "alpb", "name": "water"},
    "keywords": {"opt_level": "tight", "accuracy": 1.0, "electronic_temperature": 300},
    "outputs": ["molden", "density_cube"],
    "priority": 0, "timeout_s": 600, "max_attempts": 1, "run_at": null,
    "tags": ["screening-42"], "name": "water opt" })");
  const nox::JobSpec s = parse_ok(body);
  BOOST_TEST(s.task == "optimize");
  BOOST_TEST_REQUIRE(s.solvent.has_value());
  BOOST_TEST(s.solvent->model == "alpb");
  BOOST_TEST(s.solvent->name == "water");
  BOOST_TEST(s.keywords.at("opt_level").as_string() == "tight");
  BOOST_TEST(s.keywords.at("accuracy").as_double() == 1.0);
  BOOST_TEST(s.keywords.at("electronic_temperature").as_double() == 300.0);
  BOOST_TEST_REQUIRE(s.outputs.size() == 2u);
  BOOST_TEST(s.outputs[0] == "molden");
  BOOST_TEST(s.outputs[1] == "density_cube");
  BOOST_TEST(s.timeout_s == 600.0);
  BOOST_TEST_REQUIRE(s.tags.size() == 1u);
  BOOST_TEST(s.tags[0] == "screening-42");
  BOOST_TEST(s.name == "water opt");
}

BOOST_AUTO_TEST_CASE(body_must_be_an_object) {
  for (const char* text : {"[]", "\"xtb\"", "null", "42", "true"}) {
    BOOST_TEST_CONTEXT(text) {
      const nox::FieldErrors errors = parse_errors(json::parse(text));
      BOOST_TEST_REQUIRE(errors.size() == 1u);
      BOOST_TEST(errors[0].field == "");
      BOOST_TEST(errors[0].message == "the job spec must be a JSON object");
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_object_reports_both_required_fields) {
  const nox::FieldErrors errors = parse_errors(json::object{});
  BOOST_TEST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].field == "engine");
  BOOST_TEST(errors[0].message.find("required") != std::string::npos);
  BOOST_TEST(errors[1].field == "molecule");
  BOOST_TEST(errors[1].message.find("required") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_top_level_fields) {
  expect_one_error(spec_with(R"({"colour": "blue"})"), "colour", "unknown field");
  // A near miss gets a suggestion.
  expect_one_error(spec_with(R"({"solvant": null})"), "solvant", "did you mean \"solvent\"?");
  expect_one_error(spec_with(R"({"Charge": 0})"), "Charge", "did you mean \"charge\"?");
  const nox::FieldErrors far = parse_errors(spec_with(R"({"zzzzzzzz": 1})"));
  BOOST_TEST(far[0].message == "unknown field");
}

BOOST_AUTO_TEST_CASE(all_errors_are_collected_in_field_order) {
  const nox::FieldErrors errors = parse_errors(json::parse(R"({
    "engine": "gaussian", "task": "md", "method": 2,
    "molecule": {"xyz": "1\n\nXx 0 0 0\n"}, "charge": "0", "multiplicity": 0,
    "solvent": "water", "keywords": {"bogus": 1}, "outputs": ["pdf"], "priority": 5000,
    "timeout_s": 0, "max_attempts": 99, "run_at": "2030-01-01 noon",
    "tags": [""], "name": 7, "extra": true })"));
  const std::vector<std::string> fields = {"engine",     "task",         "method",    "molecule.xyz",
                                           "charge",     "multiplicity", "solvent",   "keywords.bogus",
                                           "outputs[0]", "priority",     "timeout_s", "max_attempts",
                                           "run_at",     "tags[0]",      "name",      "extra"};
  BOOST_TEST_REQUIRE(errors.size() == fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) BOOST_TEST(errors[i].field == fields[i]);
}

// ---------------------------------------------------------------- engine, task, method

BOOST_AUTO_TEST_CASE(engine_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"engine": "echo"})")).engine == "echo");
  BOOST_TEST(parse_ok(spec_with(R"({"engine": "XTB"})")).engine == "xtb");
  expect_one_error(spec_with(R"({"engine": "gaussian"})"), "engine",
                   "unknown engine \"gaussian\"; one of xtb, mopac, echo");
  expect_one_error(spec_with(R"({"engine": 1})"), "engine",
                   "expected a string (one of xtb, mopac, echo), got a number");
  expect_one_error(spec_with(R"({"engine": null})"), "engine", "required");
  json::object missing = spec_with(json::object{});
  missing.erase("engine");
  expect_one_error(missing, "engine", "required: one of xtb, mopac, echo");
}

BOOST_AUTO_TEST_CASE(task_values) {
  for (const char* task : {"energy", "gradient", "optimize", "hessian", "optimize_hessian"}) {
    BOOST_TEST(parse_ok(spec_with(json::object{{"task", task}})).task == task);
  }
  BOOST_TEST(parse_ok(spec_with(R"({"task": "Optimize"})")).task == "optimize");
  BOOST_TEST(parse_ok(spec_with(R"({"task": null})")).task == "energy");
  expect_one_error(spec_with(R"({"task": "md"})"), "task", "unknown task \"md\"; one of energy, gradient");
  expect_one_error(spec_with(R"({"task": ["energy"]})"), "task", "expected a string");
  expect_one_error(spec_with(R"({"task": ["energy"]})"), "task", "got an array");
}

BOOST_AUTO_TEST_CASE(method_values) {
  for (const char* method : {"gfn2", "gfn1", "gfn0", "gfnff"}) {
    BOOST_TEST(parse_ok(spec_with(json::object{{"method", method}})).method == method);
  }
  BOOST_TEST(parse_ok(spec_with(R"({"method": "GFN2"})")).method == "gfn2");
  expect_one_error(spec_with(R"({"method": "b3lyp"})"), "method", "unknown method \"b3lyp\"");
  expect_one_error(spec_with(R"({"method": 2})"), "method",
                   "expected a string (one of gfn2, gfn1, gfn0, gfnff)");
}

// ---------------------------------------------------------------- molecule

BOOST_AUTO_TEST_CASE(molecule_must_be_an_object_with_one_form) {
  expect_one_error(spec_with(R"({"molecule": null})"), "molecule", "required");
  expect_one_error(spec_with(json::object{{"molecule", kWaterXyz}}), "molecule", "expected an object");
  expect_one_error(spec_with(R"({"molecule": {}})"), "molecule", "give one of xyz, symbols + geometry");
  expect_one_error(spec_with(json::object{{"molecule", json::object{{"xyz", kWaterXyz}, {"smiles", "O"}}}}),
                   "molecule",
                   "give exactly one of xyz, symbols + geometry, smiles, sdf, mol, mol2 or pdb; found xyz and smiles");
  expect_one_error(spec_with(json::object{{"molecule", json::object{{"xyz", kWaterXyz}, {"charge", 0}}}}),
                   "molecule.charge", "unknown field");
}

BOOST_AUTO_TEST_CASE(xyz_errors_name_the_line) {
  expect_one_error(
      spec_with(R"({"molecule": {"xyz": "3\nwater\nO 0 0 0.117\nQ 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}})"),
      "molecule.xyz", "line 4: unknown element \"Q\"");
  expect_one_error(spec_with(R"({"molecule": {"xyz": "two\n\nH 0 0 0\nH 0 0 0.74\n"}})"), "molecule.xyz",
                   "line 1: expected the number of atoms");
  expect_one_error(spec_with(R"({"molecule": {"xyz": 3}})"), "molecule.xyz",
                   "expected a string (XYZ text), got a number");
}

BOOST_AUTO_TEST_CASE(max_atoms_limit_applies_to_xyz) {
  nox::SpecLimits limits;
  limits.max_atoms = 2;
  expect_one_error(spec_with(json::object{}), "molecule.xyz",
                   "line 1: \"3\" atoms is more than the limit of 2", limits);
}

// Text formats are checked for form here and converted by the server (Open Babel) later.
BOOST_AUTO_TEST_CASE(text_formats_wait_for_conversion) {
  const nox::JobSpec s = parse_ok(spec_with(R"({"molecule": {"smiles": "  CCO ethanol\n"}})"));
  BOOST_TEST_REQUIRE(s.molecule_source.has_value());
  BOOST_TEST(s.molecule_source->format == "smiles");
  BOOST_TEST(s.molecule_source->text == "CCO ethanol");
  BOOST_TEST(s.molecule.atoms.empty());
  BOOST_TEST(!s.charge_given);
  for (const char* format : {"sdf", "mol", "mol2", "pdb"}) {
    BOOST_TEST(parse_ok(spec_with(json::object{{"molecule", {{format, "anything"}}}})).molecule_source->format == format);
    expect_one_error(spec_with(json::object{{"molecule", {{format, " \n"}}}}), std::string("molecule.") + format, "is empty");
  }
  BOOST_TEST(parse_ok(spec_with(R"({"molecule": {"smiles": "O"}, "charge": 0})")).charge_given);
  expect_one_error(spec_with(R"({"molecule": {"smiles": "C1CCCCC1CC2CC"}})"), "molecule.smiles",
                   "ring bond 2 opened at position 11 is never closed");
  expect_one_error(spec_with(R"({"molecule": {"smiles": "CC(=O"}})"), "molecule.smiles",
                   "branch opened at position 3 is never closed with ')'");
  expect_one_error(spec_with(R"({"molecule": {"smiles": 5}})"), "molecule.smiles", "expected a string");
}

// The stored form of a converted molecule parses back to the same spec.
BOOST_AUTO_TEST_CASE(converted_molecule_round_trips) {
  nox::JobSpec s = parse_ok(spec_with(json::object{}));
  s.molecule_source = nox::MoleculeSource{"smiles", "O"};
  s.identifiers = nox::MoleculeIdentifiers{"O", "InChI=1S/H2O/h1H2", "XLYOFNOQVPJJNP-UHFFFAOYSA-N", "H2O"};
  const json::object stored = s.to_json();
  const nox::JobSpec again = parse_ok(stored);
  BOOST_TEST(again.molecule_source->text == "O");
  BOOST_TEST(again.identifiers->inchikey == "XLYOFNOQVPJJNP-UHFFFAOYSA-N");
  BOOST_TEST(json::serialize(again.to_json()) == json::serialize(stored));
  expect_one_error(spec_with(R"({"molecule": {"smiles": "O", "identifiers": {}}})"), "molecule",
                   "from and identifiers only come with xyz");
}

BOOST_AUTO_TEST_CASE(smiles_syntax_names_the_position) {
  BOOST_TEST(!nox::smiles_syntax_error("c1ccccc1C(=O)[O-]").has_value());
  BOOST_TEST(!nox::smiles_syntax_error("C%10CC%10").has_value());
  BOOST_TEST(!nox::smiles_syntax_error("C1CC1 cyclopropane (1").has_value());  // the title is not SMILES
  BOOST_TEST(nox::smiles_syntax_error("CCC1CCC").value_or("") == "ring bond 1 opened at position 4 is never closed");
  BOOST_TEST(nox::smiles_syntax_error("C)C").value_or("") == "')' at position 2 closes no branch");
  BOOST_TEST(nox::smiles_syntax_error("C[NH4+").value_or("") == "bracket atom opened at position 2 is never closed with ']'");
  BOOST_TEST(nox::smiles_syntax_error("C%1C").value_or("") == "'%' at position 2 must be followed by a two-digit ring-bond number");
  BOOST_TEST(nox::smiles_syntax_error("CC\nO").value_or("").starts_with("holds a line break at position 3"));
  BOOST_TEST(nox::smiles_syntax_error("").value_or("") == "is empty");
}

BOOST_AUTO_TEST_CASE(symbols_and_geometry_in_bohr) {
  const nox::JobSpec s = parse_ok(spec_with(R"({"molecule": {"symbols": ["o", "H", "h"],
                                          "geometry": [0, 0, 0, 0, 1.43, 1.1, 0, -1.43, 1.1]}})"));
  BOOST_TEST_REQUIRE(s.molecule.atoms.size() == 3u);
  BOOST_TEST(s.molecule.atoms[0].symbol == "O");
  BOOST_TEST(s.molecule.atoms[2].symbol == "H");
  BOOST_TEST(std::abs(s.molecule.atoms[1].y - 1.43 * 0.52917721067) < 1e-12);
  BOOST_TEST(std::abs(s.molecule.atoms[2].z - 1.1 * 0.52917721067) < 1e-12);
  BOOST_TEST(s.molecule.formula() == "H2O");
  // Nested [x, y, z] triples are read too.
  const nox::JobSpec nested =
      parse_ok(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [[0, 0, 0], [0, 0, 1.4]]}})"));
  BOOST_TEST(std::abs(nested.molecule.atoms[1].z - 1.4 * 0.52917721067) < 1e-12);
}

BOOST_AUTO_TEST_CASE(symbols_and_geometry_errors) {
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"]}})"), "molecule.geometry",
                   "required together with molecule.symbols");
  expect_one_error(spec_with(R"({"molecule": {"geometry": [0, 0, 0]}})"), "molecule.symbols",
                   "required together with molecule.geometry");
  expect_one_error(spec_with(R"({"molecule": {"symbols": "HH", "geometry": [0, 0, 0, 0, 0, 1.4]}})"),
                   "molecule.symbols", "expected an array of element symbols, got a string");
  expect_one_error(spec_with(R"({"molecule": {"symbols": [], "geometry": []}})"), "molecule.symbols",
                   "at least one atom");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "Qq"], "geometry": [0, 0, 0, 0, 0, 1.4]}})"),
                   "molecule.symbols", "item 1 is the unknown element \"Qq\"");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", 1], "geometry": [0, 0, 0, 0, 0, 1.4]}})"),
                   "molecule.symbols", "item 1 is a number, not an element symbol");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [0, 0, 0, 0, 0]}})"),
                   "molecule.geometry", "expected 3 numbers per atom (6 for 2 atoms), found 5");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [0, 0, 0, 0, "0", 1.4]}})"),
                   "molecule.geometry", "item 4 is a string, not a number");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [0, 0, 0, 0, 0, 1e300]}})"),
                   "molecule.geometry", "item 5 (1e+300) is out of range");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": {"x": 1}}})"),
                   "molecule.geometry", "expected an array of numbers in bohr");
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [[0, 0], [0, 0, 1.4]]}})"),
                   "molecule.geometry", "item 0 has 2 numbers");
  // 0.1 bohr = 0.053 Angstrom: overlapping.
  expect_one_error(
      spec_with(R"({"molecule": {"symbols": ["O", "H", "H"], "geometry": [0, 0, 0, 0, 0, 1.8, 0, 0, 1.9]}})"),
      "molecule.geometry", "atoms 2 (H) and 3 (H) are 0.0529177 Angstrom apart");
}

BOOST_AUTO_TEST_CASE(max_atoms_limit_applies_to_symbols) {
  nox::SpecLimits limits;
  limits.max_atoms = 1;
  expect_one_error(spec_with(R"({"molecule": {"symbols": ["H", "H"], "geometry": [0, 0, 0, 0, 0, 1.4]}})"),
                   "molecule.symbols", "2 atoms is more than the limit of 1", limits);
}

// ---------------------------------------------------------------- charge and multiplicity

BOOST_AUTO_TEST_CASE(charge_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"charge": -1, "multiplicity": 2})")).charge == -1);
  BOOST_TEST(parse_ok(spec_with(R"({"charge": 2.0})")).charge == 2);  // integral double
  expect_one_error(spec_with(R"({"charge": 0.5})"), "charge", "expected an integer, got 0.5");
  expect_one_error(spec_with(R"({"charge": "0"})"), "charge", "expected an integer, got a string");
  expect_one_error(spec_with(R"({"charge": 10000000})"), "charge", "must be between -1000000 and 1000000");
}

BOOST_AUTO_TEST_CASE(charge_must_leave_electrons) {
  // Water's nuclei carry 10.
  expect_one_error(spec_with(R"({"charge": 10})"), "charge", "a charge of 10 leaves 0 electrons");
  expect_one_error(spec_with(R"({"charge": 12})"), "charge", "leaves -2 electrons (the nuclei carry 10)");
  // H2+ keeps one electron.
  BOOST_TEST(parse_ok(spec_with(R"({"molecule": {"xyz": "2\n\nH 0 0 0\nH 0 0 0.74\n"}, "charge": 1,
                                    "multiplicity": 2})"))
                 .charge == 1);
}

BOOST_AUTO_TEST_CASE(multiplicity_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"multiplicity": 3})")).multiplicity == 3);  // triplet water: 10 electrons
  expect_one_error(spec_with(R"({"multiplicity": 0})"), "multiplicity", "must be between 1 and");
  expect_one_error(spec_with(R"({"multiplicity": -1})"), "multiplicity", "must be between 1 and");
  expect_one_error(spec_with(R"({"multiplicity": "singlet"})"), "multiplicity",
                   "expected an integer, got a string");
  expect_one_error(spec_with(R"({"multiplicity": 1.5})"), "multiplicity", "expected an integer");
}

BOOST_AUTO_TEST_CASE(multiplicity_parity) {
  // OH radical: 9 electrons.
  const json::object oh = spec_with(R"({"molecule": {"xyz": "2\n\nO 0 0 0\nH 0 0 0.97\n"}})");
  expect_one_error(oh, "multiplicity", "9 electrons cannot have multiplicity 1; use 2");
  json::object oh3 = oh;
  oh3["multiplicity"] = 3;
  expect_one_error(oh3, "multiplicity", "9 electrons cannot have multiplicity 3; use 2 or 4");
  json::object oh2 = oh;
  oh2["multiplicity"] = 2;
  BOOST_TEST(parse_ok(oh2).multiplicity == 2);
  // Hydroxide: 10 electrons, singlet.
  json::object hydroxide = oh;
  hydroxide["charge"] = -1;
  BOOST_TEST(parse_ok(hydroxide).multiplicity == 1);
  expect_one_error(spec_with(R"({"multiplicity": 2})"), "multiplicity",
                   "10 electrons cannot have multiplicity 2; use 1 or 3");
  // Water cation: 9 electrons.
  expect_one_error(spec_with(R"({"charge": 1})"), "multiplicity",
                   "9 electrons cannot have multiplicity 1; use 2");
}

BOOST_AUTO_TEST_CASE(multiplicity_cannot_exceed_the_electrons) {
  const json::object h = spec_with(R"({"molecule": {"xyz": "1\n\nH 0 0 0\n"}, "multiplicity": 4})");
  expect_one_error(h, "multiplicity",
                   "multiplicity 4 needs 3 unpaired electrons, but there are only 1 electrons");
  // One electron, multiplicity 2: the only valid choice, and the suggestion never goes above it.
  const json::object h1 = spec_with(R"({"molecule": {"xyz": "1\n\nH 0 0 0\n"}, "multiplicity": 1})");
  expect_one_error(h1, "multiplicity", "1 electrons cannot have multiplicity 1; use 2");
  const json::object h3 = spec_with(R"({"molecule": {"xyz": "1\n\nH 0 0 0\n"}, "multiplicity": 3})");
  const nox::FieldErrors e = parse_errors(h3);
  BOOST_TEST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].message == "multiplicity 3 needs 2 unpaired electrons, but there are only 1 electrons");
}

BOOST_AUTO_TEST_CASE(no_parity_check_when_a_part_is_invalid) {
  // A bad molecule must not also produce a confusing multiplicity error.
  const nox::FieldErrors e = parse_errors(spec_with(R"({"molecule": {"xyz": "x"}, "multiplicity": 2})"));
  BOOST_TEST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].field == "molecule.xyz");
}

// ---------------------------------------------------------------- solvent

BOOST_AUTO_TEST_CASE(solvent_values) {
  BOOST_TEST(!parse_ok(spec_with(R"({"solvent": null})")).solvent.has_value());
  const nox::JobSpec s = parse_ok(spec_with(R"({"solvent": {"model": "ALPB", "name": "Water"}})"));
  BOOST_TEST_REQUIRE(s.solvent.has_value());
  BOOST_TEST(s.solvent->model == "alpb");
  BOOST_TEST(s.solvent->name == "water");
  const nox::JobSpec no_model = parse_ok(spec_with(R"({"solvent": {"name": "toluene"}})"));
  BOOST_TEST(no_model.solvent->model == "alpb");
  const nox::JobSpec gbsa = parse_ok(spec_with(R"({"solvent": {"model": "gbsa", "name": "H2O"}})"));
  BOOST_TEST(gbsa.solvent->model == "gbsa");
  BOOST_TEST(gbsa.solvent->name == "water");
}

BOOST_AUTO_TEST_CASE(every_alpb_solvent_is_accepted) {
  for (const char* name :
       {"acetone",      "acetonitrile", "aniline",    "benzaldehyde", "benzene",  "ch2cl2",
        "chcl3",        "cs2",          "dioxane",    "dmf",          "dmso",     "ether",
        "ethylacetate", "furane",       "hexadecane", "hexane",       "methanol", "nitromethane",
        "octanol",      "woctanol",     "phenol",     "toluene",      "thf",      "water"}) {
    for (const char* method : {"gfn2", "gfn1", "gfnff"}) {
      BOOST_TEST_CONTEXT(name << " " << method) {
        const nox::JobSpec s = parse_ok(
            spec_with(json::object{{"method", method}, {"solvent", {{"model", "alpb"}, {"name", name}}}}));
        BOOST_TEST(s.solvent->name == name);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(solvent_aliases) {
  auto name_of = [](const char* model, const char* name) {
    return parse_ok(spec_with(json::object{{"solvent", {{"model", model}, {"name", name}}}})).solvent->name;
  };
  BOOST_TEST(name_of("alpb", "h2o") == "water");
  BOOST_TEST(name_of("alpb", "hexandecane") == "hexadecane");  // xtb --help's spelling
  BOOST_TEST(name_of("gbsa", "n-hexan") == "hexane");
  BOOST_TEST(name_of("gbsa", "n-hexane") == "hexane");
}

BOOST_AUTO_TEST_CASE(gbsa_solvents_depend_on_the_method) {
  auto spec = [](const char* method, const char* name) {
    return spec_with(json::object{{"method", method}, {"solvent", {{"model", "gbsa"}, {"name", name}}}});
  };
  for (const char* name : {"acetone", "acetonitrile", "benzene", "ch2cl2", "chcl3", "cs2", "dmso", "ether",
                           "methanol", "thf", "toluene", "water"}) {
    for (const char* method : {"gfn2", "gfn1", "gfnff"}) {
      BOOST_TEST_CONTEXT(name << " " << method) { parse_ok(spec(method, name)); }
    }
  }
  parse_ok(spec("gfn2", "dmf"));
  parse_ok(spec("gfn2", "hexane"));
  parse_ok(spec("gfnff", "dmf"));
  expect_one_error(spec("gfn1", "dmf"), "solvent.name", "xtb has no GBSA parameters for dmf with gfn1");
  expect_one_error(spec("gfn1", "n-hexane"), "solvent.name",
                   "xtb has no GBSA parameters for hexane with gfn1");
  expect_one_error(spec("gfn2", "aniline"), "solvent.name", "unknown GBSA solvent \"aniline\"");
}

BOOST_AUTO_TEST_CASE(solvent_errors) {
  expect_one_error(spec_with(R"({"solvent": "water"})"), "solvent", "expected an object");
  expect_one_error(spec_with(R"({"solvent": {"model": "alpb", "name": "seawater"}})"), "solvent.name",
                   "unknown ALPB solvent \"seawater\"; known: acetone");
  expect_one_error(spec_with(R"({"solvent": {"model": "cosmo", "name": "water"}})"), "solvent.model",
                   "unknown solvation model \"cosmo\" for xtb; one of alpb, gbsa");
  expect_one_error(spec_with(R"({"solvent": {"model": 1, "name": "water"}})"), "solvent.model",
                   "expected a string (alpb, gbsa), got a number");
  expect_one_error(spec_with(R"({"solvent": {"model": "alpb"}})"), "solvent.name", "required");
  expect_one_error(spec_with(R"({"solvent": {"model": "alpb", "name": ["water"]}})"), "solvent.name",
                   "expected a string");
  expect_one_error(spec_with(R"({"solvent": {"name": "water", "epsilon": 80}})"), "solvent.epsilon",
                   "unknown field");
  expect_one_error(spec_with(R"({"method": "gfn0", "solvent": {"name": "water"}})"), "solvent",
                   "xtb has no implicit solvation for gfn0");
}

// ---------------------------------------------------------------- keywords

BOOST_AUTO_TEST_CASE(keyword_values) {
  const nox::JobSpec s = parse_ok(spec_with(
      R"({"keywords": {"opt_level": "VTight", "accuracy": 0.0001, "electronic_temperature": 50000,
                       "max_iterations": 10000}})"));
  BOOST_TEST(s.keywords.size() == 4u);
  BOOST_TEST(s.keywords.at("opt_level").as_string() == "vtight");
  BOOST_TEST(s.keywords.at("accuracy").as_double() == 0.0001);
  BOOST_TEST(s.keywords.at("electronic_temperature").as_double() == 50000.0);
  BOOST_TEST(s.keywords.at("max_iterations").as_int64() == 10000);
  for (const char* level : {"crude", "sloppy", "loose", "lax", "normal", "tight", "vtight", "extreme"}) {
    parse_ok(spec_with(json::object{{"keywords", {{"opt_level", level}}}}));
  }
  BOOST_TEST(parse_ok(spec_with(R"({"keywords": {"accuracy": 1000, "electronic_temperature": 1,
                                                 "max_iterations": 1}})"))
                 .keywords.size() == 3u);
  BOOST_TEST(parse_ok(spec_with(R"({"keywords": null})")).keywords.empty());
}

BOOST_AUTO_TEST_CASE(keyword_errors) {
  expect_one_error(spec_with(R"({"keywords": []})"), "keywords", "expected an object, got an array");
  expect_one_error(spec_with(R"({"keywords": {"gfn": 2}})"), "keywords.gfn",
                   "unknown keyword for xtb; allowed: opt_level, accuracy, electronic_temperature, max_iterations");
  expect_one_error(spec_with(R"({"keywords": {"opt_level": "ultra"}})"), "keywords.opt_level",
                   "unknown optimization level \"ultra\"");
  expect_one_error(spec_with(R"({"keywords": {"opt_level": 3}})"), "keywords.opt_level", "expected a string");
  expect_one_error(spec_with(R"({"keywords": {"accuracy": 0.00001}})"), "keywords.accuracy",
                   "must be between 0.0001 and 1000, got 1e-05");
  expect_one_error(spec_with(R"({"keywords": {"accuracy": 1001}})"), "keywords.accuracy", "must be between");
  expect_one_error(spec_with(R"({"keywords": {"accuracy": "1"}})"), "keywords.accuracy",
                   "expected a number, got a string");
  expect_one_error(spec_with(R"({"keywords": {"electronic_temperature": 0.5}})"),
                   "keywords.electronic_temperature", "must be between 1 and 50000, got 0.5");
  expect_one_error(spec_with(R"({"keywords": {"electronic_temperature": 50001}})"),
                   "keywords.electronic_temperature", "must be between 1 and 50000");
  expect_one_error(spec_with(R"({"keywords": {"max_iterations": 0}})"), "keywords.max_iterations",
                   "must be between 1 and 10000, got 0");
  expect_one_error(spec_with(R"({"keywords": {"max_iterations": 10001}})"), "keywords.max_iterations",
                   "must be between 1 and 10000");
  expect_one_error(spec_with(R"({"keywords": {"max_iterations": 2.5}})"), "keywords.max_iterations",
                   "expected an integer, got 2.5");
  expect_one_error(spec_with(R"({"keywords": {"max_iterations": "10"}})"), "keywords.max_iterations",
                   "expected an integer, got a string");
  // One error per bad keyword.
  BOOST_TEST(parse_errors(spec_with(R"({"keywords": {"a": 1, "b": 2, "accuracy": -1}})")).size() == 3u);
}

// ---------------------------------------------------------------- outputs

BOOST_AUTO_TEST_CASE(outputs_values) {
  const nox::JobSpec s = parse_ok(spec_with(R"({"outputs": ["density_cube", "MOLDEN", "molden"]})"));
  BOOST_TEST_REQUIRE(s.outputs.size() == 2u);  // repeats are stored once
  BOOST_TEST(s.outputs[0] == "density_cube");
  BOOST_TEST(s.outputs[1] == "molden");
  BOOST_TEST(parse_ok(spec_with(R"({"outputs": []})")).outputs.empty());
}

BOOST_AUTO_TEST_CASE(outputs_errors) {
  expect_one_error(spec_with(R"({"outputs": "molden"})"), "outputs", "expected an array of strings");
  expect_one_error(spec_with(R"({"outputs": ["molden", "pdf"]})"), "outputs[1]",
                   "unknown output \"pdf\"; one of molden, density_cube");
  expect_one_error(spec_with(R"({"outputs": [1]})"), "outputs[0]", "expected a string");
  expect_one_error(spec_with(R"({"method": "gfnff", "outputs": ["molden"]})"), "outputs",
                   "gfnff is a force field and has no wavefunction");
}

// ---------------------------------------------------------------- priority, timeout, attempts, run_at

BOOST_AUTO_TEST_CASE(priority_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"priority": -1000})")).priority == -1000);
  BOOST_TEST(parse_ok(spec_with(R"({"priority": 1000})")).priority == 1000);
  expect_one_error(spec_with(R"({"priority": 1001})"), "priority",
                   "must be between -1000 and 1000, got 1001");
  expect_one_error(spec_with(R"({"priority": -1001})"), "priority", "must be between -1000 and 1000");
  expect_one_error(spec_with(R"({"priority": 1.5})"), "priority", "expected an integer");
  expect_one_error(spec_with(R"({"priority": "high"})"), "priority", "expected an integer, got a string");
  expect_one_error(spec_with(R"({"priority": 18446744073709551615})"), "priority", "must be between");
}

BOOST_AUTO_TEST_CASE(timeout_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 0.5})")).timeout_s == 0.5);
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 604800})")).timeout_s == 604800.0);
  expect_one_error(spec_with(R"({"timeout_s": 0})"), "timeout_s", "must be more than 0 and at most 604800");
  expect_one_error(spec_with(R"({"timeout_s": -5})"), "timeout_s", "must be more than 0");
  expect_one_error(spec_with(R"({"timeout_s": 604801})"), "timeout_s", "got 604801");
}

// Regression: 0.0004 s became 0 ms in the runner, which means "no timeout" (and so bypassed
// max_timeout_s). Any positive timeout is enforced, rounded up to a whole millisecond.
BOOST_AUTO_TEST_CASE(timeout_rounds_up_never_to_none) {
  using std::chrono::milliseconds;
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 0.0004})")).timeout() == milliseconds(1));
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 1e-9})")).timeout() == milliseconds(1));
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 0.0015})")).timeout() == milliseconds(2));
  BOOST_TEST(parse_ok(spec_with(R"({"timeout_s": 2.5})")).timeout() == milliseconds(2500));
  expect_one_error(spec_with(R"({"timeout_s": -0.0})"), "timeout_s", "must be more than 0");
}

BOOST_AUTO_TEST_CASE(max_lost_values) {
  BOOST_TEST(parse_ok(spec_with(json::object{})).max_lost == 3);
  BOOST_TEST(parse_ok(spec_with(R"({"max_lost": 0})")).max_lost == 0);
  BOOST_TEST(parse_ok(spec_with(R"({"max_lost": 100})")).max_lost == 100);
  expect_one_error(spec_with(R"({"max_lost": 101})"), "max_lost", "100");
  expect_one_error(spec_with(R"({"max_lost": -1})"), "max_lost", "0");
  expect_one_error(spec_with(R"({"timeout_s": "1h"})"), "timeout_s",
                   "expected a number of seconds, got a string");
  nox::SpecLimits limits;
  limits.max_timeout_s = 60;
  expect_one_error(spec_with(R"({"timeout_s": 61})"), "timeout_s", "at most 60 seconds", limits);
  // The default never exceeds the limit.
  BOOST_TEST(parse_ok(spec_with(json::object{}), limits).timeout_s == 60.0);
}

BOOST_AUTO_TEST_CASE(max_attempts_values) {
  BOOST_TEST(parse_ok(spec_with(R"({"max_attempts": 10})")).max_attempts == 10);
  expect_one_error(spec_with(R"({"max_attempts": 0})"), "max_attempts", "must be between 1 and 10, got 0");
  expect_one_error(spec_with(R"({"max_attempts": 11})"), "max_attempts", "must be between 1 and 10");
  expect_one_error(spec_with(R"({"max_attempts": true})"), "max_attempts",
                   "expected an integer, got a boolean");
  nox::SpecLimits limits;
  limits.max_attempts = 3;
  expect_one_error(spec_with(R"({"max_attempts": 4})"), "max_attempts", "must be between 1 and 3", limits);
}

BOOST_AUTO_TEST_CASE(run_at_and_delay_s) {
  BOOST_TEST(!parse_ok(spec_with(R"({"run_at": null})")).run_at);
  const nox::JobSpec at = parse_ok(spec_with(R"({"run_at": "2030-01-01T01:00:00+01:00"})"));
  BOOST_TEST_REQUIRE(at.run_at.has_value());
  BOOST_TEST(*at.run_at == *nox::parse_rfc3339("2030-01-01T00:00:00Z"));
  BOOST_TEST(at.to_json().at("run_at") == "2030-01-01T00:00:00.000Z");  // stored in UTC
  BOOST_TEST(parse_ok(spec_with(R"({"delay_s": 90.5})")).delay_s.value_or(0) == 90.5);
  expect_one_error(spec_with(R"({"run_at": "2030-01-01T00:00:00"})"), "run_at", "RFC 3339 time with a zone");
  expect_one_error(spec_with(R"({"run_at": 0})"), "run_at", "an RFC 3339 time string");
  expect_one_error(spec_with(R"({"delay_s": -1})"), "delay_s", "between 0 and");
  expect_one_error(spec_with(R"({"delay_s": "5"})"), "delay_s", "a number of seconds");
  expect_one_error(spec_with(R"({"run_at": "2030-01-01T00:00:00Z", "delay_s": 5})"), "delay_s", "not both");
}

// ---------------------------------------------------------------- tags and name

BOOST_AUTO_TEST_CASE(tags_values) {
  json::array sixteen;
  for (int i = 0; i < 16; ++i) sixteen.emplace_back("t" + std::to_string(i));
  BOOST_TEST(parse_ok(spec_with(json::object{{"tags", sixteen}})).tags.size() == 16u);
  const nox::JobSpec s =
      parse_ok(spec_with(json::object{{"tags", json::array{"A-z_0.9:x", std::string(64, 'a')}}}));
  BOOST_TEST(s.tags[0] == "A-z_0.9:x");
}

BOOST_AUTO_TEST_CASE(tags_errors) {
  json::array seventeen;
  for (int i = 0; i < 17; ++i) seventeen.emplace_back("t" + std::to_string(i));
  expect_one_error(spec_with(json::object{{"tags", seventeen}}), "tags", "at most 16 tags, got 17");
  expect_one_error(spec_with(R"({"tags": "a"})"), "tags", "expected an array of strings, got a string");
  expect_one_error(spec_with(R"({"tags": ["ok", ""]})"), "tags[1]", "must be 1 to 64 characters");
  expect_one_error(spec_with(json::object{{"tags", json::array{std::string(65, 'a')}}}), "tags[0]",
                   "must be 1 to 64");
  expect_one_error(spec_with(R"({"tags": ["has space"]})"), "tags[0]", "tag \"has space\" must be");
  expect_one_error(spec_with(R"({"tags": ["a/b"]})"), "tags[0]", "A-Z a-z 0-9 . _ : -");
  expect_one_error(spec_with(R"({"tags": [5]})"), "tags[0]", "expected a string, got a number");
  BOOST_TEST(parse_errors(spec_with(R"({"tags": ["a b", "c/d", "ok"]})")).size() == 2u);
}

BOOST_AUTO_TEST_CASE(name_values) {
  BOOST_TEST(parse_ok(spec_with(json::object{{"name", std::string(200, 'n')}})).name.size() == 200u);
  // 200 characters of two bytes each.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
  BOOST_TEST(parse_ok(spec_with(json::object{{"name", accents}})).name == accents);
  expect_one_error(spec_with(json::object{{"name", std::string(201, 'n')}}), "name",
                   "at most 200 characters, got 201");
  expect_one_error(spec_with(R"({"name": 7})"), "name", "expected a string, got a number");
}

// ---------------------------------------------------------------- normalised form

BOOST_AUTO_TEST_CASE(to_json_is_complete_and_normalised) {
  const nox::JobSpec s = parse_ok(spec_with(json::object{}));
  const json::object o = s.to_json();
  BOOST_TEST(o.size() == 16u);
  BOOST_TEST(o.at("max_lost").as_int64() == 3);
  BOOST_TEST(o.at("engine").as_string() == "xtb");
  BOOST_TEST(o.at("task").as_string() == "energy");
  BOOST_TEST(o.at("method").as_string() == "gfn2");
  BOOST_TEST(o.at("molecule").as_object().size() == 1u);
  BOOST_TEST(o.at("molecule").at("xyz").as_string() == s.molecule.to_xyz());
  BOOST_TEST(o.at("charge").as_int64() == 0);
  BOOST_TEST(o.at("multiplicity").as_int64() == 1);
  BOOST_TEST(o.at("solvent").is_null());
  BOOST_TEST(o.at("keywords").as_object().empty());
  BOOST_TEST(o.at("outputs").as_array().empty());
  BOOST_TEST(o.at("priority").as_int64() == 0);
  BOOST_TEST(o.at("timeout_s").as_int64() == 3600);  // an integer, not 3.6E3
  BOOST_TEST(o.at("max_attempts").as_int64() == 1);
  BOOST_TEST(o.at("run_at").is_null());
  BOOST_TEST(o.at("tags").as_array().empty());
  BOOST_TEST(o.at("name").as_string() == "");
}

BOOST_AUTO_TEST_CASE(round_trip_through_to_json) {
  const json::value inputs[] = {
      spec_with(json::object{}),
      json::parse(R"({ "engine": "XTB", "task": "Optimize_Hessian", "method": "gfn1",
        "molecule": {"xyz": "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"},
        "charge": -1, "multiplicity": 2,
        "solvent": {"model": "gbsa", "name": "H2O"},
        "keywords": {"opt_level": "tight", "accuracy": 0.3, "electronic_temperature": 300, "max_iterations": 250},
        "outputs": ["molden", "density_cube"],
        "priority": -5, "timeout_s": 12.75, "max_attempts": 3, "run_at": null,
        "tags": ["screening-42", "b"], "name": "water opt \u00e9" })"),
      spec_with(
          R"({"engine": "echo", "molecule": {"symbols": ["C", "O"], "geometry": [0, 0, 0, 0, 0, 2.1316]}})"),
  };
  for (const json::value& input : inputs) {
    BOOST_TEST_CONTEXT(json::serialize(input)) {
      const nox::JobSpec first = parse_ok(input);
      const json::object stored = first.to_json();
      const nox::JobSpec second = parse_ok(stored);
      BOOST_TEST(second.engine == first.engine);
      BOOST_TEST(second.task == first.task);
      BOOST_TEST(second.method == first.method);
      BOOST_TEST(second.charge == first.charge);
      BOOST_TEST(second.multiplicity == first.multiplicity);
      BOOST_TEST(second.solvent.has_value() == first.solvent.has_value());
      if (first.solvent) {
        BOOST_TEST(second.solvent->model == first.solvent->model);
        BOOST_TEST(second.solvent->name == first.solvent->name);
      }
      BOOST_TEST((second.keywords == first.keywords));
      BOOST_TEST(second.outputs == first.outputs);
      BOOST_TEST(second.priority == first.priority);
      BOOST_TEST(second.timeout_s == first.timeout_s);
      BOOST_TEST(second.max_attempts == first.max_attempts);
      BOOST_TEST(second.tags == first.tags);
      BOOST_TEST(second.name == first.name);
      BOOST_TEST(second.molecule.comment == first.molecule.comment);
      BOOST_TEST_REQUIRE(second.molecule.atoms.size() == first.molecule.atoms.size());
      for (std::size_t i = 0; i < first.molecule.atoms.size(); ++i) {
        BOOST_TEST(second.molecule.atoms[i].symbol == first.molecule.atoms[i].symbol);
        BOOST_TEST(std::abs(second.molecule.atoms[i].x - first.molecule.atoms[i].x) < 1e-10);
        BOOST_TEST(std::abs(second.molecule.atoms[i].y - first.molecule.atoms[i].y) < 1e-10);
        BOOST_TEST(std::abs(second.molecule.atoms[i].z - first.molecule.atoms[i].z) < 1e-10);
      }
      // The stored form is a fixed point, also through text.
      BOOST_TEST((second.to_json() == stored));
      BOOST_TEST((parse_ok(json::parse(json::serialize(stored))).to_json() == stored));
    }
  }
}

BOOST_AUTO_TEST_CASE(status_shows_the_formula_of_a_stored_spec) {
  nox::Job job;
  job.id = "0123456789abcdef0123456789abcdef";
  job.spec = parse_ok(spec_with(R"({"tags": ["x"], "name": "w"})")).to_json();
  const json::object status = nox::job_status_json(job);
  BOOST_TEST(status.at("formula").as_string() == "H2O");
  BOOST_TEST(status.at("engine").as_string() == "xtb");
  BOOST_TEST(status.at("task").as_string() == "energy");
  BOOST_TEST(status.at("name").as_string() == "w");
  job.spec.erase("molecule");
  BOOST_TEST(!nox::job_status_json(job).contains("formula"));
}

// POST /jobs/batch parses its specs into an arena that is released with the request: a spec
// must copy what it keeps, never hold a node of the arena (that would be a use after free,
// or keep the arena's megabytes alive for as long as the job).
bool uses_resource(const json::value& v, const json::memory_resource* resource) {
  if (v.storage().get() == resource) return true;
  if (const auto* o = v.if_object()) {
    for (const auto& member : *o)
      if (uses_resource(member.value(), resource)) return true;
  } else if (const auto* a = v.if_array()) {
    for (const auto& item : *a)
      if (uses_resource(item, resource)) return true;
  }
  return false;
}

BOOST_AUTO_TEST_CASE(a_spec_keeps_nothing_of_the_arena_its_body_was_parsed_into) {
  nox::JobSpec spec;
  json::object as_json;
  {
    json::monotonic_resource arena;
    json::value body = json::parse(
        R"({"engine":"xtb","task":"optimize","method":"gfn2","molecule":{"xyz":"3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"},
            "charge":0,"multiplicity":1,"solvent":{"name":"water","model":"alpb"},
            "keywords":{"opt_level":"tight","accuracy":0.5,"electronic_temperature":400,"max_iterations":300},
            "tags":["screen","batch-7"],"name":"water opt","outputs":["molden"],"timeout_s":60,"priority":3})",
        &arena);
    spec = parse_ok(body);
    as_json = spec.to_json();
    BOOST_TEST(!uses_resource(as_json, &arena));
    BOOST_TEST(!uses_resource(spec.keywords, &arena));
  }
  // Under ASan, any node left in the (now freed) arena is reported here.
  BOOST_TEST(json::serialize(spec.to_json()) == json::serialize(as_json));
}

// ---------------------------------------------------------------- per-engine vocabulary (MOPAC)

BOOST_AUTO_TEST_CASE(mopac_takes_its_own_methods_and_defaults_to_pm7) {
  BOOST_TEST(parse_ok(spec_with(R"({"engine": "mopac", "method": null})")).method == "pm7");
  for (const char* method : {"pm7", "pm6", "pm6-d3h4", "am1", "rm1"}) {
    BOOST_TEST(parse_ok(spec_with(json::object{{"engine", "mopac"}, {"method", method}})).method == method);
  }
  BOOST_TEST(parse_ok(spec_with(R"({"engine": "mopac", "method": "PM6-D3H4"})")).method == "pm6-d3h4");
  expect_one_error(spec_with(R"({"engine": "mopac", "method": "gfn2"})"), "method",
                   "unknown method \"gfn2\" for mopac; one of pm7, pm6, pm6-d3h4, am1, rm1");
  expect_one_error(spec_with(R"({"method": "pm7"})"), "method", "unknown method \"pm7\" for xtb");
}

BOOST_AUTO_TEST_CASE(mopac_solvent_is_cosmo_by_name_or_dielectric_constant) {
  auto mopac = [](const char* solvent) {
    return spec_with(json::object{{"engine", "mopac"}, {"method", "pm7"}, {"solvent", json::parse(solvent)}});
  };
  const nox::JobSpec named = parse_ok(mopac(R"({"name": "Water"})"));
  BOOST_TEST(named.solvent->model == "cosmo");
  BOOST_TEST(named.solvent->name == "water");
  BOOST_TEST(named.solvent->dielectric == 78.3553);
  BOOST_TEST(json::serialize(named.to_json().at("solvent")) == R"({"model":"cosmo","name":"water","dielectric":7.83553E1})");
  const nox::JobSpec by_constant = parse_ok(mopac(R"({"model": "cosmo", "dielectric": 10})"));
  BOOST_TEST(by_constant.solvent->dielectric == 10.0);
  BOOST_TEST(json::serialize(by_constant.to_json().at("solvent")) == R"({"model":"cosmo","dielectric":10})");
  // The stored form parses back to the same spec (the dispatcher re-reads it).
  const nox::JobSpec again = parse_ok(by_constant.to_json());
  BOOST_TEST(again.solvent->dielectric == 10.0);
  const nox::JobSpec labelled = parse_ok(mopac(R"({"name": "my ionic liquid", "dielectric": 12.5})"));
  BOOST_TEST(labelled.solvent->name == "my ionic liquid");
  BOOST_TEST(labelled.solvent->dielectric == 12.5);
  expect_one_error(mopac(R"({"name": "seawater"})"), "solvent.name",
                   "unknown COSMO solvent \"seawater\"; known: acetone");
  expect_one_error(mopac(R"({"dielectric": 0.5})"), "solvent.dielectric", "must be between 1 and 1000");
  expect_one_error(mopac(R"({"model": "alpb", "name": "water"})"), "solvent.model",
                   "unknown solvation model \"alpb\" for mopac; one of cosmo");
  expect_one_error(mopac(R"({})"), "solvent.name", "or a dielectric constant");
  expect_one_error(spec_with(R"({"solvent": {"name": "water", "dielectric": 80}})"), "solvent.dielectric",
                   "unknown field; solvent takes model and name");
}

BOOST_AUTO_TEST_CASE(mopac_keywords_and_outputs) {
  const nox::JobSpec s =
      parse_ok(spec_with(R"({"engine": "mopac", "method": "am1", "keywords": {"max_opt_cycles": 50}})"));
  BOOST_TEST(s.keywords.at("max_opt_cycles").as_int64() == 50);
  expect_one_error(spec_with(R"({"engine": "mopac", "method": "am1", "keywords": {"opt_level": "tight"}})"),
                   "keywords.opt_level", "unknown keyword for mopac; allowed: max_opt_cycles");
  expect_one_error(spec_with(R"({"engine": "mopac", "method": "am1", "outputs": ["molden"]})"), "outputs",
                   "mopac has no optional outputs");
  parse_ok(spec_with(R"({"engine": "mopac", "method": "am1", "outputs": []})"));
}

BOOST_AUTO_TEST_CASE(routing_fields_are_checked_and_normalised) {
  nox::JobSpec s = parse_ok(spec_with(R"({"requires": ["gpu", "big-memory", "gpu"], "queue": "nightly"})"));
  BOOST_TEST(s.requires_tags == (std::vector<std::string>{"big-memory", "gpu"}));  // sorted, once each
  nox::Job job;
  job.spec = s.to_json();
  BOOST_TEST(job.requires_tags() == (std::vector<std::string>{"big-memory", "gpu"}));
  BOOST_TEST(job.queue() == "nightly");
  job.spec = parse_ok(spec_with(R"({"queue": "default"})")).to_json();
  BOOST_TEST(!job.spec.contains("queue"));  // the default is not stored
  BOOST_TEST(job.queue() == "default");
  expect_one_error(spec_with(R"({"requires": ["no spaces"]})"), "requires[0]", "compute tag");
  expect_one_error(spec_with(R"({"requires": "gpu"})"), "requires", "array");
  expect_one_error(spec_with(R"({"queue": "Nightly"})"), "queue", "a-z 0-9 _ -");
}

BOOST_AUTO_TEST_CASE(inchikey_tags_are_reserved_for_the_index) {
  expect_one_error(spec_with(R"({"tags": ["inchikey:XLYOFNOQVPJJNP-UHFFFAOYSA-N"]})"), "tags[0]",
                   "tags starting with \"inchikey:\", \"batch:\", \"continues:\", \"workflow:\" or \"schedule:\" are reserved");
  expect_one_error(spec_with(R"({"tags": ["schedule:x"]})"), "tags[0]", "are reserved");
  nox::JobSpec s = parse_ok(spec_with(R"({"tags": ["screen-1"]})"));
  nox::Job job;
  job.spec = s.to_json();
  BOOST_TEST(job.index_tags() == (std::vector<std::string>{"screen-1"}));  // not identified: no molecule tag
  s.identifiers = nox::MoleculeIdentifiers{"O", "InChI=1S/H2O/h1H2", "XLYOFNOQVPJJNP-UHFFFAOYSA-N", "H2O"};
  job.spec = s.to_json();
  BOOST_TEST(job.index_tags() == (std::vector<std::string>{"screen-1", "inchikey:XLYOFNOQVPJJNP-UHFFFAOYSA-N"}));
  BOOST_TEST(job.tags() == (std::vector<std::string>{"screen-1"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(core_job_spec_threads)

BOOST_AUTO_TEST_CASE(threads_default_to_one_and_are_bounded) {
  BOOST_TEST(parse_ok(spec_with("{}")).threads == 1);
  BOOST_TEST(parse_ok(spec_with(R"({"threads": 4})")).threads == 4);
  for (const char* bad : {R"({"threads": 0})", R"({"threads": 257})", R"({"threads": 1.5})", R"({"threads": "2"})"}) {
    BOOST_TEST_CONTEXT(bad) {
      const auto errors = parse_errors(spec_with(bad));
      BOOST_TEST_REQUIRE(errors.size() == 1u);
      BOOST_TEST(errors[0].field == "threads");
    }
  }
  nox::SpecLimits two;
  two.max_threads = 2;
  BOOST_TEST(parse_errors(spec_with(R"({"threads": 3})"), two).size() == 1u);
  // Stored only when not 1; a job reads it back as its slot cost.
  BOOST_TEST(!parse_ok(spec_with("{}")).to_json().contains("threads"));
  nox::Job job;
  job.spec = parse_ok(spec_with(R"({"threads": 3})")).to_json();
  BOOST_TEST(job.threads() == 3);
  job.spec.erase("threads");
  BOOST_TEST(job.threads() == 1);
}

// ---------------------------------------------------------------- workflows

BOOST_AUTO_TEST_CASE(depends_on_takes_distinct_job_ids) {
  const std::string a(32, 'a'), b(32, 'b');
  const nox::JobSpec s = parse_ok(spec_with(R"({"depends_on": [")" + a + R"(", ")" + b + R"("]})"));
  BOOST_TEST((s.depends_on == std::vector<std::string>{a, b}));
  BOOST_TEST(s.to_json().at("depends_on").as_array().size() == 2u);
  BOOST_TEST(!parse_ok(spec_with("{}")).to_json().contains("depends_on"));  // stored only when given
  expect_one_error(spec_with(R"({"depends_on": "x"})"), "depends_on", "array");
  expect_one_error(spec_with(R"({"depends_on": ["opt"]})"), "depends_on[0]", "32 lowercase hex");
  expect_one_error(spec_with(R"({"depends_on": [")" + a + R"(", ")" + a + R"("]})"), "depends_on[1]", "listed twice");
  json::array many;
  for (int i = 0; i < 65; ++i) many.emplace_back(nox::new_job_id());
  expect_one_error(spec_with(json::object{{"depends_on", many}}), "depends_on", "at most 64");
}

BOOST_AUTO_TEST_CASE(a_molecule_from_another_job_waits_for_its_atoms) {
  const std::string parent(32, 'c');
  const nox::JobSpec s = parse_ok(spec_with(R"({"molecule": {"from_job": ")" + parent + R"("}})"));
  BOOST_TEST_REQUIRE(s.molecule_from_job.has_value());
  BOOST_TEST(s.molecule_from_job->job == parent);
  BOOST_TEST(s.molecule_from_job->geometry == "optimized");
  BOOST_TEST(s.molecule.atoms.empty());
  BOOST_TEST((s.depends_on == std::vector<std::string>{parent}));  // its parent is a dependency
  const json::object stored = s.to_json();
  BOOST_TEST(!stored.at("molecule").as_object().contains("xyz"));
  // The stored form once filled in: the atoms beside where they came from; read back alike.
  nox::JobSpec filled = s;
  filled.molecule = std::get<nox::Molecule>(nox::parse_xyz(kWaterXyz));
  const nox::JobSpec again = parse_ok(json::value(filled.to_json()));
  BOOST_TEST(again.molecule.atoms.size() == 3u);
  BOOST_TEST(again.molecule_from_job->job == parent);
  BOOST_TEST((again.depends_on == std::vector<std::string>{parent}));
  BOOST_TEST(parse_ok(spec_with(R"({"molecule": {"from_job": ")" + parent + R"(", "geometry": "Input"}})"))
                 .molecule_from_job->geometry == "input");
  expect_one_error(spec_with(R"({"molecule": {"from_job": "opt"}})"), "molecule.from_job", "id of a job");
  expect_one_error(spec_with(R"({"molecule": {"from_job": ")" + parent + R"(", "geometry": "final"}})"),
                   "molecule.geometry", "optimized");
  expect_one_error(spec_with(R"({"molecule": {"from_job": ")" + parent + R"(", "smiles": "CCO"}})"), "molecule.smiles",
                   "unknown field");
}

BOOST_AUTO_TEST_CASE(workflow_tags_are_reserved) {
  expect_one_error(spec_with(R"({"tags": ["workflow:x"]})"), "tags[0]", "reserved");
  nox::Job job;
  job.spec = parse_ok(spec_with("{}")).to_json();
  job.spec["workflow_id"] = std::string(32, 'd');
  const auto tags = job.index_tags();
  BOOST_TEST((std::find(tags.begin(), tags.end(), nox::workflow_tag(std::string(32, 'd'))) != tags.end()));
}

BOOST_AUTO_TEST_SUITE_END()
