#pragma once
// The calculation hash: one SHA-256 over everything that determines a job's result, so that
// an identical calculation is recognised (the calculation cache, server/calculation_cache.hpp).
// In it: engine and its version, task, method, keywords, charge, multiplicity, solvent, outputs
// and the geometry (atom order kept, coordinates rounded to 1e-5 Angstrom). Not in it: what
// does not change the numbers (name, tags, labels, priority, time limit, attempts, threads).
#include <string>
#include <string_view>

#include "core/job_spec.hpp"

namespace nox {

// The canonical text the hash is taken over (one "key=value" line per input), for tests and
// for a person asking why two jobs did or did not match.
std::string calculation_text(const JobSpec& spec, std::string_view engine_version);
// 64 lowercase hex digits: sha256(calculation_text).
std::string calculation_hash(const JobSpec& spec, std::string_view engine_version);
// The key the stores index a calculation under (CreateBounds::calculation_key): the hash alone
// when the cache is shared by the whole lab, "<hash>/<owner>" when each owner has its own.
std::string calculation_key(std::string_view hash, std::string_view owner_scope);

}  // namespace nox
