#pragma once
// What every engine's Hessian needs: the rigid-body modes told apart from the vibrations.
#include <vector>

#include "core/molecule.hpp"

namespace nox {

// Drops the 6 (5 if linear) translation/rotation modes: the ones closest to zero.
std::vector<double> vibrational_frequencies(std::vector<double> all_modes, bool linear);
// All atoms on one line (within 1e-3 Angstrom); one or two atoms count as linear.
bool is_linear(const Molecule& molecule);

}  // namespace nox
