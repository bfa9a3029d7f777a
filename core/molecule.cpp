#include "core/molecule.hpp"
#include "core/quoted.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace nox {
namespace {

// Canonical IUPAC symbols, indexed by atomic number (index 0 unused).
constexpr std::array<std::string_view, 119> kSymbols = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",
    "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
    "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho",
    "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po",
    "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md",
    "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

// Coordinates beyond this are not a molecule, and keeping them out keeps the overlap grid's
// cell indices far from integer overflow.
constexpr double kMaxAbsCoordinate = 1e6;

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Lines without their '\n' and a trailing '\r' (files written on Windows).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == text.size()) break;
    start = end + 1;
  }
  // "a\n" is one line, not a line followed by an empty one.
  if (!lines.empty() && lines.back().empty() && !text.empty() && text.back() == '\n') lines.pop_back();
  return lines;
}


std::string format_distance(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", d);
  return buf;
}

std::optional<double> parse_number(std::string_view s) {
  // from_chars takes no leading '+', which XYZ writers sometimes emit; "+-1" stays invalid.
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ptr != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return HUGE_VAL;  // reported as not finite
  if (ec != std::errc()) return std::nullopt;
  return v;
}

std::string formula_from_counts(const std::map<std::string_view, int>& counts) {
  auto append = [](std::string& out, std::string_view symbol, int n) {
    out.append(symbol);
    if (n > 1) out += std::to_string(n);
  };
  std::string out;
  const auto c = counts.find("C");
  if (c != counts.end()) {
    // Hill order: carbon, then hydrogen, then the rest alphabetically.
    append(out, "C", c->second);
    if (const auto h = counts.find("H"); h != counts.end()) append(out, "H", h->second);
    for (const auto& [symbol, n] : counts) {
      if (symbol != "C" && symbol != "H") append(out, symbol, n);
    }
  } else {
    for (const auto& [symbol, n] : counts) append(out, symbol, n);
  }
  return out;
}

struct CellKey {
  std::int64_t x, y, z;
  bool operator==(const CellKey&) const = default;
};

struct CellHash {
  std::size_t operator()(const CellKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.x) * 0x9E3779B97F4A7C15ULL;
    h ^= static_cast<std::uint64_t>(k.y) * 0xC2B2AE3D27D4EB4FULL + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(k.z) * 0x165667B19E3779F9ULL + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h);
  }
};

// Clamped so that absurd coordinates cannot overflow the conversion; clamped atoms share edge
// cells, which costs time but never a wrong answer (distances use the real coordinates).
std::int64_t cell_index(double coordinate, double cell) {
  constexpr double kLimit = 1e15;
  const double c = std::floor(coordinate / cell);
  if (!(c > -kLimit)) return static_cast<std::int64_t>(-kLimit);
  if (!(c < kLimit)) return static_cast<std::int64_t>(kLimit);
  return static_cast<std::int64_t>(c);
}

}  // namespace

