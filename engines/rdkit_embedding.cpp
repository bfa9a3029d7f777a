#include "engines/rdkit_embedding.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string_view>
#include <variant>

#include "engines/output_text.hpp"
#include "engines/subprocess.hpp"

namespace nox {
namespace {

namespace fs = std::filesystem;

// Debian's python3-rdkit is importable by Debian's own interpreter (not by a python3 from
// elsewhere on PATH).
constexpr const char* kPython = "/usr/bin/python3";

// Both scripts start alike: argv[1] holds the SMILES; hydrogens added; ETKDG with a fixed seed
// (the same SMILES always gives the same structures).
constexpr std::string_view kReadSmiles = R"PY(
import sys
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, rdMolAlign
RDLogger.DisableLog("rdApp.*")
mol = Chem.MolFromSmiles(open(sys.argv[1]).read().strip())
if mol is None:
    sys.stderr.write("RDKit cannot read the SMILES\n")
    sys.exit(3)
mol = Chem.AddHs(mol)
params = AllChem.ETKDGv3()
params.randomSeed = 61453
)PY";

// argv: input file (one SMILES), output file (molfile). Exit 3: unreadable SMILES, 4: no embedding.
constexpr std::string_view kEmbedScript = R"PY(
if AllChem.EmbedMolecule(mol, params) != 0:
    params.useRandomCoords = True
    if AllChem.EmbedMolecule(mol, params) != 0:
        sys.stderr.write("ETKDG found no 3-D structure for it\n")
        sys.exit(4)
if AllChem.MMFFHasAllMoleculeParams(mol):
    AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
else:
    AllChem.UFFOptimizeMolecule(mol, maxIters=2000)
Chem.MolToMolFile(mol, sys.argv[2])
)PY";

// argv: input file (one SMILES), output file (multi-frame XYZ, each comment line starting with
// the conformer's force-field energy in kcal/mol and naming the field), count. Exit codes as above.
constexpr std::string_view kConformerScript = R"PY(
count = int(sys.argv[3])
params.pruneRmsThresh = 0.3
attempts = max(3 * count, count + 10)
ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=attempts, params=params))
if not ids:
    params.useRandomCoords = True
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=attempts, params=params))
if not ids:
    sys.stderr.write("ETKDG found no 3-D structure for it\n")
    sys.exit(4)
if AllChem.MMFFHasAllMoleculeParams(mol):
    field, minimized = "MMFF94", AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=2000)
else:
    field, minimized = "UFF", AllChem.UFFOptimizeMoleculeConfs(mol, maxIters=2000)
# minimized: (not_converged, energy) per conformer, in the molecule's conformer order.
energy = {conf.GetId(): e for conf, (_, e) in zip(mol.GetConformers(), minimized)}
# Distinct by heavy atoms, with the molecule's symmetry (a methyl turned is the same structure).
heavy = Chem.RemoveHs(mol)
kept = []
for cid in sorted(energy, key=energy.get):
    if len(kept) == count:
        break
    if all(rdMolAlign.GetBestRMS(heavy, heavy, k, cid) >= 0.3 for k in kept):
        kept.append(cid)
with open(sys.argv[2], "w") as out:
    for cid in kept:
        out.write("%d\n%.6f kcal/mol %s\n" % (mol.GetNumAtoms(), energy[cid], field))
        for atom, p in zip(mol.GetAtoms(), mol.GetConformer(cid).GetPositions()):
            out.write("%-2s %15.8f %15.8f %15.8f\n" % (atom.GetSymbol(), p[0], p[1], p[2]))
)PY";

struct HelperRun {
  ProcessOutcome outcome;
  std::string output;  // the output file's contents
};

