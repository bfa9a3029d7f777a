// XYZ parsing and validation, the element table, formulas.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <string>
#include <variant>

#include "core/molecule.hpp"

namespace {

const char* const kWater = "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n";

nox::Molecule parse_ok(std::string_view text, const nox::XyzLimits& limits = {}) {
  auto r = nox::parse_xyz(text, limits);
  if (auto* e = std::get_if<nox::XyzError>(&r)) {
    BOOST_FAIL("unexpected XYZ error: " << e->message);
  }
  return std::get<nox::Molecule>(std::move(r));
}

nox::XyzError parse_error(std::string_view text, const nox::XyzLimits& limits = {}) {
  auto r = nox::parse_xyz(text, limits);
  if (std::holds_alternative<nox::Molecule>(r)) BOOST_FAIL("expected an XYZ error for:\n" << text);
  return std::get<nox::XyzError>(std::move(r));
}

bool has(const std::string& message, std::string_view part) {
  return message.find(part) != std::string::npos;
}

// n atoms on a simple cubic lattice with the given spacing, as XYZ text.
std::string lattice_xyz(int n, double spacing) {
  std::string text = std::to_string(n) + "\nlattice\n";
  const int side = static_cast<int>(std::ceil(std::cbrt(n)));
  for (int i = 0; i < n; ++i) {
    const int a = i % side, b = (i / side) % side, c = i / (side * side);
    text += "C " + std::to_string(a * spacing) + " " + std::to_string(b * spacing) + " " +
            std::to_string(c * spacing) + "\n";
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_elements)

BOOST_AUTO_TEST_CASE(symbols_and_numbers) {
  BOOST_TEST(nox::atomic_number("H") == 1);
  BOOST_TEST(nox::atomic_number("C") == 6);
  BOOST_TEST(nox::atomic_number("Cl") == 17);
  BOOST_TEST(nox::atomic_number("cl") == 17);
  BOOST_TEST(nox::atomic_number("CL") == 17);
  BOOST_TEST(nox::atomic_number("cL") == 17);
  BOOST_TEST(nox::atomic_number("Og") == 118);
  BOOST_TEST(nox::atomic_number("Ts") == 117);
  BOOST_TEST(nox::element_symbol(1) == "H");
  BOOST_TEST(nox::element_symbol(17) == "Cl");
  BOOST_TEST(nox::element_symbol(26) == "Fe");
  BOOST_TEST(nox::element_symbol(118) == "Og");
  BOOST_TEST(nox::element_symbol(0) == "");
  BOOST_TEST(nox::element_symbol(119) == "");
  BOOST_TEST(nox::element_symbol(-1) == "");
}

BOOST_AUTO_TEST_CASE(every_element_round_trips_in_any_case) {
  for (int z = 1; z <= 118; ++z) {
    const std::string symbol(nox::element_symbol(z));
    BOOST_TEST_REQUIRE(!symbol.empty());
    std::string upper = symbol, lower = symbol;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    BOOST_TEST(nox::atomic_number(symbol) == z);
    BOOST_TEST(nox::atomic_number(upper) == z);
    BOOST_TEST(nox::atomic_number(lower) == z);
    BOOST_TEST(nox::atomic_number(std::to_string(z)) == z);
  }
}

BOOST_AUTO_TEST_CASE(unknown_symbols) {
  BOOST_TEST(nox::atomic_number("") == 0);
  BOOST_TEST(nox::atomic_number("Xx") == 0);
  BOOST_TEST(nox::atomic_number("X") == 0);
  BOOST_TEST(nox::atomic_number("D") == 0);
  BOOST_TEST(nox::atomic_number("Hee") == 0);
  BOOST_TEST(nox::atomic_number("Uue") == 0);
  BOOST_TEST(nox::atomic_number("0") == 0);
  BOOST_TEST(nox::atomic_number("119") == 0);
  BOOST_TEST(nox::atomic_number("1000") == 0);
  BOOST_TEST(nox::atomic_number("-1") == 0);
  BOOST_TEST(nox::atomic_number("H1") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(core_xyz)

BOOST_AUTO_TEST_CASE(parses_water) {
  const nox::Molecule m = parse_ok(kWater);
  BOOST_TEST_REQUIRE(m.atoms.size() == 3u);
  BOOST_TEST(m.comment == "water");
  BOOST_TEST(m.atoms[0].symbol == "O");
  BOOST_TEST(m.atoms[0].z == 0.117);
  BOOST_TEST(m.atoms[1].symbol == "H");
  BOOST_TEST(m.atoms[1].y == 0.757);
  BOOST_TEST(m.atoms[2].y == -0.757);
  BOOST_TEST(m.atoms[2].z == -0.467);
  BOOST_TEST(m.nuclear_charge_sum() == 10);
  BOOST_TEST(m.formula() == "H2O");
}

BOOST_AUTO_TEST_CASE(canonicalises_symbols_and_reads_atomic_numbers) {
  const nox::Molecule m = parse_ok("4\n\ncl 0 0 0\nCL 2 0 0\n8 4 0 0\n1 5 0 0\n");
  BOOST_TEST(m.atoms[0].symbol == "Cl");
  BOOST_TEST(m.atoms[1].symbol == "Cl");
  BOOST_TEST(m.atoms[2].symbol == "O");
  BOOST_TEST(m.atoms[3].symbol == "H");
  BOOST_TEST(m.comment == "");
}

BOOST_AUTO_TEST_CASE(tolerates_common_text_variations) {
  // CRLF line ends, a byte order mark, tabs, padding, '+' signs, exponents, no final newline.
  const nox::Molecule m =
      parse_ok("\xEF\xBB\xBF  2  \r\n comment here \r\nH\t+0.0\t0 0\r\n  H  7.4e-1  0.0E0 -0  \r\n");
  BOOST_TEST_REQUIRE(m.atoms.size() == 2u);
  BOOST_TEST(m.comment == "comment here");
  BOOST_TEST(m.atoms[1].x == 0.74);
  const nox::Molecule n = parse_ok("1\n\nHe 0 0 0");
  BOOST_TEST(n.atoms.size() == 1u);
}

BOOST_AUTO_TEST_CASE(blank_lines_at_the_end_are_fine) {
  BOOST_TEST(parse_ok(std::string(kWater) + "\n\n   \n\t\n").atoms.size() == 3u);
}

BOOST_AUTO_TEST_CASE(leading_blank_lines_shift_the_line_numbers) {
  BOOST_TEST(parse_ok(std::string("\n\n") + kWater).atoms.size() == 3u);
  const nox::XyzError e = parse_error("\n\nabc\n");
  BOOST_TEST(e.line == 3);
  BOOST_TEST(has(e.message, "line 3:"));
}

BOOST_AUTO_TEST_CASE(empty_text) {
  for (const char* text : {"", "\n", "   \n\t\n"}) {
    const nox::XyzError e = parse_error(text);
    BOOST_TEST(e.line == 1);
    BOOST_TEST(has(e.message, "line 1:"));
    BOOST_TEST(has(e.message, "empty"));
  }
}

BOOST_AUTO_TEST_CASE(count_line_must_be_a_positive_integer) {
  for (const char* text : {"abc\n\nH 0 0 0\n", "-1\n\nH 0 0 0\n", "1.0\n\nH 0 0 0\n", "+1\n\nH 0 0 0\n",
                           "1 atoms\n\nH 0 0 0\n", "H 0 0 0\n"}) {
    BOOST_TEST_CONTEXT(text) {
      const nox::XyzError e = parse_error(text);
      BOOST_TEST(e.line == 1);
      BOOST_TEST(has(e.message, "line 1: expected the number of atoms"));
    }
  }
  const nox::XyzError zero = parse_error("0\n\n");
  BOOST_TEST(zero.line == 1);
  BOOST_TEST(has(zero.message, "line 1: the number of atoms must be at least 1"));
}

BOOST_AUTO_TEST_CASE(too_many_atoms_is_an_error_on_line_1) {
  nox::XyzLimits limits;
  limits.max_atoms = 2;
  const nox::XyzError e = parse_error(kWater, limits);
  BOOST_TEST(e.line == 1);
  BOOST_TEST(has(e.message, "line 1: \"3\" atoms is more than the limit of 2"));
  // A count too large for any integer type is the same error, not a crash.
  const nox::XyzError huge = parse_error("99999999999999999999999999\n\nH 0 0 0\n");
  BOOST_TEST(huge.line == 1);
  BOOST_TEST(has(huge.message, "more than the limit of 10000"));
}

BOOST_AUTO_TEST_CASE(fewer_atom_lines_than_announced) {
  const nox::XyzError e = parse_error("4\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n\n");
  BOOST_TEST(e.line == 1);
  BOOST_TEST(has(e.message, "line 1: the count line says 4 atoms but only 3 atom lines follow"));
  BOOST_TEST(has(e.message, "line 6 should hold atom 4"));
  // Only the count line: no comment line, no atoms.
  const nox::XyzError bare = parse_error("2\n");
  BOOST_TEST(bare.line == 1);
  BOOST_TEST(has(bare.message, "but only 0 atom lines follow"));
}

BOOST_AUTO_TEST_CASE(blank_line_among_the_atoms) {
  const nox::XyzError e = parse_error("3\nwater\nO 0 0 0.117\n\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n");
  BOOST_TEST(e.line == 4);
  BOOST_TEST(has(e.message, "line 4: empty line where atom 2 of 3 was expected"));
}

BOOST_AUTO_TEST_CASE(more_atom_lines_than_announced) {
  const nox::XyzError e = parse_error("2\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n");
  BOOST_TEST(e.line == 5);
  BOOST_TEST(has(e.message, "line 5: more lines than the 2 atoms announced on line 1"));
  BOOST_TEST(has(e.message, "xtb would silently use only the first 2"));
  // A second structure after a blank line is refused the same way.
  const nox::XyzError two = parse_error(std::string(kWater) + "\n" + kWater);
  BOOST_TEST(two.line == 7);
}

BOOST_AUTO_TEST_CASE(wrong_number_of_fields) {
  const nox::XyzError few = parse_error("2\n\nH 0 0 0\nH 0 0.74\n");
  BOOST_TEST(few.line == 4);
  BOOST_TEST(has(few.message, "line 4: expected 4 fields \"symbol x y z\", found 3"));
  const nox::XyzError many = parse_error("2\n\nH 0 0 0 0.1\nH 0 0 0.74\n");
  BOOST_TEST(many.line == 3);
  BOOST_TEST(has(many.message, "line 3: expected 4 fields \"symbol x y z\", found 5"));
}

BOOST_AUTO_TEST_CASE(unknown_element_names_line_and_symbol) {
  const nox::XyzError e = parse_error("3\nwater\nO 0 0 0.117\nXx 0 0.757 -0.467\nH 0 -0.757 -0.467\n");
  BOOST_TEST(e.line == 4);
  BOOST_TEST(has(e.message, "line 4: unknown element \"Xx\""));
  const nox::XyzError number = parse_error("1\n\n119 0 0 0\n");
  BOOST_TEST(has(number.message, "line 3: unknown element \"119\""));
}

BOOST_AUTO_TEST_CASE(coordinates_must_be_numbers) {
  const nox::XyzError x = parse_error("2\n\nH abc 0 0\nH 0 0 0.74\n");
  BOOST_TEST(x.line == 3);
  BOOST_TEST(has(x.message, "line 3: the x coordinate \"abc\" is not a number"));
  const nox::XyzError y = parse_error("2\n\nH 0 0 0\nH 0 1,5 0.74\n");
  BOOST_TEST(y.line == 4);
  BOOST_TEST(has(y.message, "line 4: the y coordinate \"1,5\" is not a number"));
  const nox::XyzError z = parse_error("2\n\nH 0 0 0\nH 0 0 0.74x\n");
  BOOST_TEST(has(z.message, "line 4: the z coordinate \"0.74x\" is not a number"));
  const nox::XyzError fortran = parse_error("1\n\nH 0 0 1.0d0\n");
  BOOST_TEST(has(fortran.message, "the z coordinate \"1.0d0\" is not a number"));
  const nox::XyzError sign = parse_error("1\n\nH 0 +-1 0\n");
  BOOST_TEST(has(sign.message, "the y coordinate \"+-1\" is not a number"));
}

BOOST_AUTO_TEST_CASE(coordinates_must_be_finite) {
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "infinity", "1e999"}) {
    BOOST_TEST_CONTEXT(bad) {
      const nox::XyzError e = parse_error("2\n\nH 0 0 0\nH 0 " + std::string(bad) + " 0.74\n");
      BOOST_TEST(e.line == 4);
      BOOST_TEST(has(e.message, "line 4: the y coordinate"));
      BOOST_TEST(has(e.message, "is not a finite number"));
    }
  }
}

BOOST_AUTO_TEST_CASE(coordinates_must_be_in_range) {
  const nox::XyzError e = parse_error("2\n\nH 0 0 0\nH 2e6 0 0\n");
  BOOST_TEST(e.line == 4);
  BOOST_TEST(has(e.message, "line 4: the x coordinate \"2e6\" is out of range"));
}

BOOST_AUTO_TEST_CASE(overlapping_atoms_name_both_lines) {
  const nox::XyzError e = parse_error("3\n\nO 0 0 0\nH 0 0 1\nH 0 0.05 1\n");
  BOOST_TEST(e.line == 5);
  BOOST_TEST(has(e.message, "line 5: atoms on lines 4 and 5 (H, H) are 0.05 Angstrom apart"));
  BOOST_TEST(has(e.message, "closer than 0.1 Angstrom"));
  // Identical positions.
  const nox::XyzError same = parse_error("2\n\nC 1 1 1\nC 1 1 1\n");
  BOOST_TEST(has(same.message, "line 4: atoms on lines 3 and 4"));
}

BOOST_AUTO_TEST_CASE(overlap_across_cell_boundaries_is_found) {
  // 0.05 apart but on either side of a grid cell boundary (cells are 0.1 wide).
  const nox::XyzError e = parse_error("2\n\nH 0.099 -0.001 0.2\nH 0.101 0.001 0.2\n");
  BOOST_TEST(has(e.message, "atoms on lines 3 and 4"));
  // Negative coordinates.
  const nox::XyzError neg = parse_error("3\n\nH -5 -5 -5\nH 5 5 5\nH -5.03 -5.03 -5.03\n");
  BOOST_TEST(has(neg.message, "atoms on lines 3 and 5"));
}

BOOST_AUTO_TEST_CASE(atoms_just_beyond_the_minimum_are_fine) {
  BOOST_TEST(parse_ok("2\n\nH 0 0 0\nH 0 0 0.11\n").atoms.size() == 2u);
  nox::XyzLimits strict;
  strict.min_distance_angstrom = 0.5;
  BOOST_TEST(has(parse_error("2\n\nH 0 0 0\nH 0 0 0.4\n", strict).message, "closer than 0.5 Angstrom"));
}

BOOST_AUTO_TEST_CASE(ten_thousand_atoms_are_checked_quickly) {
  const std::string text = lattice_xyz(10000, 1.5);
  const auto start = std::chrono::steady_clock::now();
  const nox::Molecule m = parse_ok(text);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(m.atoms.size() == 10000u);
  // A quadratic check does 5e7 distance computations; the grid does about 27 per atom.
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 2000);

  // And an overlap hidden at the very end of a large input is still found, naming the right lines.
  std::string with_overlap = lattice_xyz(9999, 1.5);
  with_overlap.replace(0, 4, "10000");
  with_overlap += "C 0.0 0.0 0.05\n";  // lands 0.05 from atom 1 (line 3)
  const nox::XyzError e = parse_error(with_overlap);
  BOOST_TEST(e.line == 10002);
  BOOST_TEST(has(e.message, "atoms on lines 3 and 10002"));
}

BOOST_AUTO_TEST_CASE(find_close_atoms_reports_the_earliest_partner) {
  std::vector<nox::Atom> atoms = {{"H", 0, 0, 0}, {"H", 5, 0, 0}, {"H", 0.05, 0, 0}, {"H", 0.02, 0, 0}};
  const auto pair = nox::find_close_atoms(atoms, 0.1);
  BOOST_TEST_REQUIRE(pair.has_value());
  BOOST_TEST(pair->first == 0u);
  BOOST_TEST(pair->second == 2u);
  BOOST_TEST(std::abs(pair->distance - 0.05) < 1e-12);
  // Close to two earlier atoms in different cells; the grid visits atom 1's cell first, but the
  // earlier atom 0 is named.
  const auto both = nox::find_close_atoms({{"H", 0.12, 0, 0}, {"H", 0, 0, 0}, {"H", 0.06, 0, 0}}, 0.1);
  BOOST_TEST_REQUIRE(both.has_value());
  BOOST_TEST(both->first == 0u);
  BOOST_TEST(both->second == 2u);
  BOOST_TEST(!nox::find_close_atoms({{"H", 0, 0, 0}, {"H", 1, 0, 0}}, 0.1).has_value());
  BOOST_TEST(!nox::find_close_atoms(atoms, 0).has_value());  // check disabled
  // Absurd coordinates do not overflow the grid.
  BOOST_TEST(nox::find_close_atoms({{"H", 1e300, 0, 0}, {"H", 1e300, 0, 0}}, 0.1).has_value());
  BOOST_TEST(!nox::find_close_atoms({{"H", -1e300, 0, 0}, {"H", 1e300, 0, 0}}, 0.1).has_value());
}

BOOST_AUTO_TEST_CASE(to_xyz_writes_standard_xyz) {
  nox::Molecule m;
  m.comment = "two\nlines";
  m.atoms = {{"O", 0, 0, 0.117}, {"H", 0, 0.757, -0.467}};
  const std::string text = m.to_xyz();
  BOOST_TEST(text ==
             "2\n"
             "two lines\n"
             "O       0.0000000000      0.0000000000      0.1170000000\n"
             "H       0.0000000000      0.7570000000     -0.4670000000\n");
}

BOOST_AUTO_TEST_CASE(to_xyz_round_trips) {
  const nox::Molecule m = parse_ok("3\ncaf\nCl 1.123456789012 -2.5 3e-3\nNa 4 5 6\nFe -0.000000000049 0 0\n");
  const std::string once = m.to_xyz();
  const nox::Molecule back = parse_ok(once);
  BOOST_TEST_REQUIRE(back.atoms.size() == 3u);
  BOOST_TEST(back.comment == "caf");
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(back.atoms[i].symbol == m.atoms[i].symbol);
    BOOST_TEST(std::abs(back.atoms[i].x - m.atoms[i].x) < 1e-10);
    BOOST_TEST(std::abs(back.atoms[i].y - m.atoms[i].y) < 1e-10);
    BOOST_TEST(std::abs(back.atoms[i].z - m.atoms[i].z) < 1e-10);
  }
  // The written form is a fixed point.
  BOOST_TEST(back.to_xyz() == once);
}

