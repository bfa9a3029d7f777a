#include "core/conformer_ranking.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace nox {
namespace {

using Vec3 = std::array<double, 3>;
using Mat4 = std::array<std::array<double, 4>, 4>;

void require_same_atoms(const Molecule& a, const Molecule& b) {
  if (a.atoms.size() != b.atoms.size()) {
    throw std::invalid_argument("RMSD of molecules with " + std::to_string(a.atoms.size()) + " and " +
                                std::to_string(b.atoms.size()) + " atoms");
  }
  for (std::size_t i = 0; i < a.atoms.size(); ++i) {
    if (a.atoms[i].symbol != b.atoms[i].symbol) {
      throw std::invalid_argument("RMSD: atom " + std::to_string(i + 1) + " is " + a.atoms[i].symbol +
                                  " in one and " + b.atoms[i].symbol + " in the other");
    }
  }
}

// The atoms' coordinates less their centroid.
std::vector<Vec3> centered(const Molecule& m, const std::vector<std::size_t>& indices) {
  std::vector<Vec3> out;
  Vec3 sum{0, 0, 0};
  for (std::size_t i : indices) {
    const Atom& atom = m.atoms[i];
    out.push_back({atom.x, atom.y, atom.z});
    for (int k = 0; k < 3; ++k) sum[k] += out.back()[k];
  }
  for (Vec3& p : out) {
    for (int k = 0; k < 3; ++k) p[k] -= sum[k] / static_cast<double>(out.size());
  }
  return out;
}

// Eigenvalues (diagonal of `a` on return) and eigenvectors (columns of the result) of a symmetric
// 4x4 matrix by cyclic Jacobi rotations: a handful of sweeps reach machine precision at this size.
Mat4 jacobi_eigen(Mat4& a) {
  Mat4 v{};
  for (int i = 0; i < 4; ++i) v[i][i] = 1;
  for (int sweep = 0; sweep < 50; ++sweep) {
    double off = 0, scale = 0;
    for (int i = 0; i < 4; ++i) {
      scale += a[i][i] * a[i][i];
      for (int j = i + 1; j < 4; ++j) off += a[i][j] * a[i][j];
    }
    if (off <= 1e-30 * scale || off == 0) break;
    for (int p = 0; p < 3; ++p) {
      for (int q = p + 1; q < 4; ++q) {
        if (a[p][q] == 0) continue;
        // The rotation angle that zeroes a[p][q] (Numerical Recipes' stable form).
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < 4; ++k) {  // a <- a J
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 4; ++k) {  // a <- J^T a
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 4; ++k) {  // v <- v J
          const double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return v;
}

// The proper rotation taking `moving` onto `fixed` best, by Horn's method (J. Opt. Soc. Am. A 4,
// 629 (1987)): the unit quaternion is the eigenvector of the largest eigenvalue of a symmetric
// 4x4 matrix built from the correlation matrix. A quaternion is always a proper rotation, so no
// determinant fix as with Kabsch's SVD.
std::array<Vec3, 3> best_rotation(const std::vector<Vec3>& moving, const std::vector<Vec3>& fixed) {
  double s[3][3] = {};
  for (std::size_t i = 0; i < moving.size(); ++i) {
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) s[r][c] += moving[i][r] * fixed[i][c];
    }
  }
  const double xx = s[0][0], xy = s[0][1], xz = s[0][2], yx = s[1][0], yy = s[1][1], yz = s[1][2],
               zx = s[2][0], zy = s[2][1], zz = s[2][2];
  Mat4 n = {{{xx + yy + zz, yz - zy, zx - xz, xy - yx},
             {yz - zy, xx - yy - zz, xy + yx, zx + xz},
             {zx - xz, xy + yx, -xx + yy - zz, yz + zy},
             {xy - yx, zx + xz, yz + zy, -xx - yy + zz}}};
  const Mat4 vectors = jacobi_eigen(n);
  int best = 0;
  for (int i = 1; i < 4; ++i) {
    if (n[i][i] > n[best][best]) best = i;
  }
  double q[4];
  double norm = 0;
  for (int k = 0; k < 4; ++k) norm += vectors[k][best] * vectors[k][best];
  for (int k = 0; k < 4; ++k) q[k] = vectors[k][best] / std::sqrt(norm);
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {{{w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)},
           {2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)},
           {2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z}}};
}

}  // namespace

