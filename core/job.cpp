#include "core/job.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <stdexcept>

#include "core/molecule.hpp"

namespace nox {
namespace json = boost::json;

namespace {

// Present only on jobs of the calculation cache: the job waited for, or whose result this holds.
void add_cache_links(json::object& o, const Job& job) {
  if (!job.waiting_on.empty()) o["waiting_on"] = job.waiting_on;
  if (!job.cached_from.empty()) o["cached_from"] = job.cached_from;
}

json::value time_or_null(TimeMs t) {
  if (t == 0) return nullptr;
  return json::string(to_rfc3339(t));
}

std::string spec_string(const json::object& spec, std::string_view key) {
  if (const json::value* v = spec.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

// Integers written by job_to_record come back as int64; uint64 and integral doubles are
// accepted too so that a record that went through another JSON writer still reads.
std::int64_t record_int(const json::object& record, std::string_view key, std::int64_t fallback) {
  const json::value* v = record.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  throw std::invalid_argument("job record: field \"" + std::string(key) + "\" is not an integer");
}

json::value record_value(const json::object& record, std::string_view key) {
  if (const json::value* v = record.if_contains(key)) return *v;
  return nullptr;
}

}  // namespace

std::string Job::engine() const { return spec_string(spec, "engine"); }

std::vector<std::string> Job::tags() const {
  std::vector<std::string> out;
  if (const json::value* v = spec.if_contains("tags"); v && v->is_array()) {
    for (const json::value& t : v->get_array()) {
      if (t.is_string()) out.emplace_back(t.get_string());
    }
  }
  return out;
}

std::vector<std::string> Job::index_tags() const {
  std::vector<std::string> out = tags();
  const json::value* molecule = spec.if_contains("molecule");
  const json::value* ids = molecule && molecule->is_object() ? molecule->get_object().if_contains("identifiers") : nullptr;
  const json::value* key = ids && ids->is_object() ? ids->get_object().if_contains("inchikey") : nullptr;
  if (key && key->is_string() && !key->get_string().empty()) out.push_back(inchikey_tag(key->get_string()));
  if (const json::value* batch = spec.if_contains("batch_id"); batch && batch->is_string()) {
    out.push_back(batch_tag(batch->get_string()));
  }
  if (const json::value* from = spec.if_contains("continued_from"); from && from->is_string()) {
    out.push_back(continues_tag(from->get_string()));
  }
  if (const json::value* workflow = spec.if_contains("workflow_id"); workflow && workflow->is_string()) {
    out.push_back(workflow_tag(workflow->get_string()));
  }
  if (const json::value* schedule = spec.if_contains("schedule_id"); schedule && schedule->is_string()) {
    out.push_back(schedule_tag(schedule->get_string()));
  }
  return out;
}

std::vector<std::string> Job::requires_tags() const {
  std::vector<std::string> out;
  if (const json::value* v = spec.if_contains("requires"); v && v->is_array())
    for (const json::value& t : v->get_array())
      if (t.is_string()) out.emplace_back(t.get_string());
  return out;
}

std::string Job::queue() const {
  const json::value* v = spec.if_contains("queue");
  return v && v->is_string() && !v->get_string().empty() ? std::string(v->get_string()) : std::string("default");
}

int Job::threads() const {
  const json::value* v = spec.if_contains("threads");
  return v && v->is_int64() && v->get_int64() > 1 ? static_cast<int>(std::min<std::int64_t>(v->get_int64(), 1024)) : 1;
}

TimeMs Job::run_at() const {
  const json::value* v = spec.if_contains("run_at");
  if (!v || !v->is_string()) return 0;
  return parse_rfc3339(v->get_string()).value_or(0);
}

std::string batch_tag(std::string_view batch_id) { return std::string(kBatchTagPrefix) + std::string(batch_id); }
std::string continues_tag(std::string_view job_id) { return std::string(kContinuesTagPrefix) + std::string(job_id); }
std::string schedule_tag(std::string_view schedule_id) {
  return std::string(kScheduleTagPrefix) + std::string(schedule_id);
}

std::string workflow_tag(std::string_view workflow_id) {
  return std::string(kWorkflowTagPrefix) + std::string(workflow_id);
}

std::string inchikey_tag(std::string_view inchikey) { return std::string(kInchikeyTagPrefix) + std::string(inchikey); }

json::object job_to_json(const Job& job) {
  json::object o;
  o["job_id"] = job.id;
  o["state"] = to_string(job.state);
  o["spec"] = job.spec;
  o["created_at"] = time_or_null(job.created_at);
  o["started_at"] = time_or_null(job.started_at);
  o["finished_at"] = time_or_null(job.finished_at);
  o["attempts"] = job.attempts;
  o["max_attempts"] = job.max_attempts;
  o["lost"] = job.lost;
  o["max_lost"] = job.max_lost;
  o["priority"] = job.priority;
  o["result"] = job.result;
  o["error"] = job.error;
  o["progress"] = job.progress;
  // Where the job runs (the instance holding its lease), for operators; null when none does.
  o["worker_id"] = job.worker_id.empty() ? json::value(nullptr) : json::value(job.worker_id);
  // Who submitted it (the API key's name or the token's subject); null in open mode.
  o["owner"] = job.owner.empty() ? json::value(nullptr) : json::value(job.owner);
  add_cache_links(o, job);
  return o;
}

json::object job_summary_json(const Job& job) {
  json::object o;
  o["engine"] = spec_string(job.spec, "engine");
  o["task"] = spec_string(job.spec, "task");
  o["method"] = spec_string(job.spec, "method");
  o["name"] = spec_string(job.spec, "name");
  json::array tags;
  for (std::string& t : job.tags()) tags.emplace_back(std::move(t));
  o["tags"] = std::move(tags);
  // Present only when the stored spec holds readable XYZ (a spec from JobSpec::to_json always does).
  if (const json::value* molecule = job.spec.if_contains("molecule"); molecule && molecule->is_object()) {
    if (const json::value* xyz = molecule->get_object().if_contains("xyz"); xyz && xyz->is_string()) {
      if (std::string formula = formula_of_xyz(xyz->get_string()); !formula.empty()) o["formula"] = formula;
    }
  }
  return o;
}

json::object job_status_json(const Job& job, const json::object& summary) {
  json::object o;
  o["job_id"] = job.id;
  o["state"] = to_string(job.state);
  for (const auto& [key, value] : summary) o[key] = value;
  o["created_at"] = time_or_null(job.created_at);
  o["started_at"] = time_or_null(job.started_at);
  o["finished_at"] = time_or_null(job.finished_at);
  o["attempts"] = job.attempts;
  o["progress"] = job.progress;
  // The same shape as in the full record (null or {"code","message",...}), so a client reads
  // errors one way whichever endpoint it polls.
  o["error"] = job.error;
  add_cache_links(o, job);
  return o;
}

json::object job_status_json(const Job& job) { return job_status_json(job, job_summary_json(job)); }

json::object job_to_record(const Job& job) {
  json::object r;
  r["job_id"] = job.id;
  r["state"] = to_string(job.state);
  r["spec"] = job.spec;
  r["created_at"] = job.created_at;
  r["started_at"] = job.started_at;
  r["finished_at"] = job.finished_at;
  r["attempts"] = job.attempts;
  r["max_attempts"] = job.max_attempts;
  r["lost"] = job.lost;
  r["max_lost"] = job.max_lost;
  r["priority"] = job.priority;
  r["result"] = job.result;
  r["error"] = job.error;
  r["progress"] = job.progress;
  r["worker_id"] = job.worker_id;
  r["owner"] = job.owner;
  r["waiting_on"] = job.waiting_on;
  r["cached_from"] = job.cached_from;
  return r;
}

// A record without a job id or with an unknown state can only come from a bug or a foreign
// writer, so that is an exception; every other field falls back to Job's defaults when absent.
Job job_from_record(const json::object& record) {
  Job job;
  const json::value* id = record.if_contains("job_id");
  if (!id || !id->is_string()) throw std::invalid_argument("job record: missing \"job_id\"");
  job.id = std::string(id->get_string());
  const json::value* state = record.if_contains("state");
  if (!state || !state->is_string())
    throw std::invalid_argument("job record " + job.id + ": missing \"state\"");
  const std::optional<JobState> parsed = parse_job_state(state->get_string());
  if (!parsed) {
    throw std::invalid_argument("job record " + job.id + ": unknown state \"" +
                                std::string(state->get_string()) + "\"");
  }
  job.state = *parsed;
  if (const json::value* spec = record.if_contains("spec"); spec && spec->is_object())
    job.spec = spec->get_object();
  job.created_at = record_int(record, "created_at", 0);
  job.started_at = record_int(record, "started_at", 0);
  job.finished_at = record_int(record, "finished_at", 0);
  job.attempts = static_cast<int>(record_int(record, "attempts", 0));
  job.max_attempts = static_cast<int>(record_int(record, "max_attempts", 1));
  job.lost = static_cast<int>(record_int(record, "lost", 0));
  job.max_lost = static_cast<int>(record_int(record, "max_lost", 3));
  job.priority = static_cast<int>(record_int(record, "priority", 0));
  job.result = record_value(record, "result");
  job.error = record_value(record, "error");
  job.progress = record_value(record, "progress");
  if (const json::value* worker = record.if_contains("worker_id"); worker && worker->is_string()) {
    job.worker_id = std::string(worker->get_string());
  }
  if (const json::value* owner = record.if_contains("owner"); owner && owner->is_string())
    job.owner = std::string(owner->get_string());
  if (const json::value* on = record.if_contains("waiting_on"); on && on->is_string())
    job.waiting_on = std::string(on->get_string());
  if (const json::value* from = record.if_contains("cached_from"); from && from->is_string())
    job.cached_from = std::string(from->get_string());
  return job;
}

}  // namespace nox