int atomic_number(std::string_view symbol) {
  if (symbol.empty() || symbol.size() > 3) return 0;
  // xtb also reads atomic numbers in the symbol column ("8 0.0 0.0 0.0").
  if (std::all_of(symbol.begin(), symbol.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int z = 0;
    std::from_chars(symbol.data(), symbol.data() + symbol.size(), z);
    return z >= 1 && z <= 118 ? z : 0;
  }
  if (symbol.size() > 2) return 0;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (int z = 1; z <= 118; ++z) {
    const std::string_view s = kSymbols[z];
    if (s.size() != symbol.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < s.size(); ++i) same = same && lower(s[i]) == lower(symbol[i]);
    if (same) return z;
  }
  return 0;
}

std::string_view element_symbol(int z) {
  if (z < 1 || z > 118) return {};
  return kSymbols[z];
}

std::string Molecule::to_xyz() const {
  std::string out = std::to_string(atoms.size());
  out += '\n';
  // The comment must stay one line or the file would no longer be XYZ.
  for (const char c : comment) out += (c == '\n' || c == '\r') ? ' ' : c;
  out += '\n';
  // std::to_chars instead of printf: this runs for every submitted job (the echo benchmark
  // spent a fifth of its time in printf here). Same layout as "%-2s %17.10f %17.10f %17.10f".
  out.reserve(out.size() + atoms.size() * 56);
  char number[64];
  for (const Atom& a : atoms) {
    out += a.symbol;
    if (a.symbol.size() < 2) out += ' ';
    for (const double v : {a.x, a.y, a.z}) {
      const auto end = std::to_chars(number, number + sizeof number, v, std::chars_format::fixed, 10).ptr;
      const auto width = static_cast<std::size_t>(end - number);
      out += ' ';
      if (width < 17) out.append(17 - width, ' ');
      out.append(number, width);
    }
    out += '\n';
  }
  return out;
}

std::string Molecule::formula() const {
  std::map<std::string_view, int> counts;
  for (const Atom& a : atoms) ++counts[a.symbol];
  return formula_from_counts(counts);
}

int Molecule::nuclear_charge_sum() const {
  int sum = 0;
  for (const Atom& a : atoms) sum += atomic_number(a.symbol);
  return sum;
}

std::optional<ClosePair> find_close_atoms(const std::vector<Atom>& atoms, double min_distance) {
  if (!(min_distance > 0) || atoms.size() < 2) return std::nullopt;
  const double min2 = min_distance * min_distance;
  if (atoms.size() <= 32) {
    // Small molecules (most jobs): comparing all pairs is cheaper than building the grid.
    for (std::size_t i = 1; i < atoms.size(); ++i)
      for (std::size_t j = 0; j < i; ++j) {
        const Atom& a = atoms[i];
        const Atom& b = atoms[j];
        const double d2 = (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) + (a.z - b.z) * (a.z - b.z);
        if (d2 < min2) return ClosePair{j, i, std::sqrt(d2)};
      }
    return std::nullopt;
  }
  // Cells as wide as the minimum distance: a too-close partner of an atom can only sit in its own
  // or one of the 26 neighbouring cells. Atoms already accepted are at least min_distance apart, so
  // each cell holds a handful of them and the whole check is linear in the number of atoms.
  std::unordered_map<CellKey, std::vector<std::size_t>, CellHash> grid;
  grid.reserve(atoms.size());
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    const Atom& a = atoms[i];
    const CellKey key{cell_index(a.x, min_distance), cell_index(a.y, min_distance),
                      cell_index(a.z, min_distance)};
    std::optional<ClosePair> closest;
    for (std::int64_t dx = -1; dx <= 1; ++dx) {
      for (std::int64_t dy = -1; dy <= 1; ++dy) {
        for (std::int64_t dz = -1; dz <= 1; ++dz) {
          const auto cell = grid.find({key.x + dx, key.y + dy, key.z + dz});
          if (cell == grid.end()) continue;
          for (const std::size_t j : cell->second) {
            const Atom& b = atoms[j];
            const double d2 =
                (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y) + (a.z - b.z) * (a.z - b.z);
            // Report the earliest partner, so the answer does not depend on the hash order.
            if (d2 < min2 && (!closest || j < closest->first)) closest = ClosePair{j, i, std::sqrt(d2)};
          }
        }
      }
    }
    if (closest) return closest;
    grid[key].push_back(i);
  }
  return std::nullopt;
}

