// Open Babel 3.1 behind molecule_conversion.hpp. Observed with Debian's 3.1.1 (and checked by
// tests/unit/test_molecule_conversion.cpp): the SMILES reader accepts an unclosed branch silently
// (core/smiles_syntax catches it first), turns a ring it cannot kekulize or a five-bonded carbon
// into a radical instead of refusing it, and reports problems only through its global error log.
#include "engines/molecule_conversion.hpp"

#include <openbabel/elements.h>
#include <openbabel/generic.h>
#include <openbabel/atom.h>
#include <openbabel/mol.h>
#include <openbabel/obiter.h>
#include <openbabel/obconversion.h>
#include <openbabel/oberror.h>
#include <openbabel/op.h>

#include <cmath>
#include <mutex>
#include <sstream>

namespace nox {
namespace {

namespace ob = OpenBabel;

std::mutex& open_babel_lock() {
  static std::mutex lock;
  return lock;
}

// Open Babel's messages go to its global log; keep them there (not on stderr) to quote them.
void quiet_log() {
  static std::ostringstream sink;
  ob::obErrorLog.SetOutputStream(&sink);
  ob::obErrorLog.SetOutputLevel(ob::obError);
  ob::obErrorLog.StartLogging();
  ob::obErrorLog.ClearLog();
  sink.str("");
}

// The messages logged since quiet_log(), without Open Babel's banner lines.
std::string logged(ob::obMessageLevel level) {
  std::string out;
  for (const std::string& message : ob::obErrorLog.GetMessagesOfLevel(level)) {
    std::istringstream lines(message);
    std::string line;
    while (std::getline(lines, line)) {
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line.find("====") != std::string::npos || line.starts_with("***")) continue;
      out += (out.empty() ? "" : "; ") + line.substr(first);
    }
  }
  return out;
}

const char* open_babel_format(const std::string& format) {
  if (format == "smiles") return "smi";
  if (format == "sdf" || format == "mol") return "sdf";
  return format.c_str();  // mol2, pdb, xyz
}

std::string write_as(ob::OBMol& mol, const char* format) {
  ob::OBConversion conversion;
  conversion.SetOutFormat(format);
  conversion.AddOption("n", ob::OBConversion::OUTOPTIONS);  // no title after the SMILES
  std::string text = conversion.WriteString(&mol, true);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// What a chemist would call a wrong structure although Open Babel reads it: more bonds than the
// element takes (Open Babel makes "C(C)(C)(C)(C)C" a radical instead of refusing it).
std::optional<std::string> valence_problem(ob::OBMol& mol) {
  FOR_ATOMS_OF_MOL(atom, mol) {
    const int charge = atom->GetFormalCharge();
    int most = 0;
    switch (atom->GetAtomicNum()) {
      case 1: most = 1; break;
      case 5: most = 3 + (charge < 0 ? 1 : 0); break;
      case 6: most = 4; break;
      case 7: most = 3 + (charge > 0 ? 1 : 0); break;
      case 8: most = 2 + (charge > 0 ? 1 : 0); break;
      case 9: most = 1; break;
      default: continue;
    }
    const int bonds = static_cast<int>(atom->GetTotalValence());
    if (bonds > most) {
      return "atom " + std::to_string(atom->GetIdx()) + " (" + ob::OBElements::GetSymbol(atom->GetAtomicNum()) +
             ") has " + std::to_string(bonds) + " bonds; it takes at most " + std::to_string(most);
    }
  }
  return std::nullopt;
}

bool flat(ob::OBMol& mol) {
  if (mol.GetDimension() < 3) return true;
  FOR_ATOMS_OF_MOL(atom, mol) {
    if (std::abs(atom->GetZ()) > 1e-4) return false;
  }
  return true;
}

bool has_hydrogens(ob::OBMol& mol) {
  FOR_ATOMS_OF_MOL(atom, mol) {
    if (atom->GetAtomicNum() == 1) return true;
  }
  return false;
}

// The rest of a conversion, once Open Babel has read a record into `mol`.
std::variant<ConvertedMolecule, std::string> finish(ob::OBMol& mol, const std::string& format, std::size_t max_atoms) {
  const std::string warnings = logged(ob::obWarning);
  if (warnings.find("kekulize") != std::string::npos) {
    return "an aromatic ring cannot be given alternating single and double bonds (write hydrogens on aromatic "
           "nitrogens, e.g. [nH], and check the lowercase atoms): Open Babel said \"" + warnings + "\"";
  }
  if (auto problem = valence_problem(mol)) return *problem;
  if (mol.NumAtoms() > max_atoms) {
    return std::to_string(mol.NumAtoms()) + " atoms is more than the limit of " + std::to_string(max_atoms);
  }
  ConvertedMolecule out;
  out.title = mol.GetTitle();
  for (ob::OBGenericData* data : mol.GetAllData(ob::OBGenericDataType::PairData)) {
    auto* pair = dynamic_cast<ob::OBPairData*>(data);
    if (pair && pair->GetAttribute() != "OpenBabel Symmetry Classes") {
      out.properties.emplace_back(pair->GetAttribute(), pair->GetValue());
    }
  }
  // Who it is, from the record as read (the 2-D connection table and its stereo marks).
  out.identifiers.canonical_smiles = write_as(mol, "can");
  out.identifiers.inchi = write_as(mol, "inchi");
  out.identifiers.inchikey = write_as(mol, "inchikey");
  out.formal_charge = mol.GetTotalCharge();

  if (format == "smiles" || flat(mol)) {
    ob::OBOp* gen3d = ob::OBOp::FindType("gen3D");
    if (!gen3d || !gen3d->Do(&mol, "med") || flat(mol)) {
      return "Open Babel could not build a 3-D structure" + (logged(ob::obError).empty() ? std::string()
                                                                                          : ": " + logged(ob::obError));
    }
  } else if (!has_hydrogens(mol)) {
    mol.AddHydrogens(false, true);
  }
  if (mol.NumAtoms() > max_atoms) {
    return "with hydrogens, " + std::to_string(mol.NumAtoms()) + " atoms is more than the limit of " +
           std::to_string(max_atoms);
  }
  // Radicals are known once the hydrogens are (Open Babel assigns the atoms' spin with them).
  out.multiplicity = static_cast<int>(mol.GetTotalSpinMultiplicity());
  FOR_ATOMS_OF_MOL(atom, mol) {
    out.molecule.atoms.push_back(
        Atom{ob::OBElements::GetSymbol(atom->GetAtomicNum()), atom->GetX(), atom->GetY(), atom->GetZ()});
  }
  out.molecule.comment = out.title;
  out.identifiers.formula = out.molecule.formula();
  return out;
}

std::string refusal(const std::string& format) {
  std::string said = logged(ob::obError);
  if (said.empty()) said = logged(ob::obWarning);
  const std::string what = format == "smiles" ? "not a valid SMILES" : "Open Babel could not read it as " + format;
  return said.empty() ? what : what + ": " + said;
}

}  // namespace

std::variant<ConvertedMolecule, std::string> convert_molecule(const MoleculeSource& source, std::size_t max_atoms) {
  std::lock_guard lock(open_babel_lock());
  quiet_log();
  ob::OBConversion conversion;
  if (!conversion.SetInFormat(open_babel_format(source.format))) return "unknown molecule format " + source.format;
  ob::OBMol mol;
  if (!conversion.ReadString(&mol, source.text) || mol.NumAtoms() == 0) return refusal(source.format);
  return finish(mol, source.format, max_atoms);
}

std::vector<std::variant<ConvertedMolecule, std::string>> convert_records(const MoleculeSource& source,
                                                                           std::size_t max_atoms,
                                                                           std::size_t max_records) {
  std::lock_guard lock(open_babel_lock());
  std::vector<std::variant<ConvertedMolecule, std::string>> records;
  ob::OBConversion conversion;
  if (!conversion.SetInFormat(open_babel_format(source.format))) return records;
  std::istringstream in(source.text);
  conversion.SetInStream(&in, false);
  while (records.size() < max_records && in.peek() != std::char_traits<char>::eof()) {
    quiet_log();
    ob::OBMol mol;
    if (!conversion.Read(&mol)) {
      // A record Open Babel cannot read ends the text for it unless something is left to try.
      if (in.peek() == std::char_traits<char>::eof() && logged(ob::obError).empty() && logged(ob::obWarning).empty()) break;
      records.emplace_back(refusal(source.format));
      if (!in) break;
      continue;
    }
    if (mol.NumAtoms() == 0) {
      records.emplace_back(refusal(source.format));
      continue;
    }
    records.push_back(finish(mol, source.format, max_atoms));
  }
  return records;
}

std::optional<MoleculeIdentifiers> identify_molecule(const Molecule& molecule) {
  std::lock_guard lock(open_babel_lock());
  quiet_log();
  ob::OBConversion conversion;
  conversion.SetInFormat("xyz");
  ob::OBMol mol;
  if (!conversion.ReadString(&mol, molecule.to_xyz()) || mol.NumAtoms() == 0) return std::nullopt;
  MoleculeIdentifiers ids;
  ids.inchi = write_as(mol, "inchi");
  if (ids.inchi.empty()) return std::nullopt;
  ids.inchikey = write_as(mol, "inchikey");
  ids.canonical_smiles = write_as(mol, "can");
  ids.formula = molecule.formula();
  return ids;
}

}  // namespace nox