double kabsch_rmsd(const Molecule& a, const Molecule& b, bool heavy_atoms_only) {
  require_same_atoms(a, b);
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < a.atoms.size(); ++i) {
    if (!heavy_atoms_only || a.atoms[i].symbol != "H") indices.push_back(i);
  }
  if (indices.empty()) {  // H2 and the like: the hydrogens are all there is to compare
    for (std::size_t i = 0; i < a.atoms.size(); ++i) indices.push_back(i);
  }
  if (indices.empty()) return 0;
  const std::vector<Vec3> fixed = centered(a, indices), moving = centered(b, indices);
  const auto r = best_rotation(moving, fixed);
  // Measured on the rotated coordinates rather than from the eigenvalue, which would subtract
  // two large sums and lose the digits of a near-zero RMSD.
  double sum = 0;
  for (std::size_t i = 0; i < moving.size(); ++i) {
    for (int k = 0; k < 3; ++k) {
      const double rotated = r[k][0] * moving[i][0] + r[k][1] * moving[i][1] + r[k][2] * moving[i][2];
      sum += (rotated - fixed[i][k]) * (rotated - fixed[i][k]);
    }
  }
  return std::sqrt(sum / static_cast<double>(moving.size()));
}

FieldErrors check(const RankingOptions& options) {
  FieldErrors errors;
  auto non_negative = [&](const char* field, double value, const char* unit) {
    if (!std::isfinite(value) || value < 0) {
      errors.push_back({field, std::string("must be a number of ") + unit + " of 0 or more"});
    }
  };
  non_negative("energy_window_kcal", options.energy_window_kcal, "kcal/mol");
  non_negative("rmsd_threshold_a", options.rmsd_threshold_a, "Angstrom");
  non_negative("energy_threshold_kcal", options.energy_threshold_kcal, "kcal/mol");
  if (!std::isfinite(options.temperature_k) || options.temperature_k <= 0) {
    errors.push_back({"temperature_k", "must be a temperature in kelvin above 0"});
  }
  return errors;
}

ConformerRanking rank_conformers(std::vector<ConformerCandidate> candidates, const RankingOptions& options) {
  ConformerRanking out;
  if (candidates.empty()) return out;
  for (const ConformerCandidate& c : candidates) {
    require_same_atoms(candidates.front().molecule, c.molecule);
    if (!std::isfinite(c.energy_eh))
      throw std::invalid_argument("conformer " + c.label + " has no finite energy");
  }
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const ConformerCandidate& x, const ConformerCandidate& y) { return x.energy_eh < y.energy_eh; });
  const double lowest = candidates.front().energy_eh;
  for (ConformerCandidate& c : candidates) {
    const double relative = (c.energy_eh - lowest) * kKcalPerHartree;
    if (relative > options.energy_window_kcal) {
      out.dropped.push_back({c.label, "above_window", "", 0, relative});
      continue;
    }
    // Only kept conformers close in energy are candidates for the same one: RMSDs for those alone.
    const RankedConformer* original = nullptr;
    double rmsd = 0;
    for (const RankedConformer& kept : out.conformers) {
      if (relative - kept.relative_kcal >= options.energy_threshold_kcal) continue;
      rmsd = kabsch_rmsd(kept.molecule, c.molecule, true);
      if (rmsd < options.rmsd_threshold_a) {
        original = &kept;
        break;
      }
    }
    if (original) {
      out.dropped.push_back({c.label, "duplicate", original->label, rmsd, relative});
      continue;
    }
    out.conformers.push_back({std::move(c.label), c.energy_eh, relative, 0, 0, std::move(c.molecule)});
  }
  // Weights relative to the lowest (exp(0) = 1 for it): no overflow whatever the energies.
  const double rt = kGasConstantKcal * options.temperature_k;
  double sum = 0;
  for (RankedConformer& r : out.conformers) sum += r.weight = std::exp(-r.relative_kcal / rt);
  int rank = 0;
  for (RankedConformer& r : out.conformers) {
    r.weight /= sum;
    r.rank = ++rank;
  }
  return out;
}

}  // namespace nox
