#pragma once
// What a client asks to compute: parsed and validated from the submitted JSON.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/field_error.hpp"
#include "core/molecule.hpp"

namespace nox {

struct Solvent {
  std::string model;      // "alpb" | "gbsa" (xtb), "cosmo" (mopac)
  std::string name;       // e.g. "water"; may be empty for cosmo given only a dielectric constant
  double dielectric = 0;  // cosmo: the relative permittivity used; 0 for the named-solvent models
};

// A molecule given in a format that needs Open Babel (smiles, sdf, mol, mol2, pdb): parse_job_spec
// checks its form, the server converts it to atoms before the job is created.
struct MoleculeSource {
  std::string format;  // "smiles" | "sdf" | "mol" | "mol2" | "pdb"
  std::string text;
};

// Who the molecule is, computed by the server (Open Babel) when the job is admitted.
struct MoleculeIdentifiers {
  std::string canonical_smiles;
  std::string inchi;
  std::string inchikey;
  std::string formula;  // Hill order
};

// A molecule taken from another job once it has completed (workflows): the geometry it
// optimized (result optimized_xyz) or the one it ran from (its spec's molecule).
struct MoleculeFromJob {
  std::string job;  // the parent's id
  std::string geometry = "optimized";  // "optimized" | "input"
};

struct JobSpec {
  std::string engine;  // "xtb" | "mopac" | "echo" (core/engine_vocabulary lists what each takes)
  std::string task;    // energy | gradient | optimize | hessian | optimize_hessian
  std::string method;  // xtb: gfn2 | gfn1 | gfn0 | gfnff; mopac: pm7 | pm6 | pm6-d3h4 | am1 | rm1
  Molecule molecule;
  std::optional<MoleculeSource> molecule_source;         // set until the server has converted it
  // Set: the molecule comes from that job; atoms stay empty until it has completed (then the
  // server fills them in, and from_job stays to say where they came from).
  std::optional<MoleculeFromJob> molecule_from_job;
  std::optional<MoleculeIdentifiers> identifiers;        // set by the server, stored with the xyz
  int charge = 0;
  int multiplicity = 1;
  bool charge_given = false;        // false: a converted molecule's formal charges decide
  bool multiplicity_given = false;  // false: a converted molecule's radicals decide
  std::optional<Solvent> solvent;
  boost::json::object keywords;      // only known keys, values normalised (see job_spec.cpp)
  std::vector<std::string> outputs;  // extra files to produce: "molden", "density_cube"; no repeats
  int priority = 0;
  double timeout_s = 3600;
  int max_attempts = 1;
  int max_lost = 3;  // times the job may be taken over after its instance died
  // Overrides of the server's retry policy (core/retry_policy.hpp): backoff_s, max_backoff_s,
  // rules; empty: the server's.
  boost::json::object retry;
  // CPU cores the engine may use (OpenMP threads); the pool counts them against its slots.
  int threads = 1;
  // Not before this time (state scheduled until then). delay_s is what a client may send
  // instead; the server turns it into run_at at submission and stores only run_at.
  std::optional<TimeMs> run_at;
  std::optional<double> delay_s;
  std::vector<std::string> tags;
  // Routing (README "Compute tags and queues"): the compute tags an instance must offer
  // (--tags) to claim the job, and the named queue it waits in ("" = "default").
  std::vector<std::string> requires_tags;
  std::string queue;
  std::string name;
  // Free key/value pairs (an SDF record's data items arrive here); at most 64, keys up to 64
  // characters, values up to 1024.
  std::vector<std::pair<std::string, std::string>> labels;
  // Jobs that must complete before this one runs (the job waits meanwhile); molecule_from_job's
  // job is always among them. A failed or cancelled one fails this job (dependency_failed).
  std::vector<std::string> depends_on;
  std::string batch_id;  // set by the server for the jobs of one POST /jobs/batch
  std::string workflow_id;    // set by the server for the jobs of one POST /workflows
  std::string workflow_node;  // ... with the job's name in that workflow
  std::string continued_from;  // set by POST /jobs/{id}/continue: the job this one goes on from
  std::string schedule_id;     // set by the server for the jobs a recurring schedule fires
  // Only the server groups jobs into batches, workflows and schedules, and links continued
  // jobs: a client's values for those fields are dropped.
  void clear_server_links() {
    batch_id.clear();
    workflow_id.clear();
    workflow_node.clear();
    continued_from.clear();
    schedule_id.clear();
  }
  // false: compute it even when an identical calculation completed or is under way.
  bool cache = true;
  // Set by the server: the calculation hash (core/calculation_hash.hpp); "" for engines not cached.
  std::string calculation;

  // The spec in its stored, normalised JSON form (what GET /jobs/{id} shows as "spec").
  boost::json::object to_json() const;
  // timeout_s as the runner enforces it: rounded up to whole milliseconds, never 0 ("none").
  std::chrono::milliseconds timeout() const;
};

struct SpecLimits {
  std::size_t max_atoms = 10000;
  double max_timeout_s = 7 * 24 * 3600.0;
  int max_attempts = 10;
  int max_lost = 100;
  int max_threads = 256;
};

// Validates a submitted spec. On failure, one FieldError per bad field: known fields first, in
// the order of JobSpec's members, then unknown fields in the order they were sent. Enumerated
// string values (engine, task, method, solvent, opt_level) are matched case-insensitively and
// stored lower case. A null optional field counts as absent. Methods, solvents, keywords and
// outputs are checked against the engine's vocabulary (core/engine_vocabulary.hpp); echo takes
// xtb's, so a spec valid for "echo" is valid for "xtb" too.
std::variant<JobSpec, FieldErrors> parse_job_spec(const boost::json::value& body,
                                                  const SpecLimits& limits = {});

// A spec as the store holds it (written by parse_job_spec's to_json): read back without the
// server's limits, which may have changed since it was admitted.
std::variant<JobSpec, FieldErrors> parse_stored_spec(const boost::json::value& stored);

// The electron count against charge and multiplicity (positive, enough for the unpaired ones,
// right parity): what parse_job_spec checks for atoms it was given, for a converted molecule.
FieldErrors check_electrons(const JobSpec& spec);

// Routing: a compute tag (spec `requires`, an instance's --tags) and a queue's name.
inline constexpr std::string_view kDefaultQueue = "default";
bool is_compute_tag(std::string_view tag);
bool is_queue_name(std::string_view name);

}  // namespace nox