BOOST_AUTO_TEST_CASE(hill_formula) {
  auto formula = [](std::string_view xyz) { return parse_ok(xyz).formula(); };
  // Caffeine's atoms in file order, not formula order.
  std::string caffeine = "24\n\n";
  const char* symbols[] = {"O", "N", "C", "H", "N", "C", "O", "C", "N", "C", "H", "H",
                           "C", "N", "C", "H", "H", "H", "C", "H", "H", "C", "H", "H"};
  for (int i = 0; i < 24; ++i) caffeine += std::string(symbols[i]) + " " + std::to_string(i * 1.2) + " 0 0\n";
  BOOST_TEST(formula(caffeine) == "C8H10N4O2");
  BOOST_TEST(formula(kWater) == "H2O");                                  // no carbon: alphabetical
  BOOST_TEST(formula("2\n\nNa 0 0 0\nCl 2.4 0 0\n") == "ClNa");          // alphabetical
  BOOST_TEST(formula("3\n\nO 0 0 0\nC 1.2 0 0\nO 2.4 0 0\n") == "CO2");  // carbon first
  BOOST_TEST(formula("5\n\nCl 0 0 0\nCl 2 0 0\nCl 4 0 0\nH 6 0 0\nC 8 0 0\n") == "CHCl3");
  BOOST_TEST(formula("1\n\nC 0 0 0\n") == "C");
  BOOST_TEST(formula("7\n\nS 0 0 0\nO 1 0 0\nO 2 0 0\nO 3 0 0\nO 4 0 0\nH 5 0 0\nH 6 0 0\n") == "H2O4S");
  BOOST_TEST(nox::Molecule{}.formula() == "");
}

BOOST_AUTO_TEST_CASE(formula_of_stored_xyz) {
  BOOST_TEST(nox::formula_of_xyz(kWater) == "H2O");
  BOOST_TEST(nox::formula_of_xyz(parse_ok("2\n\ncl 0 0 0\n6 2 0 0\n").to_xyz()) == "CCl");
  BOOST_TEST(nox::formula_of_xyz("") == "");
  BOOST_TEST(nox::formula_of_xyz("abc\n") == "");
  BOOST_TEST(nox::formula_of_xyz("3\n\nO 0 0 0\n") == "");   // fewer lines than the count
  BOOST_TEST(nox::formula_of_xyz("1\n\nXx 0 0 0\n") == "");  // unknown element
}

BOOST_AUTO_TEST_SUITE_END()
