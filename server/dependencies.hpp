#pragma once
// Jobs that wait for other jobs (workflows): `depends_on: [id, ...]`, and a molecule taken from
// another job, `molecule: {"from_job": id, "geometry": "optimized" | "input"}` (that job is then
// one of the parents).
//
// A job whose parents have not all completed is created `waiting` on the first unfinished one
// (CreateBounds::wait_on). When that parent ends, the job's wait ends or moves on:
//   - a parent failed, was cancelled or is gone: the job fails with `dependency_failed`;
//   - another parent is still to finish: the job waits on that one (a `progress` event);
//   - all completed: the molecule is filled in from its parent (atoms, identifiers), checked as
//     at submission, and the job is queued with that spec (event `queued`).
// The waits end through the same paths as the calculation cache's (server/calculation_cache.hpp:
// each instance follows the event log, and a sweep settles any wait whose end was missed).
// Parents are named by id, so a job can only depend on jobs that exist before it: no cycle can
// form (POST /workflows checks its graph of local names before it creates anything).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/field_error.hpp"
#include "core/identity.hpp"
#include "core/job.hpp"
#include "core/job_spec.hpp"

namespace nox {

struct App;

// At admission of a spec with depends_on: every parent must be a job the caller sees that has
// neither failed nor been cancelled; a molecule from_job must suit its parent (geometry
// "optimized" needs an optimization). The molecule is filled in now when its parent has
// completed; otherwise the spec is checked with the atoms it will get (those of the first
// ancestor that has them; charge and multiplicity come from there unless given). Returns the
// parent to wait on ("" when all have completed), or nullopt with errors appended under `prefix`.
boost::asio::awaitable<std::optional<std::string>> admit_dependencies(App& app, const Identity& identity, JobSpec& spec,
                                                                      const std::string& prefix, FieldErrors& errors);

// Whether a waiting job waits on its parents rather than on an identical calculation.
bool waits_on_parents(const Job& job);

// The parent `on` of the waiting `child` ended (or may have): ends or moves the child's wait as
// above. Returns the child as it is then, or nullopt when nothing changed (`on` has not ended,
// another instance settled it first, or the store could not be reached: a later try).
boost::asio::awaitable<std::optional<Job>> settle_dependency(App& app, const Job& child, const std::string& on);

}  // namespace nox
