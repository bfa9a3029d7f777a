#include "server/dependencies.hpp"

#include <boost/json.hpp>
#include <limits>
#include <vector>

#include "core/job_state.hpp"
#include "core/json_text.hpp"
#include "core/molecule.hpp"
#include "server/app.hpp"
#include "server/routes/job_admission.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Ancestors followed to find the atoms of a molecule whose parent has none yet (a chain of
// jobs each taking its molecule from the one before).
constexpr int max_chain = 32;

bool optimizes(std::string_view task) { return task == "optimize" || task == "optimize_hessian"; }

std::string joined(const FieldErrors& problems) {
  std::string text;
  for (const FieldError& p : problems) text += (text.empty() ? "" : "; ") + p.field + ": " + p.message;
  return text;
}

// Fills the molecule of `spec` from its completed parent: the geometry asked for, the parent's
// identifiers (the atoms are the same), checked as a submission is. "" or what is wrong.
std::string fill_molecule(const App& app, JobSpec& spec, const Job& parent) {
  const MoleculeFromJob& from = *spec.molecule_from_job;
  auto parent_spec = parse_stored_spec(json::value(parent.spec));
  if (std::holds_alternative<FieldErrors>(parent_spec)) return "the stored spec of job " + parent.id + " is unreadable";
  JobSpec& source = std::get<JobSpec>(parent_spec);
  const std::string xyz = from.geometry == "optimized" ? text_of(parent.result, "optimized_xyz") : source.molecule.to_xyz();
  if (xyz.empty() || (from.geometry == "input" && source.molecule.atoms.empty()))
    return "job " + parent.id + " has no " + from.geometry + " geometry";
  XyzLimits limits;
  limits.max_atoms = std::numeric_limits<std::size_t>::max();
  auto molecule = parse_xyz(xyz, limits);
  if (auto* bad = std::get_if<XyzError>(&molecule)) return "the geometry of job " + parent.id + ": " + bad->message;
  spec.molecule = std::move(std::get<Molecule>(molecule));
  spec.identifiers = source.identifiers;
  FieldErrors problems = check_electrons(spec);
  if (problems.empty()) problems = routes::engine_problems(app, spec);
  return joined(problems);
}

// The atoms a molecule from `parent` will have: those of the first ancestor that has them.
asio::awaitable<std::optional<JobSpec>> spec_with_atoms(App& app, Job parent) {
  for (int depth = 0; depth < max_chain; ++depth) {
    auto parsed = parse_stored_spec(json::value(parent.spec));
    if (std::holds_alternative<FieldErrors>(parsed)) co_return std::nullopt;
    JobSpec& spec = std::get<JobSpec>(parsed);
    if (!spec.molecule.atoms.empty()) co_return std::move(spec);
    if (!spec.molecule_from_job) co_return std::nullopt;
    auto up = co_await app.store.get(spec.molecule_from_job->job);
    if (!up) co_return std::nullopt;
    parent = std::move(*up);
  }
  co_return std::nullopt;
}

json::object unreadable_spec(const FieldErrors& problems) {
  return json::object{{"code", "invalid_spec"}, {"message", "the stored spec is unreadable: " + joined(problems)}};
}

json::object dependency_error(const std::string& parent, std::string message) {
  return json::object{{"code", "dependency_failed"}, {"message", std::move(message)}, {"dependency", parent}};
}

asio::awaitable<std::optional<Job>> resolve(App& app, const Job& child, const std::string& on, Finish outcome) {
  auto resolved = co_await app.store.resolve_waiting(child.id, on, std::move(outcome));
  if (!resolved) co_return std::nullopt;
  co_return std::move(*resolved);
}

asio::awaitable<std::optional<Job>> fail_child(App& app, const Job& child, const std::string& on, json::object error) {
  Finish failed;
  failed.state = JobState::failed;
  failed.error = std::move(error);
  co_return co_await resolve(app, child, on, std::move(failed));
}

// Why a parent's end fails its children: its state and error code.
std::string parent_ended(const Job& parent) {
  std::string why = "job " + parent.id + ", which this job depends on, " + std::string(to_string(parent.state));
  if (const std::string code = text_of(parent.error, "code"); !code.empty()) why += " (" + code + ")";
  return why;
}

}  // namespace

