#include "server/routes/job_admission.hpp"

#include "server/dependencies.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/job_id.hpp"
#include "core/qcschema.hpp"
#include "engines/molecule_conversion.hpp"
#include "server/api_error.hpp"
#include "server/calculation_cache.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

SpecLimits spec_limits(const Settings& s) {
  SpecLimits limits;
  limits.max_atoms = s.max_atoms;
  limits.max_timeout_s = s.max_timeout_s;
  return limits;
}

// With the memory store only this instance can run the job, so a missing engine is refused
// too; with Redis another instance may have it.
FieldErrors engine_problems(const App& app, const JobSpec& spec) {
  // Alone (memory store), this instance's slots are every core a job can get.
  if (app.store.kind() == "memory" && static_cast<std::size_t>(spec.threads) > app.dispatcher.slots())
    return {FieldError{"threads", "this server runs jobs on " + std::to_string(app.dispatcher.slots()) +
                                      " slots (cores); a job may ask for at most that many threads"}};
  if (const Engine* engine = app.engines.find(spec.engine)) return engine->validate(spec);
  if (app.store.kind() != "memory") return {};
  for (const auto& status : app.engines.statuses())
    if (status.name == spec.engine) return {FieldError{"engine", status.problem}};
  return {FieldError{"engine", "engine " + spec.engine + " is not available on this server"}};
}

Job new_job(const JobSpec& spec, const std::string& owner) {
  Job job;
  job.owner = owner;
  job.id = new_job_id();
  job.state = JobState::pending;
  job.spec = spec.to_json();
  job.created_at = now_ms();
  job.max_attempts = spec.max_attempts;
  job.max_lost = spec.max_lost;
  job.priority = spec.priority;
  return job;
}

// Parses one spec, or appends its errors (fields prefixed by `prefix`).
std::optional<JobSpec> parse_spec(const App& app, const json::value& body, const std::string& prefix,
                                  FieldErrors& errors) {
  // A QCSchema AtomicInput is translated into a Nox spec first (core/qcschema.hpp).
  if (is_qcschema_input(body)) {
    auto translated = qcschema_input_to_spec(body.get_object());
    if (auto* bad = std::get_if<FieldErrors>(&translated)) {
      for (auto& e : *bad) errors.push_back({prefix + e.field, e.message});
      return std::nullopt;
    }
    return parse_spec(app, json::value(std::move(std::get<json::object>(translated))), prefix, errors);
  }
  auto parsed = parse_job_spec(body, spec_limits(app.settings));
  if (auto* bad = std::get_if<FieldErrors>(&parsed)) {
    for (auto& e : *bad) errors.push_back({prefix + e.field, e.message});
    return std::nullopt;
  }
  return std::move(std::get<JobSpec>(parsed));
}

// Work for the chemistry thread: a molecule given as SMILES, SDF, ... still to convert, or the
// identifiers of a molecule a real engine will compute (echo, for tests and benchmarks, skips them).
bool needs_chemistry(const JobSpec& spec) {
  // A molecule from another job gets that job's identifiers with its atoms (server/dependencies.hpp).
  if (spec.molecule_from_job) return false;
  return (spec.molecule_source && spec.molecule.atoms.empty()) || spec.engine != "echo";
}

// On the chemistry thread: converts a text-format molecule to atoms (its formal charges and
// radicals give charge and multiplicity unless the spec did), and names the molecule.
FieldErrors complete_molecule(JobSpec& spec, std::size_t max_atoms) {
  if (spec.molecule_source && spec.molecule.atoms.empty()) {
    auto converted = convert_molecule(*spec.molecule_source, max_atoms);
    if (auto* why = std::get_if<std::string>(&converted)) return {{"molecule." + spec.molecule_source->format, *why}};
    ConvertedMolecule& molecule = std::get<ConvertedMolecule>(converted);
    spec.molecule = std::move(molecule.molecule);
    if (!spec.charge_given) spec.charge = molecule.formal_charge;
    if (!spec.multiplicity_given) spec.multiplicity = molecule.multiplicity;
    spec.identifiers = std::move(molecule.identifiers);
    for (auto& [key, value] : molecule.properties) {
      const bool given = std::any_of(spec.labels.begin(), spec.labels.end(), [&](const auto& l) { return l.first == key; });
      if (!given && spec.labels.size() < 64 && !key.empty() && key.size() <= 64 && value.size() <= 1024) {
        spec.labels.emplace_back(std::move(key), std::move(value));
      }
    }
    if (spec.name.empty()) {
      // At most 200 characters, cut between two (UTF-8 continuation bytes are 10xxxxxx).
      std::size_t end = 0;
      for (std::size_t chars = 0; end < molecule.title.size() && chars < 200; ++chars) {
        do ++end; while (end < molecule.title.size() && (static_cast<unsigned char>(molecule.title[end]) & 0xC0) == 0x80);
      }
      spec.name = molecule.title.substr(0, end);
    }
    return check_electrons(spec);
  }
  // Identifiers sent by a client are not trusted: the server's own, or none.
  spec.identifiers = spec.engine == "echo" ? std::nullopt : identify_molecule(spec.molecule);
  return {};
}

