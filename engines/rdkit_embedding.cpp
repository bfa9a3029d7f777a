#include "engines/rdkit_embedding.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "engines/output_text.hpp"
#include "engines/subprocess.hpp"

namespace nox {
namespace {

namespace fs = std::filesystem;

// Debian's python3-rdkit is importable by Debian's own interpreter (not by a python3 from
// elsewhere on PATH).
constexpr const char* kPython = "/usr/bin/python3";

// argv: input file (one SMILES), output file (molfile). Exit 3: unreadable SMILES, 4: no embedding.
constexpr const char* kEmbedScript = R"PY(
import sys
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem
RDLogger.DisableLog("rdApp.*")
mol = Chem.MolFromSmiles(open(sys.argv[1]).read().strip())
if mol is None:
    sys.stderr.write("RDKit cannot read the SMILES\n")
    sys.exit(3)
mol = Chem.AddHs(mol)
params = AllChem.ETKDGv3()
params.randomSeed = 61453
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

struct HelperRun {
  ProcessOutcome outcome;
  std::string output;  // the output file's contents
};

HelperRun run_helper(const std::string& script, const std::string& input, std::chrono::seconds timeout) {
  HelperRun run;
  std::string dir = (fs::temp_directory_path() / "nox-rdkit-XXXXXX").string();
  if (!::mkdtemp(dir.data())) {
    run.outcome.spawn_failed = true;
    run.outcome.stderr_tail = "cannot create a temporary directory";
    return run;
  }
  std::ofstream(fs::path(dir) / "in.smi") << input << "\n";
  ProcessSpec spec;
  spec.argv = {kPython, "-c", script, "in.smi", "out.mol"};
  spec.env = {{"HOME", dir}, {"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"OMP_NUM_THREADS", "1"}};
  spec.working_dir = dir;
  spec.timeout = timeout;
  ProcessControl control;
  run.outcome = run_process(spec, control, nullptr);
  run.output = output_text::read_text(fs::path(dir) / "out.mol").value_or("");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return run;
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
  const HelperRun run = run_helper(kEmbedScript, smiles, std::chrono::seconds(60));
  if (run.outcome.exit_code == 0 && !run.output.empty()) {
    out.ok = true;
    out.molfile = run.output;
    return out;
  }
  if (run.outcome.timed_out) {
    out.problem = "RDKit's ETKDG found no 3-D structure within 60 s";
  } else {
    const std::string said(output_text::trim(output_text::last_lines(run.outcome.stderr_tail, 1)));
    out.problem = said.empty() ? "the RDKit helper ended with exit code " + std::to_string(run.outcome.exit_code) : said;
  }
  return out;
}

}  // namespace nox