// Runs `script` in a fresh directory with argv: in.smi (holding `input`), `output_name`, `extra`.
HelperRun run_helper(const std::string& script, const std::string& input, std::chrono::seconds timeout,
                     const std::string& output_name = "out.mol", const std::vector<std::string>& extra = {}) {
  HelperRun run;
  std::string dir = (fs::temp_directory_path() / "nox-rdkit-XXXXXX").string();
  if (!::mkdtemp(dir.data())) {
    run.outcome.spawn_failed = true;
    run.outcome.stderr_tail = "cannot create a temporary directory";
    return run;
  }
  std::ofstream(fs::path(dir) / "in.smi") << input << "\n";
  ProcessSpec spec;
  spec.argv = {kPython, "-c", script, "in.smi", output_name};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.env = {{"HOME", dir}, {"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"OMP_NUM_THREADS", "1"}};
  spec.working_dir = dir;
  spec.timeout = timeout;
  ProcessControl control;
  run.outcome = run_process(spec, control, nullptr);
  run.output = output_text::read_text(fs::path(dir) / output_name).value_or("");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return run;
}

// Why a helper run gave nothing: the script's own last line when it said something.
std::string problem_of(const HelperRun& run, const std::string& timed_out) {
  if (run.outcome.timed_out) return timed_out;
  const std::string said(output_text::trim(output_text::last_lines(run.outcome.stderr_tail, 1)));
  return said.empty() ? "the RDKit helper ended with exit code " + std::to_string(run.outcome.exit_code)
                      : said;
}

// The frames of the conformer script's multi-frame XYZ into `set`; what is wrong with them
// otherwise. RDKit can "embed" disconnected ions all at the origin without complaint
// ("[Fe+2].[Cl-].[Cl-]"): parse_xyz's overlap check turns that into a reason.
std::optional<std::string> read_frames(std::string_view text, ConformerSet& set) {
  const std::vector<std::string_view> lines = output_text::lines_of(text);
  std::size_t at = 0;
  while (at < lines.size()) {
    if (output_text::trim(lines[at]).empty()) {
      ++at;
      continue;
    }
    const std::optional<int> atoms = output_text::to_int(output_text::trim(lines[at]));
    if (!atoms || *atoms < 1 || lines.size() - at < static_cast<std::size_t>(*atoms) + 2) {
      return "the RDKit helper wrote a truncated conformer file";
    }
    std::string frame;
    for (std::size_t i = at; i < at + *atoms + 2; ++i) (frame += lines[i]) += '\n';
    const auto comment = output_text::tokens_of(lines[at + 1]);
    const std::optional<double> energy =
        comment.size() < 3 ? std::nullopt : output_text::to_double(comment[0]);
    if (!energy) return "the RDKit helper wrote a conformer without its energy";
    auto parsed = parse_xyz(frame);
    if (auto* error = std::get_if<XyzError>(&parsed))
      return "RDKit's conformer is unusable: " + error->message;
    set.force_field = std::string(comment[2]);
    set.force_field_energies_kcal.push_back(energy.value());
    set.conformers.push_back(std::get<Molecule>(std::move(parsed)));
    at += *atoms + 2;
  }
  if (set.conformers.empty()) return "the RDKit helper wrote no conformers";
  return std::nullopt;
}

}  // namespace

bool rdkit_available() {
  static const bool available = [] {
    const HelperRun run = run_helper("import rdkit.Chem.AllChem", "", std::chrono::seconds(30));
    return !run.outcome.spawn_failed && !run.outcome.timed_out && run.outcome.exit_code == 0;
  }();
  return available;
}

Embedding embed_with_rdkit(const std::string& smiles) {
  Embedding out;
  const HelperRun run = run_helper(std::string(kReadSmiles) + std::string(kEmbedScript), smiles, std::chrono::seconds(60));
  if (run.outcome.exit_code == 0 && !run.output.empty()) {
    out.ok = true;
    out.molfile = run.output;
    return out;
  }
  out.problem = problem_of(run, "RDKit's ETKDG found no 3-D structure within 60 s");
  return out;
}

ConformerSet generate_conformers_with_rdkit(const std::string& smiles, int count,
                                            std::chrono::seconds timeout) {
  ConformerSet out;
  if (count < 1) {
    out.problem = "the number of conformers must be at least 1";
    return out;
  }
  const HelperRun run = run_helper(std::string(kReadSmiles) + std::string(kConformerScript), smiles, timeout, "out.xyz", {std::to_string(count)});
  if (run.outcome.exit_code != 0 || run.output.empty()) {
    out.problem =
        problem_of(run, "RDKit found no conformers within " + std::to_string(timeout.count()) + " s");
    return out;
  }
  if (auto problem = read_frames(run.output, out)) {
    out = ConformerSet{};
    out.problem = std::move(*problem);
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace nox
