#include "engines/vibrations.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nox {

std::vector<std::size_t> vibrational_mode_indices(const std::vector<double>& all_modes, bool linear) {
  const std::size_t rigid = std::min<std::size_t>(linear ? 5 : 6, all_modes.size());
  std::vector<std::size_t> order(all_modes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(all_modes[a]) < std::abs(all_modes[b]);
  });
  std::vector<bool> drop(all_modes.size(), false);
  for (std::size_t k = 0; k < rigid; ++k) drop[order[k]] = true;
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < all_modes.size(); ++i) {
    if (!drop[i]) kept.push_back(i);
  }
  return kept;
}

std::vector<double> vibrational_frequencies(std::vector<double> all_modes, bool linear) {
  std::vector<double> kept;
  for (std::size_t i : vibrational_mode_indices(all_modes, linear)) kept.push_back(all_modes[i]);
  return kept;
}

bool is_linear(const Molecule& molecule) {
  const auto& a = molecule.atoms;
  if (a.size() <= 2) return true;
  // Direction from the first atom to the farthest one; every atom must lie on that line.
  std::size_t far = 1;
  auto dist2 = [&](std::size_t i) {
    double dx = a[i].x - a[0].x, dy = a[i].y - a[0].y, dz = a[i].z - a[0].z;
    return dx * dx + dy * dy + dz * dz;
  };
  for (std::size_t i = 2; i < a.size(); ++i)
    if (dist2(i) > dist2(far)) far = i;
  const double len = std::sqrt(dist2(far));
  if (len < 1e-6) return true;
  const double ux = (a[far].x - a[0].x) / len, uy = (a[far].y - a[0].y) / len, uz = (a[far].z - a[0].z) / len;
  for (std::size_t i = 1; i < a.size(); ++i) {
    double dx = a[i].x - a[0].x, dy = a[i].y - a[0].y, dz = a[i].z - a[0].z;
    double cx = dy * uz - dz * uy, cy = dz * ux - dx * uz, cz = dx * uy - dy * ux;
    if (std::sqrt(cx * cx + cy * cy + cz * cz) > 1e-3) return false;
  }
  return true;
}

}  // namespace nox