std::variant<Molecule, XyzError> parse_xyz(std::string_view text, const XyzLimits& limits) {
  // A UTF-8 byte order mark from a Windows editor is not part of the count.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const std::vector<std::string_view> lines = split_lines(text);

  std::size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size())
    return XyzError{1, "line 1: the XYZ text is empty; it must start with the number of atoms"};

  const int count_line = static_cast<int>(i) + 1;
  const std::string_view count_text = trim(lines[i]);
  auto at = [](int line, const std::string& what) { return "line " + std::to_string(line) + ": " + what; };

  std::size_t count = 0;
  {
    const auto [ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    const bool digits_only =
        std::all_of(count_text.begin(), count_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits_only || ec == std::errc::invalid_argument || ptr != count_text.data() + count_text.size()) {
      return XyzError{count_line, at(count_line, "expected the number of atoms (a positive integer), found " +
                                                     quoted(count_text))};
    }
    if (ec == std::errc::result_out_of_range || count > limits.max_atoms) {
      return XyzError{count_line, at(count_line, quoted(count_text) + " atoms is more than the limit of " +
                                                     std::to_string(limits.max_atoms))};
    }
    if (count == 0) {
      return XyzError{count_line, at(count_line, "the number of atoms must be at least 1, found 0")};
    }
  }

  Molecule mol;
  ++i;
  if (i < lines.size()) {
    mol.comment = std::string(trim(lines[i]));
    ++i;
  }

  // Past the last non-blank line the text has simply run out of atoms; a blank line before it is a
  // hole among the atom lines. The two get different messages.
  std::size_t end = lines.size();
  while (end > i && trim(lines[end - 1]).empty()) --end;

  mol.atoms.reserve(count);
  static constexpr const char* kAxis[] = {"x", "y", "z"};
  while (mol.atoms.size() < count) {
    const int line_no = static_cast<int>(i) + 1;
    if (i >= end) {
      return XyzError{count_line,
                      at(count_line, "the count line says " + std::to_string(count) + " atoms but only " +
                                         std::to_string(mol.atoms.size()) + " atom lines follow (line " +
                                         std::to_string(line_no) + " should hold atom " +
                                         std::to_string(mol.atoms.size() + 1) + ")")};
    }
    const std::string_view line = lines[i];
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.empty()) {
      return XyzError{line_no, at(line_no, "empty line where atom " + std::to_string(mol.atoms.size() + 1) +
                                               " of " + std::to_string(count) + " was expected")};
    }
    if (fields.size() != 4) {
      return XyzError{line_no, at(line_no, "expected 4 fields \"symbol x y z\", found " +
                                               std::to_string(fields.size()) + " in " + quoted(trim(line)))};
    }
    const int z = atomic_number(fields[0]);
    if (z == 0) return XyzError{line_no, at(line_no, "unknown element " + quoted(fields[0]))};
    double xyz[3];
    for (int k = 0; k < 3; ++k) {
      const std::optional<double> v = parse_number(fields[1 + k]);
      if (!v) {
        return XyzError{line_no, at(line_no, std::string("the ") + kAxis[k] + " coordinate " +
                                                 quoted(fields[1 + k]) + " is not a number")};
      }
      if (!std::isfinite(*v)) {
        return XyzError{line_no, at(line_no, std::string("the ") + kAxis[k] + " coordinate " +
                                                 quoted(fields[1 + k]) + " is not a finite number")};
      }
      if (std::fabs(*v) > kMaxAbsCoordinate) {
        return XyzError{line_no,
                        at(line_no, std::string("the ") + kAxis[k] + " coordinate " + quoted(fields[1 + k]) +
                                        " is out of range (more than 1e6 Angstrom)")};
      }
      xyz[k] = *v;
    }
    mol.atoms.push_back(Atom{std::string(element_symbol(z)), xyz[0], xyz[1], xyz[2]});
    ++i;
  }

  for (; i < lines.size(); ++i) {
    if (trim(lines[i]).empty()) continue;
    const int line_no = static_cast<int>(i) + 1;
    return XyzError{line_no,
                    at(line_no, "more lines than the " + std::to_string(count) + " atoms announced on line " +
                                    std::to_string(count_line) + "; xtb would silently use only the first " +
                                    std::to_string(count) +
                                    ", so fix the count or remove the extra lines (one structure per job)")};
  }

  // Atom k (0-based) is on line first_atom_line + k.
  const int first_atom_line = count_line + 2;
  if (const auto pair = find_close_atoms(mol.atoms, limits.min_distance_angstrom)) {
    const int l1 = first_atom_line + static_cast<int>(pair->first);
    const int l2 = first_atom_line + static_cast<int>(pair->second);
    return XyzError{
        l2, at(l2, "atoms on lines " + std::to_string(l1) + " and " + std::to_string(l2) + " (" +
                       mol.atoms[pair->first].symbol + ", " + mol.atoms[pair->second].symbol + ") are " +
                       format_distance(pair->distance) + " Angstrom apart; atoms closer than " +
                       format_distance(limits.min_distance_angstrom) + " Angstrom overlap")};
  }
  return mol;
}

std::string formula_of_xyz(std::string_view text) {
  // A light scan for listings: the stored spec's XYZ was validated on submission, so only the
  // count and the first field of each atom line are read, and anything odd yields "".
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const std::vector<std::string_view> lines = split_lines(text);
  std::size_t i = 0;
  while (i < lines.size() && trim(lines[i]).empty()) ++i;
  if (i == lines.size()) return {};
  const std::string_view count_text = trim(lines[i]);
  std::size_t count = 0;
  const auto [ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (ec != std::errc() || ptr != count_text.data() + count_text.size() || count == 0) return {};
  i += 2;
  if (i + count > lines.size()) return {};
  std::map<std::string_view, int> counts;
  for (std::size_t k = 0; k < count; ++k, ++i) {
    const std::string_view line = trim(lines[i]);
    const std::string_view symbol = line.substr(0, std::min(line.size(), line.find_first_of(" \t")));
    const int z = atomic_number(symbol);
    if (z == 0) return {};
    ++counts[element_symbol(z)];
  }
  return formula_from_counts(counts);
}

}  // namespace nox
