// Open Babel behind engines/molecule_conversion: formats in, atoms and identifiers out.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engines/molecule_conversion.hpp"

namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) {
  std::ifstream in(fs::path(NOX_FIXTURES_DIR) / "molecules" / name, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nox::ConvertedMolecule converted(const std::string& format, const std::string& text) {
  auto result = nox::convert_molecule({format, text}, 10000);
  if (auto* why = std::get_if<std::string>(&result)) BOOST_FAIL(format << " refused: " << *why);
  return std::get<nox::ConvertedMolecule>(std::move(result));
}

std::string refusal(const std::string& format, const std::string& text) {
  auto result = nox::convert_molecule({format, text}, 10000);
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<std::string>(result), format << " " << text << " was accepted");
  return std::get<std::string>(result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(molecule_conversion)

BOOST_AUTO_TEST_CASE(smiles_becomes_3d_with_hydrogens) {
  const auto ethanol = converted("smiles", "CCO ethanol");
  BOOST_TEST(ethanol.molecule.atoms.size() == 9u);
  BOOST_TEST(ethanol.molecule.formula() == "C2H6O");
  BOOST_TEST(ethanol.title == "ethanol");
  BOOST_TEST(ethanol.identifiers.inchikey == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N");
  BOOST_TEST(ethanol.identifiers.inchi == "InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3");
  BOOST_TEST(ethanol.identifiers.canonical_smiles == "CCO");
  BOOST_TEST(ethanol.identifiers.formula == "C2H6O");
  // Really 3-D: not all in one plane, no two atoms on top of each other.
  double z_spread = 0;
  for (const auto& a : ethanol.molecule.atoms) z_spread = std::max(z_spread, std::abs(a.z));
  BOOST_TEST(z_spread > 0.1);
  BOOST_TEST(!nox::find_close_atoms(ethanol.molecule.atoms, 0.5).has_value());
}

// The stereocentre survives: the 3-D structure, read back from its coordinates alone, is the same
// enantiomer (same InChI, stereo layer included) as the SMILES.
BOOST_AUTO_TEST_CASE(stereo_is_kept_through_3d_building) {
  // Threonine and pseudoephedrine: two neighbouring stereocentres, where gen3D "med" gives up.
  for (const char* smiles : {"C[C@H](N)C(=O)O", "C[C@@H](N)C(=O)O", "C/C=C/C", "C/C=C\\C", "C[C@@H](O)[C@H](N)C(=O)O",
                             "C[C@H](NC)[C@H](O)c1ccccc1"}) {
    BOOST_TEST_CONTEXT(smiles) {
      const auto built = converted("smiles", smiles);
      const auto from_geometry = nox::identify_molecule(built.molecule);
      BOOST_TEST_REQUIRE(from_geometry.has_value());
      BOOST_TEST(from_geometry->inchi == built.identifiers.inchi);
    }
  }
  BOOST_TEST(converted("smiles", "C[C@H](N)C(=O)O").identifiers.inchikey !=
             converted("smiles", "C[C@@H](N)C(=O)O").identifiers.inchikey);
}

BOOST_AUTO_TEST_CASE(charge_and_multiplicity_come_from_the_structure) {
  const auto ammonium = converted("smiles", "[NH4+]");
  BOOST_TEST(ammonium.formal_charge == 1);
  BOOST_TEST(ammonium.multiplicity == 1);
  const auto acetate = converted("smiles", "CC(=O)[O-]");
  BOOST_TEST(acetate.formal_charge == -1);
  const auto methyl = converted("smiles", "[CH3]");
  BOOST_TEST(methyl.multiplicity == 2);
  BOOST_TEST(methyl.molecule.atoms.size() == 4u);
}

BOOST_AUTO_TEST_CASE(wrong_structures_are_refused_with_reasons) {
  BOOST_TEST(refusal("smiles", "Xx").find("not a valid SMILES: SMILES string contains a character 'X' which is invalid") == 0u);
  BOOST_TEST(refusal("smiles", "c1cccc1").find("aromatic ring cannot be given alternating single and double bonds") !=
             std::string::npos);
  BOOST_TEST(refusal("smiles", "C(C)(C)(C)(C)C") == "atom 1 (C) has 5 bonds; it takes at most 4");
  BOOST_TEST(refusal("sdf", "not an sdf at all\n").starts_with("Open Babel could not read it as sdf"));
  auto too_big = nox::convert_molecule({"smiles", "CCCCCCCCCC"}, 12);
  BOOST_TEST(std::get<std::string>(too_big) == "with hydrogens, 32 atoms is more than the limit of 12");
}

BOOST_AUTO_TEST_CASE(sdf_v2000_and_v3000_2d_records_get_3d) {
  for (const char* file : {"caffeine_2d.sdf", "caffeine_v3000.sdf"}) {
    BOOST_TEST_CONTEXT(file) {
      const auto caffeine = converted("sdf", fixture(file));
      BOOST_TEST(caffeine.molecule.atoms.size() == 24u);
      BOOST_TEST(caffeine.identifiers.inchikey == "RYYVLZVUVIJVGH-UHFFFAOYSA-N");
      BOOST_TEST(caffeine.title == "caffeine");
      double z_spread = 0;
      for (const auto& a : caffeine.molecule.atoms) z_spread = std::max(z_spread, std::abs(a.z));
      BOOST_TEST(z_spread > 0.1);  // methyl hydrogens leave the ring plane
    }
  }
}

BOOST_AUTO_TEST_CASE(mol2_and_pdb_keep_their_3d_coordinates) {
  const auto ethanol = converted("mol2", fixture("ethanol.mol2"));
  BOOST_TEST(ethanol.molecule.atoms.size() == 9u);
  const auto alanine = converted("pdb", fixture("alanine.pdb"));
  BOOST_TEST(alanine.molecule.formula() == "C3H7NO2");
  BOOST_TEST(alanine.identifiers.inchikey == "QNAYBMKLOCPYGJ-REOHCLBHSA-N");  // L-alanine, from the 3-D file
}

BOOST_AUTO_TEST_CASE(identifiers_of_coordinates) {
  nox::Molecule water;
  water.atoms = {{"O", 0, 0, 0.117}, {"H", 0, 0.757, -0.467}, {"H", 0, -0.757, -0.467}};
  const auto ids = nox::identify_molecule(water);
  BOOST_TEST_REQUIRE(ids.has_value());
  BOOST_TEST(ids->inchikey == "XLYOFNOQVPJJNP-UHFFFAOYSA-N");
  BOOST_TEST(ids->formula == "H2O");
  BOOST_TEST(ids->canonical_smiles == "O");
}

// Ranked conformers leave as SDF: bonds perceived from the coordinates, data items, one record.
BOOST_AUTO_TEST_CASE(coordinates_become_an_sdf_record) {
  auto parsed = nox::parse_xyz(
      "15\nbutanol\n"
      "C -2.182706 -0.096104 0.390876\nC -0.865479 -0.057358 -0.367237\nC 0.324825 0.029712 0.583687\n"
      "C 1.645735 0.068723 -0.171600\nO 2.709412 0.149357 0.767048\nH -2.228369 -0.966012 1.053847\n"
      "H -3.021459 -0.158420 -0.309502\nH -2.312933 0.805804 0.997471\nH -0.865367 0.805007 -1.044008\n"
      "H -0.781270 -0.956984 -0.987942\nH 0.241481 0.922545 1.216044\nH 0.324892 -0.825083 1.271654\n"
      "H 1.694329 0.942828 -0.828758\nH 1.779262 -0.836708 -0.772134\nH 3.537645 0.172693 0.258103\n");
  BOOST_TEST_REQUIRE(std::holds_alternative<nox::Molecule>(parsed));
  const nox::Molecule butanol = std::get<nox::Molecule>(parsed);
  const std::vector<std::pair<std::string, std::string>> items = {
      {"rank", "1"}, {"relative_energy_kcal", "0.000"}, {"odd <name>", "a\n\nb"}};
  const auto record = nox::molfile_of(butanol, "butanol conformer 1", items);
  BOOST_TEST_REQUIRE(record.has_value());
  std::istringstream lines(*record);
  std::string title, program, comment, counts;
  std::getline(lines, title);
  std::getline(lines, program);
  std::getline(lines, comment);
  std::getline(lines, counts);
  BOOST_TEST(title == "butanol conformer 1");
  BOOST_TEST(program == "  " "Nox     " "          " "3D");  // initials, program, no time stamp, 3-D
  BOOST_TEST(counts.substr(0, 6) == " 15 14");        // atoms, bonds
  BOOST_TEST(counts.ends_with("V2000"));
  BOOST_TEST(record->find("M  END\n>  <rank>\n1\n\n>  <relative_energy_kcal>\n0.000\n\n") !=
             std::string::npos);
  BOOST_TEST(record->find(">  <odd (name)>\na\nb\n\n") != std::string::npos);
  BOOST_TEST(record->ends_with("\n$$$$\n"));
  BOOST_TEST(*nox::molfile_of(butanol, "butanol conformer 1", items) == *record);

  // Read back as SDF: the same molecule, its title and data items.
  const auto back = converted("sdf", *record + *record);
  BOOST_TEST(back.molecule.atoms.size() == 15u);
  BOOST_TEST(back.identifiers.inchikey == "LRHPLDYGYMQRHN-UHFFFAOYSA-N");  // 1-butanol
  BOOST_TEST(back.title == "butanol conformer 1");
  const auto rank = std::find_if(back.properties.begin(), back.properties.end(),
                                 [](const auto& p) { return p.first == "rank"; });  // Open Babel adds its own
  BOOST_TEST_REQUIRE((rank != back.properties.end()));
  BOOST_TEST(rank->second == "1");
}

BOOST_AUTO_TEST_SUITE_END()
