// Open Babel 3.1 behind molecule_conversion.hpp. Observed with Debian's 3.1.1 (and checked by
// tests/unit/test_molecule_conversion.cpp): the SMILES reader accepts an unclosed branch silently
// (core/smiles_syntax catches it first), turns a ring it cannot kekulize or a five-bonded carbon
// into a radical instead of refusing it, and reports problems only through its global error log.
#include "engines/molecule_conversion.hpp"
#include "engines/rdkit_embedding.hpp"

#include <openbabel/elements.h>
#include <openbabel/generic.h>
#include <openbabel/atom.h>
#include <openbabel/mol.h>
#include <openbabel/obiter.h>
#include <openbabel/obconversion.h>
#include <openbabel/oberror.h>
#include <openbabel/op.h>
#include <openbabel/stereo/stereo.h>

#include <algorithm>
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

// An InChI without its stereo layers (/t /m /s /b): the constitution and hydrogens only.
std::string without_stereo(const std::string& inchi) {
  std::string out;
  std::size_t at = 0;
  while (at < inchi.size()) {
    std::size_t next = inchi.find('/', at + 1);
    if (next == std::string::npos) next = inchi.size();
    const std::string layer = inchi.substr(at, next - at);
    if (!(layer.starts_with("/t") || layer.starts_with("/m") || layer.starts_with("/s") || layer.starts_with("/b"))) {
      out += layer;
    }
    at = next;
  }
  return out;
}

// Did building keep the molecule? Its stereo is read back from the new coordinates alone and
// the InChI compared with the record's; where the record left stereo open, any is fine.
bool same_molecule_in_3d(const ob::OBMol& built, const std::string& wanted_inchi) {
  ob::OBMol copy(built);
  ob::StereoFrom3D(&copy, true);
  const std::string got = write_as(copy, "inchi");
  if (wanted_inchi.find("/t") != std::string::npos || wanted_inchi.find("/b") != std::string::npos) {
    return got == wanted_inchi;
  }
  return without_stereo(got) == wanted_inchi;
}

// A 3-D structure for `mol` (read from `smiles`, or flat), checked against the record's InChI,
// stereo included. RDKit's ETKDG first (rdkit_embedding.hpp says why); without python3-rdkit,
// Open Babel's gen3D, whose default ("med") gives up on neighbouring stereocentres and whose
// faster modes place them wrongly: then the molecule is refused rather than silently inverted.
std::optional<std::string> build_3d(ob::OBMol& mol, const std::string& smiles, const std::string& wanted_inchi) {
  std::string problem;
  if (rdkit_available()) {
    const Embedding embedded = embed_with_rdkit(smiles);
    ob::OBConversion reader;
    reader.SetInFormat("mol");
    ob::OBMol built;
    if (!embedded.ok) {
      problem = embedded.problem;
    } else if (reader.ReadString(&built, embedded.molfile) && same_molecule_in_3d(built, wanted_inchi)) {
      built.SetTitle(mol.GetTitle());
      mol = built;
      return std::nullopt;
    } else {
      problem = "RDKit's structure changed the molecule";
    }
  }
  ob::OBOp* gen3d = ob::OBOp::FindType("gen3D");
  if (gen3d) {
    for (const char* speed : {"med", "fast"}) {
      ob::OBMol attempt(mol);
      if (gen3d->Do(&attempt, speed) && !flat(attempt) && same_molecule_in_3d(attempt, wanted_inchi)) {
        mol = attempt;
        return std::nullopt;
      }
    }
  }
  return "no 3-D structure that keeps this molecule's stereo could be built" +
         (problem.empty() ? std::string(" (Open Babel's builder; install python3-rdkit for RDKit's)") : " (" + problem + ")");
}

// The rest of a conversion, once Open Babel has read a record into `mol`.
std::string smiles_of(const std::string& text) {
  const std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return {};
  return text.substr(start, text.find_first_of(" \t\r\n", start) - start);
}

// `source_text`: for SMILES, the record's own line (the builder is given it as written).
std::variant<ConvertedMolecule, std::string> finish(ob::OBMol& mol, const std::string& format, const std::string& source_text,
                                                    std::size_t max_atoms) {
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

  {
    // Radicals are known once the hydrogens are (Open Babel assigns the atoms' spins with them).
    ob::OBMol with_hydrogens(mol);
    with_hydrogens.AddHydrogens();
    out.multiplicity = static_cast<int>(with_hydrogens.GetTotalSpinMultiplicity());
  }
  if (format == "smiles" || flat(mol)) {
    // The SMILES as given (without its title), or the flat record's own, stereo included.
    const std::string smiles = format == "smiles" ? smiles_of(source_text) : out.identifiers.canonical_smiles;
    if (auto problem = build_3d(mol, smiles, out.identifiers.inchi)) return *problem;
  } else if (!has_hydrogens(mol)) {
    mol.AddHydrogens(false, true);
  }
  if (mol.NumAtoms() > max_atoms) {
    return "with hydrogens, " + std::to_string(mol.NumAtoms()) + " atoms is more than the limit of " +
           std::to_string(max_atoms);
  }
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

// SDF data items and titles are line-based: a line break in a name or title, or a blank line in
// a value, would end the field early and shift the rest of the record.
std::string one_line(const std::string& text, std::size_t max_length) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  return out.substr(0, max_length);
}

std::string data_value(const std::string& value) {
  std::string out;
  std::istringstream lines(value);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out += line + "\n";
  }
  return out;
}

}  // namespace

std::variant<ConvertedMolecule, std::string> convert_molecule(const MoleculeSource& source, std::size_t max_atoms) {
  std::lock_guard lock(open_babel_lock());
  quiet_log();
  ob::OBConversion conversion;
  if (!conversion.SetInFormat(open_babel_format(source.format))) return "unknown molecule format " + source.format;
  ob::OBMol mol;
  if (!conversion.ReadString(&mol, source.text) || mol.NumAtoms() == 0) return refusal(source.format);
  return finish(mol, source.format, source.text, max_atoms);
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

std::optional<std::string> molfile_of(const Molecule& molecule, const std::string& title,
                                      const std::vector<std::pair<std::string, std::string>>& properties) {
  std::string block;
  {
    std::lock_guard lock(open_babel_lock());
    quiet_log();
    ob::OBConversion conversion;
    conversion.SetInFormat("xyz");  // the XYZ reader connects the atoms and perceives bond orders
    conversion.SetOutFormat("mol");
    ob::OBMol mol;
    if (!conversion.ReadString(&mol, molecule.to_xyz()) || mol.NumAtoms() == 0) return std::nullopt;
    std::string name = one_line(title, 80);  // V2000 lines are at most 80 characters
    mol.SetTitle(name);
    block = conversion.WriteString(&mol);
  }
  // Line 2 is Open Babel's name and the time of writing: the same molecule would never give the
  // same bytes. Keep the fields' columns (initials, program, date, dimension) without the time.
  const std::size_t first = block.find('\n');
  const std::size_t second = first == std::string::npos ? first : block.find('\n', first + 1);
  if (second == std::string::npos || !block.ends_with("M  END\n")) return std::nullopt;
  block.replace(first + 1, second - first - 1, std::string("  ") + "Nox     " + std::string(10, ' ') + "3D");
  for (const auto& [name, value] : properties) {
    std::string clean = one_line(name, 200);
    std::replace(clean.begin(), clean.end(), '<', '(');
    std::replace(clean.begin(), clean.end(), '>', ')');
    block += ">  <" + clean + ">\n" + data_value(value) + "\n";
  }
  return block + "$$$$\n";
}

}  // namespace nox
