#pragma once
// From a submitted body to a created job, shared by POST /jobs, POST /jobs/batch (JSON) and the
// batches of molecule files: parse the spec (a QCSchema AtomicInput is translated first),
// convert and identify its molecule on the chemistry thread, check what the engine refuses,
// make the job, create it within its owner's bounds.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "core/field_error.hpp"
#include "core/job.hpp"
#include "core/job_spec.hpp"
#include "server/app.hpp"
#include "server/http_types.hpp"

namespace nox::routes {

SpecLimits spec_limits(const Settings& s);

// What the engine refuses although the spec is well-formed (e.g. gfn0 with this xtb build).
FieldErrors engine_problems(const App& app, const JobSpec& spec);

// Parses one spec, or appends its errors (fields prefixed by `prefix`).
std::optional<JobSpec> parse_spec(const App& app, const boost::json::value& body, const std::string& prefix,
                                  FieldErrors& errors);

// Work for the chemistry thread: a molecule given as SMILES, SDF, ... still to convert, or the
// identifiers of a molecule a real engine will compute (echo, for tests and benchmarks, skips them).
bool needs_chemistry(const JobSpec& spec);

// On the chemistry thread: converts a text-format molecule to atoms (its formal charges and
// radicals give charge and multiplicity unless the spec did; an SDF record's data items become
// labels and its title the name, unless given), and names the molecule.
FieldErrors complete_molecule(JobSpec& spec, std::size_t max_atoms);

// After parsing and the chemistry thread: what the engine refuses, then the job.
std::optional<Job> admit(const App& app, const HttpRequest& request, JobSpec& spec, FieldErrors problems,
                         const std::string& prefix, FieldErrors& errors);

// Its parents checked (server/dependencies.hpp), complete_molecule on the chemistry thread when
// needs_chemistry, then admit: one job's way from a parsed spec to a job (errors appended under
// `prefix`). A job that will wait on a parent comes back with waiting_on set to it.
boost::asio::awaitable<std::optional<Job>> admit_one(App& app, const HttpRequest& request, JobSpec& spec,
                                                     FieldErrors& errors, const std::string& prefix = "");

// The caller's cap on unfinished jobs: its key's max_queued, else the server's max_queued_per_owner.
CreateBounds create_bounds(const App& app, const Identity& identity);

// create(), where a job that already exists under an idempotent id is the earlier attempt's; a
// job with waiting_on is created waiting on that parent.
boost::asio::awaitable<Result<Job>> create_or_find(App& app, Job job, CreateBounds bounds, bool idempotent);

// A batch that would take its owner past max_queued is refused whole, before any job is made.
boost::asio::awaitable<std::optional<HttpResponse>> refuse_batch_over_quota(App& app, const Identity& identity,
                                                                            CreateBounds bounds, std::size_t jobs);

// A store outage midway leaves some jobs of a batch created: the answer says how many.
HttpResponse partial_batch_error(const StoreError& error, std::size_t created);

// What a submission answers per job: id, state, created_at, url.
boost::json::object accepted_json(const Job& job, boost::json::storage_ptr storage = {});

}  // namespace nox::routes
