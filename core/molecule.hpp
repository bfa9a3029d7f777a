#pragma once
// A molecule as atoms with Cartesian coordinates in Angstrom, and its XYZ text form.
#include <cstddef>
#include <optional>
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

  std::string to_xyz() const;      // standard XYZ: count line, comment line, one atom per line
  std::string formula() const;     // Hill order, e.g. "C8H10N4O2"
  int nuclear_charge_sum() const;  // sum of atomic numbers (for charge/multiplicity parity)
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
// finite numbers, no overlapping atoms, at most `max_atoms`. Exactly one structure: non-blank
// lines after the announced atoms are an error (xtb would silently ignore them). Symbols come
// back canonical ("cl" -> "Cl", "8" -> "O"). The error message starts with "line N: ".
std::variant<Molecule, XyzError> parse_xyz(std::string_view text, const XyzLimits& limits = {});

// 1..118 for a known element symbol (case-insensitive), 0 otherwise.
// Like xtb, also accepts the atomic number itself written as digits ("8" -> 8).
int atomic_number(std::string_view symbol);
// The canonical symbol ("Cl") for 1..118, "" otherwise.
std::string_view element_symbol(int atomic_number);

// Two atoms (0-based indices, first < second) closer than allowed, and their distance.
struct ClosePair {
  std::size_t first = 0;
  std::size_t second = 0;
  double distance = 0;
};

// The first atom (in order) that is closer than `min_distance_angstrom` to an earlier one, paired
// with the earliest such earlier atom; nullopt when no two atoms overlap. Linear time (cell grid).
std::optional<ClosePair> find_close_atoms(const std::vector<Atom>& atoms, double min_distance_angstrom);

// The Hill formula of already-validated XYZ text (e.g. a stored spec), without the full parse and
// overlap check; "" when the text is not readable XYZ. For listings and status answers.
std::string formula_of_xyz(std::string_view xyz);

}  // namespace nox
