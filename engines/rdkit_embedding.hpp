#pragma once
// 3-D structures by RDKit's ETKDG, run as a helper process: Debian's python3-rdkit under
// /usr/bin/python3. RDKit cannot be linked into noxd (Debian builds librdkit against Boost 1.74,
// whose headers conflict with 1.81). Chosen over Open Babel's builder by measurement
// (bench/smiles-3d-quality.py): ETKDG kept the stereo of 50 of 50 drug-like SMILES, Open Babel
// 3.1.1's gen3D 45 (it cannot place two neighbouring stereocentres, e.g. threonine).
#include <chrono>
#include <string>
#include <vector>

#include "core/molecule.hpp"

namespace nox {

struct Embedding {
  bool ok = false;
  std::string molfile;  // ok: MDL V2000 with explicit hydrogens and 3-D coordinates
  std::string problem;  // !ok: why (RDKit missing, SMILES refused, embedding failed)
};

// Whether the helper can run here (python3-rdkit installed); probed once.
bool rdkit_available();
// Embeds `smiles` (hydrogens added, MMFF94 clean-up, a fixed seed: the same SMILES always gives
// the same structure). Blocks for ~0.2 s (Python and RDKit start) plus the embedding.
Embedding embed_with_rdkit(const std::string& smiles);

// Starting structures for a conformer search, with the force field's energies.
struct ConformerSet {
  bool ok = false;
  std::vector<Molecule> conformers;               // ok: explicit hydrogens, lowest force-field energy first
  std::vector<double> force_field_energies_kcal;  // one per conformer; comparable within one set only
  std::string force_field;                        // "MMFF94", or "UFF" when MMFF94 has no parameters
  std::string problem;                            // !ok: why
};

// Up to `count` (>= 1) distinct starting structures of `smiles` for a conformer search: ETKDGv3
// embeds max(3 count, count + 10) (fixed seed, pruned at 0.3 A heavy-atom RMS), each is minimized
// with MMFF94 (UFF without MMFF94 parameters), and the lowest are kept greedily while their
// heavy-atom RMS to every kept one, after symmetry-aware alignment, is at least 0.3 A. Fewer come
// back when fewer are distinct (a rigid molecule gives one). Blocks up to `timeout` (0: no
// limit); ~0.5 s for butanol.
ConformerSet generate_conformers_with_rdkit(const std::string& smiles, int count,
                                            std::chrono::seconds timeout);

}  // namespace nox
