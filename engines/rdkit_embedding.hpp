#pragma once
// 3-D structures by RDKit's ETKDG, run as a helper process: Debian's python3-rdkit under
// /usr/bin/python3. RDKit cannot be linked into noxd (Debian builds librdkit against Boost 1.74,
// whose headers conflict with 1.81). Chosen over Open Babel's builder by measurement
// (bench/smiles-3d-quality.py): ETKDG kept the stereo of 50 of 50 drug-like SMILES, Open Babel
// 3.1.1's gen3D 45 (it cannot place two neighbouring stereocentres, e.g. threonine).
#include <string>

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

}  // namespace nox