asio::awaitable<std::optional<std::string>> admit_dependencies(App& app, const Identity& identity, JobSpec& spec,
                                                               const std::string& prefix, FieldErrors& errors) {
  const std::size_t errors_before = errors.size();
  std::string wait_on;
  std::optional<Job> source;  // the job the molecule comes from
  for (std::size_t i = 0; i < spec.depends_on.size(); ++i) {
    const std::string& id = spec.depends_on[i];
    const std::string where = prefix + "depends_on[" + std::to_string(i) + "]";
    auto parent = co_await app.store.get(id);
    // Another owner's job is as unknown as a missing one.
    if ((!parent && parent.error().code == StoreErrc::not_found) || (parent && !identity.sees_owner(parent->owner))) {
      errors.push_back({where, "no job " + id});
      continue;
    }
    if (!parent) {
      errors.push_back({where, "job " + id + " could not be read now (" + parent.error().message + "); try again"});
      continue;
    }
    if (parent->state == JobState::failed || parent->state == JobState::cancelled) {
      errors.push_back({where, "job " + id + " " + std::string(to_string(parent->state)) +
                                   ": a job depending on it would fail at once"});
      continue;
    }
    if (parent->state != JobState::completed && wait_on.empty()) wait_on = id;
    if (spec.molecule_from_job && spec.molecule_from_job->job == id) source = std::move(*parent);
  }
  if (errors.size() > errors_before) co_return std::nullopt;
  if (!spec.molecule_from_job) co_return wait_on;

  const std::string where = prefix + "molecule.from_job";
  const std::string task = text_of(json::value(source->spec), "task");
  if (spec.molecule_from_job->geometry == "optimized" && !optimizes(task)) {
    errors.push_back({where, "job " + source->id + " is a " + task +
                                 " job and optimizes no geometry; ask for \"geometry\": \"input\" to take the one it "
                                 "started from"});
    co_return std::nullopt;
  }
  if (source->state == JobState::completed) {
    if (std::string problem = fill_molecule(app, spec, *source); !problem.empty()) {
      errors.push_back({where, problem});
      co_return std::nullopt;
    }
    co_return wait_on;
  }
  // Not there yet: checked now with the atoms it will have (an optimization moves them, it does
  // not change them), so a job that cannot run is refused at submission, not hours later.
  std::optional<JobSpec> ancestor = co_await spec_with_atoms(app, *source);
  if (!ancestor) {
    errors.push_back({where, "the molecule of job " + source->id + " could not be read"});
    co_return std::nullopt;
  }
  if (!spec.charge_given) spec.charge = ancestor->charge;
  if (!spec.multiplicity_given) spec.multiplicity = ancestor->multiplicity;
  JobSpec preview = spec;
  preview.molecule = ancestor->molecule;
  FieldErrors problems = check_electrons(preview);
  if (problems.empty()) problems = routes::engine_problems(app, preview);
  for (FieldError& p : problems) errors.push_back({prefix + p.field, p.message + " (with the atoms it will get from job " + source->id + ")"});
  if (!problems.empty()) co_return std::nullopt;
  co_return wait_on;
}

bool waits_on_parents(const Job& job) {
  const json::value* parents = job.spec.if_contains("depends_on");
  return parents && parents->is_array() && !parents->get_array().empty();
}

asio::awaitable<std::optional<Job>> settle_dependency(App& app, const Job& child, const std::string& on) {
  auto parsed = parse_stored_spec(json::value(child.spec));
  if (auto* bad = std::get_if<FieldErrors>(&parsed)) {
    json::object error = unreadable_spec(*bad);
    co_return co_await fail_child(app, child, on, std::move(error));
  }
  JobSpec spec = std::move(std::get<JobSpec>(parsed));
  std::string unfinished;
  std::optional<Job> source;
  for (const std::string& id : spec.depends_on) {
    auto parent = co_await app.store.get(id);
    if (!parent && parent.error().code != StoreErrc::not_found) co_return std::nullopt;  // a later try
    if (!parent) {
      json::object error = dependency_error(id, "job " + id + ", which this job depends on, no longer exists");
      co_return co_await fail_child(app, child, on, std::move(error));
    }
    if (parent->state == JobState::failed || parent->state == JobState::cancelled) {
      json::object error = dependency_error(id, parent_ended(*parent));
      co_return co_await fail_child(app, child, on, std::move(error));
    }
    if (parent->state != JobState::completed) {
      if (unfinished.empty()) unfinished = id;
    } else if (spec.molecule_from_job && spec.molecule_from_job->job == id) {
      source = std::move(*parent);
    }
  }
  if (!unfinished.empty()) {
    if (unfinished == on) co_return std::nullopt;  // still waiting on it
    Finish next;
    next.state = JobState::waiting;
    next.wait_on = unfinished;
    co_return co_await resolve(app, child, on, std::move(next));
  }
  Finish queued;
  queued.state = JobState::pending;
  if (spec.molecule_from_job && spec.molecule.atoms.empty()) {
    if (std::string problem = fill_molecule(app, spec, *source); !problem.empty()) {
      json::object error =
          dependency_error(source->id, "the molecule from job " + source->id + " does not suit this job: " + problem);
      co_return co_await fail_child(app, child, on, std::move(error));
    }
    queued.spec = spec.to_json();
  }
  co_return co_await resolve(app, child, on, std::move(queued));
}

}  // namespace nox
