#include "engines/xtb/density_cube.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "engines/output_text.hpp"

namespace nox::xtb {

using namespace output_text;

namespace {

constexpr double bohr_per_angstrom = 1.0 / 0.52917721067;
// A primitive with exponent a is left out beyond a r^2 > this (exp(-40) ~ 4e-18).
constexpr double screening_exponent = 40.0;

struct Atom {
  int z = 0;
  std::array<double, 3> at{};  // bohr
};

// One contracted shell: s (1 function), p (x, y, z) or Cartesian d (xx, yy, zz, xy, xz, yz:
// molden's order). Coefficients as molden.input gives them (primitive norms included).
struct Shell {
  std::size_t atom = 0;
  int l = 0;
  std::vector<double> exponents;
  std::vector<double> coefficients;
  double smallest_exponent = 0;
};

struct Orbital {
  double occupation = 0;
  std::vector<double> coefficients;
};

struct Wavefunction {
  std::vector<Atom> atoms;
  std::vector<Shell> shells;
  std::vector<Orbital> occupied;
  std::size_t functions = 0;
};

std::size_t functions_of(int l) { return l == 0 ? 1 : l == 1 ? 3 : 6; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::variant<Wavefunction, std::string> read_molden(std::string_view text) {
  Wavefunction wf;
  const auto lines = lines_of(text);
  enum class Section { none, atoms, gto, mo } section = Section::none;
  double atom_unit = 1.0;
  std::size_t current_atom = 0;
  bool in_atom_block = false;
  Orbital* orbital = nullptr;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    if (line.empty()) {
      if (section == Section::gto) in_atom_block = false;
      continue;
    }
    if (line.front() == '[') {
      const std::string tag = lower(line);
      orbital = nullptr;
      if (tag.starts_with("[atoms]")) {
        section = Section::atoms;
        atom_unit = tag.find("angs") != std::string::npos ? bohr_per_angstrom : 1.0;
      } else if (tag == "[gto]") {
        section = Section::gto;
      } else if (tag == "[mo]") {
        section = Section::mo;
      } else if (tag == "[5d]" || tag.starts_with("[5d") || tag == "[7f]" || tag == "[9g]") {
        return "molden.input uses spherical functions (" + std::string(line) + "); xtb writes Cartesian ones";
      } else {
        section = Section::none;
      }
      continue;
    }
    const auto tokens = tokens_of(line);
    switch (section) {
      case Section::atoms: {
        if (tokens.size() < 6) return "molden.input: an atom line has fewer than 6 fields: " + std::string(line);
        const auto z = to_int(tokens[2]);
        const auto x = to_double(tokens[3]), y = to_double(tokens[4]), zc = to_double(tokens[5]);
        if (!z || !x || !y || !zc) return "molden.input: unreadable atom line: " + std::string(line);
        wf.atoms.push_back({*z, {*x * atom_unit, *y * atom_unit, *zc * atom_unit}});
        break;
      }
      case Section::gto: {
        if (!in_atom_block) {
          const auto index = tokens.empty() ? std::nullopt : to_int(tokens[0]);
          if (!index || *index < 1 || static_cast<std::size_t>(*index) > wf.atoms.size())
            return "molden.input: [GTO] names an atom that [Atoms] does not have: " + std::string(line);
          current_atom = static_cast<std::size_t>(*index - 1);
          in_atom_block = true;
          break;
        }
        if (tokens.size() < 2) return "molden.input: unreadable shell line: " + std::string(line);
        const std::string kind = lower(tokens[0]);
        const int l = kind == "s" ? 0 : kind == "p" ? 1 : kind == "d" ? 2 : -1;
        if (l < 0) return "molden.input: a " + kind + " shell; only s, p and d are read";
        const auto count = to_int(tokens[1]);
        if (!count || *count < 1 || i + static_cast<std::size_t>(*count) >= lines.size())
          return "molden.input: unreadable shell line: " + std::string(line);
        Shell shell{current_atom, l, {}, {}, std::numeric_limits<double>::max()};
        for (int k = 0; k < *count; ++k) {
          const auto primitive = tokens_of(trim(lines[++i]));
          const auto a = primitive.size() >= 2 ? to_double(primitive[0]) : std::nullopt;
          const auto c = primitive.size() >= 2 ? to_double(primitive[1]) : std::nullopt;
          if (!a || !c || *a <= 0) return "molden.input: unreadable primitive: " + std::string(lines[i]);
          shell.exponents.push_back(*a);
          shell.coefficients.push_back(*c);
          shell.smallest_exponent = std::min(shell.smallest_exponent, *a);
        }
        wf.functions += functions_of(l);
        wf.shells.push_back(std::move(shell));
        break;
      }
      case Section::mo: {
        if (line.starts_with("Sym=") || line.starts_with("sym=")) {
          wf.occupied.push_back({});
          orbital = &wf.occupied.back();
        } else if (!orbital) {
          return "molden.input: [MO] data before the first Sym=: " + std::string(line);
        } else if (lower(tokens[0]).starts_with("occup=")) {
          const auto occupation = to_double(tokens.size() > 1 ? tokens[1] : tokens[0].substr(6));
          if (!occupation) return "molden.input: unreadable occupation: " + std::string(line);
          orbital->occupation = *occupation;
        } else if (line.find('=') != std::string_view::npos) {
          // Ene=, Spin=: not needed for the density.
        } else {
          const auto index = to_int(tokens[0]);
          const auto value = tokens.size() >= 2 ? to_double(tokens[1]) : std::nullopt;
          if (!index || !value || *index < 1) return "molden.input: unreadable coefficient: " + std::string(line);
          if (orbital->coefficients.size() < static_cast<std::size_t>(*index))
            orbital->coefficients.resize(static_cast<std::size_t>(*index), 0.0);
          orbital->coefficients[static_cast<std::size_t>(*index - 1)] = *value;
        }
        break;
      }
      case Section::none:
        break;
    }
  }
  if (wf.atoms.empty() || wf.shells.empty()) return "molden.input has no atoms or no basis ([Atoms], [GTO])";
  std::erase_if(wf.occupied, [](const Orbital& o) { return o.occupation <= 0; });
  if (wf.occupied.empty()) return "molden.input has no occupied orbitals ([MO])";
  for (Orbital& o : wf.occupied) {
    if (o.coefficients.size() > wf.functions)
      return "molden.input: an orbital has " + std::to_string(o.coefficients.size()) + " coefficients for " +
             std::to_string(wf.functions) + " basis functions";
    o.coefficients.resize(wf.functions, 0.0);
  }
  return wf;
}

// The values of every basis function at `point` into `values` (0 where screened out); the
// indices of the non-zero ones into `nonzero`.
void basis_at(const Wavefunction& wf, const std::array<double, 3>& point, std::vector<double>& values,
              std::vector<std::size_t>& nonzero) {
  nonzero.clear();
  std::size_t first = 0;
  for (const Shell& shell : wf.shells) {
    const auto& at = wf.atoms[shell.atom].at;
    const double dx = point[0] - at[0], dy = point[1] - at[1], dz = point[2] - at[2];
    const double r2 = dx * dx + dy * dy + dz * dz;
    const std::size_t n = functions_of(shell.l);
    if (shell.smallest_exponent * r2 > screening_exponent) {
      first += n;
      continue;
    }
    double radial = 0;
    for (std::size_t k = 0; k < shell.exponents.size(); ++k) {
      const double ar2 = shell.exponents[k] * r2;
      if (ar2 < screening_exponent) radial += shell.coefficients[k] * std::exp(-ar2);
    }
    double* v = &values[first];
    if (shell.l == 0) {
      v[0] = radial;
    } else if (shell.l == 1) {
      v[0] = dx * radial, v[1] = dy * radial, v[2] = dz * radial;
    } else {
      v[0] = dx * dx * radial, v[1] = dy * dy * radial, v[2] = dz * dz * radial;
      v[3] = dx * dy * radial, v[4] = dx * dz * radial, v[5] = dy * dz * radial;
    }
    for (std::size_t k = 0; k < n; ++k) nonzero.push_back(first + k);
    first += n;
  }
}

void append_number(std::string& out, double value) {
  char text[24];
  const int n = std::snprintf(text, sizeof text, " %12.5E", value);
  out.append(text, static_cast<std::size_t>(n));
}

}  // namespace

std::variant<DensityCube, std::string> density_cube_from_molden(std::string_view molden, const CubeGrid& grid) {
  auto read = read_molden(molden);
  if (auto* why = std::get_if<std::string>(&read)) return std::move(*why);
  const Wavefunction& wf = std::get<Wavefunction>(read);

  std::array<double, 3> low{}, high{};
  for (int axis = 0; axis < 3; ++axis) {
    low[axis] = high[axis] = wf.atoms.front().at[axis];
    for (const Atom& a : wf.atoms) {
      low[axis] = std::min(low[axis], a.at[axis]);
      high[axis] = std::max(high[axis], a.at[axis]);
    }
    low[axis] -= grid.margin_bohr;
    high[axis] += grid.margin_bohr;
  }
  std::array<std::size_t, 3> count{};
  for (int axis = 0; axis < 3; ++axis)
    count[axis] = static_cast<std::size_t>(std::ceil((high[axis] - low[axis]) / grid.step_bohr)) + 1;

  DensityCube cube;
  cube.points = count[0] * count[1] * count[2];
  std::string& out = cube.text;
  out.reserve(cube.points * 14 + 4096);
  out += "Nox: electron density of xtb's occupied orbitals (molden.input), valence electrons\n";
  out += "bohr; outer loop X, middle Y, inner Z; electrons per bohr^3\n";
  char line[160];
  std::snprintf(line, sizeof line, "%5zu %12.6f %12.6f %12.6f\n", wf.atoms.size(), low[0], low[1], low[2]);
  out += line;
  for (int axis = 0; axis < 3; ++axis) {
    std::snprintf(line, sizeof line, "%5zu %12.6f %12.6f %12.6f\n", count[axis], axis == 0 ? grid.step_bohr : 0.0,
                  axis == 1 ? grid.step_bohr : 0.0, axis == 2 ? grid.step_bohr : 0.0);
    out += line;
  }
  for (const Atom& a : wf.atoms) {
    std::snprintf(line, sizeof line, "%5d %12.6f %12.6f %12.6f %12.6f\n", a.z, static_cast<double>(a.z), a.at[0],
                  a.at[1], a.at[2]);
    out += line;
  }

  std::vector<double> values(wf.functions, 0.0);
  std::vector<std::size_t> nonzero;
  nonzero.reserve(wf.functions);
  double sum = 0;
  for (std::size_t ix = 0; ix < count[0]; ++ix) {
    for (std::size_t iy = 0; iy < count[1]; ++iy) {
      for (std::size_t iz = 0; iz < count[2]; ++iz) {
        const std::array<double, 3> point{low[0] + static_cast<double>(ix) * grid.step_bohr,
                                          low[1] + static_cast<double>(iy) * grid.step_bohr,
                                          low[2] + static_cast<double>(iz) * grid.step_bohr};
        basis_at(wf, point, values, nonzero);
        double density = 0;
        for (const Orbital& o : wf.occupied) {
          double amplitude = 0;
          for (std::size_t k : nonzero) amplitude += o.coefficients[k] * values[k];
          density += o.occupation * amplitude * amplitude;
        }
        sum += density;
        append_number(out, density);
        // Six numbers a line, and each Z row on lines of its own (as Gaussian's cubegen writes).
        if (iz % 6 == 5 || iz + 1 == count[2]) out += '\n';
      }
    }
  }
  cube.electrons = sum * grid.step_bohr * grid.step_bohr * grid.step_bohr;
  return cube;
}

}  // namespace nox::xtb
