#pragma once
// What every engine's Hessian needs: the rigid-body modes told apart from the vibrations.
#include <cstddef>
#include <vector>

#include "core/molecule.hpp"

namespace nox {

// Drops the 6 (5 if linear) translation/rotation modes: the ones closest to zero.
std::vector<double> vibrational_frequencies(std::vector<double> all_modes, bool linear);
// The indices of the modes vibrational_frequencies keeps, in order (to pick the same modes'
// intensities).
std::vector<std::size_t> vibrational_mode_indices(const std::vector<double>& all_modes, bool linear);
// All atoms on one line (within 1e-3 Angstrom); one or two atoms count as linear.
bool is_linear(const Molecule& molecule);

}  // namespace nox
