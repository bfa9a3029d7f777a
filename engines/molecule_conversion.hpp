#pragma once
// Molecules in the formats chemists have (SMILES, SDF/MOL, MOL2, PDB) -> atoms in 3-D, and who a
// molecule is (canonical SMILES, InChI, InChIKey). The only door to Open Babel: its headers stay
// in molecule_conversion.cpp. Calls take tens to hundreds of milliseconds (3-D building in a
// helper process, force field clean-up): run them off the event loop. Safe from any thread (Open Babel's shared force
// fields and error log are used under one lock).
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/job_spec.hpp"
#include "core/molecule.hpp"

namespace nox {

struct ConvertedMolecule {
  Molecule molecule;       // explicit hydrogens, 3-D coordinates in Angstrom
  int formal_charge = 0;   // the sum of the atoms' formal charges
  int multiplicity = 1;    // from the radicals (unpaired electrons + 1)
  MoleculeIdentifiers identifiers;
  std::string title;       // the record's name (SDF first line, SMILES after the blank)
  std::vector<std::pair<std::string, std::string>> properties;  // SDF data items, in order
};

// Converts the first record of `source`. SMILES, and 2-D or 0-D records, get a 3-D structure
// with hydrogens (RDKit's ETKDG + MMFF94 when python3-rdkit is installed, else Open Babel's
// gen3D), checked to keep the record's stereo; 3-D records keep their coordinates (hydrogens
// added only when there are none at all). On failure: what is wrong, in words for the chemist
// ("not a valid SMILES: ...").
std::variant<ConvertedMolecule, std::string> convert_molecule(const MoleculeSource& source, std::size_t max_atoms);

// Who a molecule given as coordinates is: bonds and bond orders are perceived from the geometry.
// nullopt when Open Babel cannot make an InChI of it.
std::optional<MoleculeIdentifiers> identify_molecule(const Molecule& molecule);

// One SDF record of a molecule given as coordinates, to offer structures (ranked conformers) as a
// multi-record SDF: an MDL molblock (V2000; V3000 beyond 999 atoms) whose bonds and bond orders
// Open Babel perceives from the geometry, `title` on its first line, `properties` as `>  <name>`
// data items, then `$$$$`. Names lose '<', '>' and line breaks, values their blank lines (they
// would end the item). The header's program line carries no time stamp: the same input gives the
// same bytes. nullopt when Open Babel cannot read the molecule.
std::optional<std::string> molfile_of(const Molecule& molecule, const std::string& title,
                                      const std::vector<std::pair<std::string, std::string>>& properties);

}  // namespace nox
