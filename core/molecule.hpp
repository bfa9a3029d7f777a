#pragma once
// A molecule as atoms with Cartesian coordinates in Angstrom, and its XYZ text form.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nox {

struct Atom {
  std::string symbol;  // canonical capitalisation, e.g. "Cl"
  double x = 0, y = 0, z = 0;
};

struct Molecule {
  std::vector<Atom> atoms;
  std::string comment;

  std::string to_xyz() const;        // standard XYZ: count line, comment line, one atom per line
  std::string formula() const;       // Hill order, e.g. "C8H10N4O2"
  int nuclear_charge_sum() const;    // sum of atomic numbers (for charge/multiplicity parity)
};

// A problem with one line of an XYZ text; `line` is 1-based.
struct XyzError {
  int line = 0;
  std::string message;
};

struct XyzLimits {
  std::size_t max_atoms = 10000;
  double min_distance_angstrom = 0.1;
};

// Parses and validates XYZ text: atom count matches the lines, known elements,
// finite numbers, no overlapping atoms, at most `max_atoms`.
std::variant<Molecule, XyzError> parse_xyz(std::string_view text, const XyzLimits& limits = {});

// 1..118 for a known element symbol (case-insensitive), 0 otherwise.
int atomic_number(std::string_view symbol);
std::string_view element_symbol(int atomic_number);

}  // namespace nox
