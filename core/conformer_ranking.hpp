#pragma once
// Conformer screening's pure half: how alike two structures are (RMSD after the best proper
// superposition), and an ensemble of optimized conformers ranked by energy, duplicates and
// high-energy ones set aside, Boltzmann-weighted. No I/O: the workflow feeds it xtb's results.
#include <string>
#include <vector>

#include "core/field_error.hpp"
#include "core/molecule.hpp"

namespace nox {

// RMSD in Angstrom of `b` onto `a` after removing both centroids and the best proper rotation
// (Horn's quaternion method): a mirror image is not superposable, since enantiomeric conformers
// are distinct. Atoms are matched by position in the list. `heavy_atoms_only`: fit and measure
// on the non-hydrogen atoms (all atoms when there are none). Throws std::invalid_argument when
// the atom counts or the elements in order differ.
double kabsch_rmsd(const Molecule& a, const Molecule& b, bool heavy_atoms_only);

// CREST's CREGEN defaults (crest --ewin 6.0 kcal/mol, --rthr 0.125 A, --ethr 0.05 kcal/mol,
// --temp 298.15 K; xtb-docs "CREST command line arguments"). CREST also compares rotational
// constants; here the RMSD is on heavy atoms and the energy decides between rotamers instead.
struct RankingOptions {
  double energy_window_kcal = 6.0;      // keep conformers at most this far above the lowest
  double rmsd_threshold_a = 0.125;      // heavy-atom RMSD below which two may be the same
  double energy_threshold_kcal = 0.05;  // ... and energy difference below which they are
  double temperature_k = 298.15;        // for the Boltzmann weights
};

// Positive temperature, finite non-negative window and thresholds. Fields are the member names
// ("temperature_k"): the caller prefixes where the options sit in its request.
FieldErrors check(const RankingOptions& options);

// One optimized conformer as the ranking gets it.
struct ConformerCandidate {
  std::string label;  // names it in the answer, e.g. the job id or "conformer-3"
  Molecule molecule;
  double energy_eh = 0;  // total energy, Hartree
};

struct RankedConformer {
  std::string label;
  double energy_eh = 0;
  double relative_kcal = 0;  // above the lowest survivor, kcal/mol
  double weight = 0;         // Boltzmann population at temperature_k; the survivors' sum to 1
  int rank = 0;              // 1 = lowest energy
  Molecule molecule;
};

struct DroppedConformer {
  std::string label;
  std::string reason;        // "duplicate" or "above_window"
  std::string duplicate_of;  // duplicate: the kept conformer it repeats
  double rmsd_a = 0;         // duplicate: heavy-atom RMSD to that one
  double relative_kcal = 0;  // above the lowest candidate, kcal/mol
};

struct ConformerRanking {
  std::vector<RankedConformer> conformers;  // by rank
  std::vector<DroppedConformer> dropped;    // in energy order
};

// Sorts by energy (ties keep input order); drops what lies above the window over the lowest,
// then what repeats a lower kept conformer (heavy-atom RMSD < rmsd_threshold_a AND |dE| <
// energy_threshold_kcal, so OH rotamers on the same heavy-atom frame but with different
// energies stay); weights and ranks the rest. Options are assumed check()ed. Throws
// std::invalid_argument when the candidates are not the same molecule (kabsch_rmsd).
ConformerRanking rank_conformers(std::vector<ConformerCandidate> candidates, const RankingOptions& options);

// Unit conversions used above (CODATA 2018 Hartree energy; R in kcal/(mol K)).
inline constexpr double kKcalPerHartree = 627.5094740631;
inline constexpr double kGasConstantKcal = 1.987204259e-3;

}  // namespace nox