// After parsing and the chemistry thread: what the engine refuses, then the job.
std::optional<Job> admit(const App& app, const HttpRequest& request, JobSpec& spec, FieldErrors problems,
                         const std::string& prefix, FieldErrors& errors) {
  // A molecule still to come from its parent was checked with the atoms it will get (admit_dependencies).
  const bool molecule_to_come = spec.molecule_from_job && spec.molecule.atoms.empty();
  if (problems.empty() && !molecule_to_come) problems = engine_problems(app, spec);
  for (auto& e : problems) errors.push_back({prefix + e.field, e.message});
  if (!problems.empty()) return std::nullopt;
  // delay_s is kept as the time it ends: a job's due time does not move if it is read again.
  if (spec.delay_s) {
    spec.run_at = now_ms() + static_cast<TimeMs>(std::llround(*spec.delay_s * 1000.0));
    spec.delay_s.reset();
  }
  stamp_calculation(app, spec);
  return new_job(spec, request.identity.name);
}

asio::awaitable<std::optional<Job>> admit_one(App& app, const HttpRequest& request, JobSpec& spec, FieldErrors& errors,
                                               const std::string& prefix) {
  std::string wait_on;
  if (!spec.depends_on.empty()) {
    auto parent = co_await admit_dependencies(app, request.identity, spec, prefix, errors);
    if (!parent) co_return std::nullopt;
    wait_on = std::move(*parent);
  }
  FieldErrors problems;
  if (needs_chemistry(spec)) {
    const std::size_t max_atoms = app.settings.max_atoms;
    problems = co_await app.chemistry.run([&spec, max_atoms] { return complete_molecule(spec, max_atoms); });
  }
  auto job = admit(app, request, spec, std::move(problems), prefix, errors);
  if (job) job->waiting_on = std::move(wait_on);
  co_return job;
}

// The caller's cap on unfinished jobs: its key's max_queued, else the server's max_queued_per_owner.
CreateBounds create_bounds(const App& app, const Identity& identity) {
  CreateBounds bounds;
  bounds.max_unfinished_of_owner =
      identity.limits.max_queued > 0 ? identity.limits.max_queued : app.settings.max_queued_per_owner;
  bounds.max_unfinished_total = app.settings.max_queued;
  return bounds;
}

// create(), where a job that already exists under an idempotent id is the earlier attempt's,
// and an identical calculation is shared (server/calculation_cache.hpp).
asio::awaitable<Result<Job>> create_or_find(App& app, Job job, CreateBounds bounds, bool idempotent) {
  std::string id = job.id;
  bounds = with_calculation_key(app, std::move(bounds), job);
  bounds.wait_on = std::exchange(job.waiting_on, {});
  auto created = co_await app.store.create(std::move(job), bounds);
  if (created && !bounds.wait_on.empty()) {
    // The parent may have ended between its check and the create: the wait ends now then.
    std::optional<Job> settled = co_await settle_dependency(app, *created, bounds.wait_on);
    if (settled) co_return std::move(*settled);
    co_return created;
  }
  if (created) co_return co_await settle_new_job(app, std::move(*created));
  if (!idempotent || created.error().code != StoreErrc::conflict) co_return created;
  co_return co_await app.store.get(std::move(id));
}

// A batch that would take its owner past max_queued is refused whole, before any job is made
// (create() still checks each job: another request may take the room meanwhile).
asio::awaitable<std::optional<HttpResponse>> refuse_batch_over_quota(App& app, const Identity& identity,
                                                                     CreateBounds bounds, std::size_t jobs) {
  if (bounds.max_unfinished_total > 0) {
    // The server's bound, all owners together (create() checks it again job by job: another
    // request may take the room meanwhile).
    auto stats = co_await app.store.stats();
    if (!stats) co_return store_error_response(stats.error());
    const std::uint64_t unfinished = stats->pending + stats->running + stats->scheduled + stats->waiting;
    if (unfinished + jobs > bounds.max_unfinished_total)
      co_return store_error_response(StoreError{
          StoreErrc::busy,
          "the server holds " + std::to_string(unfinished) + " unfinished jobs and takes at most " +
              std::to_string(bounds.max_unfinished_total) + " (max_queued): these " + std::to_string(jobs) +
              " do not fit; submit them once some finish",
          {}});
  }
  if (bounds.max_unfinished_of_owner == 0 || identity.name.empty()) co_return std::nullopt;
  auto held = co_await app.store.unfinished_of_owner(identity.name);
  if (!held) co_return store_error_response(held.error());
  if (*held + jobs <= bounds.max_unfinished_of_owner) co_return std::nullopt;
  co_return store_error_response(StoreError{
      StoreErrc::quota,
      identity.name + " has " + std::to_string(*held) + " unfinished (pending or running) jobs and may have " +
          std::to_string(bounds.max_unfinished_of_owner) + " (max_queued): this batch of " + std::to_string(jobs) +
          " does not fit; submit it once some finish",
      {}});
}

// A store outage midway leaves some jobs of a batch created: the answer says how many.
HttpResponse partial_batch_error(const StoreError& error, std::size_t created) {
  auto response = store_error_response(error);
  if (created > 0) response.headers.emplace_back("X-Nox-Created", std::to_string(created));
  return response;
}

json::object accepted_json(const Job& job, json::storage_ptr storage) {
  return json::object({{"job_id", job.id},
                       {"state", to_string(job.state)},
                       {"created_at", to_rfc3339(job.created_at)},
                       {"url", "/jobs/" + job.id}},
                      std::move(storage));
}

}  // namespace nox::routes
