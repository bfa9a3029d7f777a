#pragma once
// The electron density of an xtb calculation as a Gaussian cube file, computed from the
// orbitals xtb writes to molden.input.
//
// Why not xtb's own density.cub: the cube writer of xtb 6.5.1 (src/cube.f90) integrates to 5.90
// of water's 8 valence electrons (its log's own "N (numint)" says 5.907), its grid ends 3 bohr
// past the outermost nuclei, and it drops density-matrix elements below 0.05; the orbitals of
// the same run, read from molden.input (contracted Cartesian Gaussians, coefficients with the
// primitives' normalisation folded in), integrate to 8.00 on a grid like this one. The density
// is the valence density xtb works with (no core electrons), in electrons per bohr^3.
#include <string>
#include <string_view>
#include <variant>

namespace nox::xtb {

struct CubeGrid {
  double step_bohr = 0.25;   // spacing of the points along each axis
  double margin_bohr = 5.0;  // from the outermost nuclei to the faces of the box
};

struct DensityCube {
  std::string text;        // the .cub file: bohr, Z fastest, X slowest
  double electrons = 0;    // the density summed over the grid times the volume per point
  std::size_t points = 0;  // nx * ny * nz
};

// The density cube of the occupied orbitals of `molden` (molden.input text), or why it cannot
// be made (a file xtb did not write: spherical or f functions, missing sections, bad numbers).
std::variant<DensityCube, std::string> density_cube_from_molden(std::string_view molden, const CubeGrid& grid = {});

}  // namespace nox::xtb
