#pragma once
// The job record every store keeps, and its JSON forms for the API.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/job_state.hpp"

namespace nox {

struct Job {
  std::string id;
  JobState state = JobState::pending;
  boost::json::object spec;  // normalised spec (JobSpec::to_json)
  TimeMs created_at = 0;
  TimeMs started_at = 0;   // 0 = not yet
  TimeMs finished_at = 0;  // 0 = not yet
  int attempts = 0;      // attempts started (claims), lost ones included
  int max_attempts = 1;  // budget for failures of the job itself (crash, retryable error)
  int lost = 0;          // attempts whose instance died (lease lost); they do not spend max_attempts
  int max_lost = 3;      // after this many lost attempts the job fails with code "lost"
  int priority = 0;
  boost::json::value result;    // null until completed
  boost::json::value error;     // null, or {"code","message",...}
  boost::json::value progress;  // null, or the latest progress numbers
  std::string worker_id;        // the instance (worker) holding the lease while running
  std::string owner;            // the identity that submitted it ("" in open mode); never changes
  // The calculation cache (server/calculation_cache.hpp): while waiting, the job whose identical
  // calculation this one shares; once completed that way, the job whose result it holds.
  std::string waiting_on;
  std::string cached_from;

  std::string engine() const;
  std::vector<std::string> tags() const;
  // What the stores index as tags: the spec's tags, and "inchikey:<InChIKey>" for a molecule the
  // server identified (GET /jobs?inchikey= reads that index).
  std::vector<std::string> index_tags() const;
  // Routing (spec `requires` and `queue`): the compute tags a claiming instance must offer, and
  // the named queue the job waits in ("default" when the spec names none).
  std::vector<std::string> requires_tags() const;
  std::string queue() const;
  // The cores the job asked for (spec.threads, at least 1): what it costs of an instance's slots.
  int threads() const;
  // spec.run_at: not before this time (0: at once). A job created with it in the future is
  // `scheduled` until then.
  TimeMs run_at() const;
  // Attempts that failed on their own (not lost with their instance): what max_attempts bounds.
  int own_attempts() const { return attempts - lost; }
};

// The index tag of a molecule's InChIKey; user tags may not start with this prefix.
inline constexpr std::string_view kInchikeyTagPrefix = "inchikey:";
std::string inchikey_tag(std::string_view inchikey);
// The index tag of the jobs of one batch (GET /batches/{id}); reserved like the InChIKey's.
inline constexpr std::string_view kBatchTagPrefix = "batch:";
std::string batch_tag(std::string_view batch_id);
// The index tag of the jobs that continue one (POST /jobs/{id}/continue); reserved like the others.
inline constexpr std::string_view kContinuesTagPrefix = "continues:";
std::string continues_tag(std::string_view job_id);
// The index tag of the jobs of one workflow (GET /workflows/{id}); reserved like the others.
inline constexpr std::string_view kWorkflowTagPrefix = "workflow:";
std::string workflow_tag(std::string_view workflow_id);
// The index tag of the jobs one recurring schedule fired (GET /jobs?tag=schedule:<id>).
inline constexpr std::string_view kScheduleTagPrefix = "schedule:";
std::string schedule_tag(std::string_view schedule_id);

// Full record for GET /jobs/{id}.
boost::json::object job_to_json(const Job& job);
// Compact form for GET /jobs/{id}/status and list entries.
boost::json::object job_status_json(const Job& job);
// What the status shows of the spec: engine, task, method, name, tags, formula. Stores may
// keep it beside the record so that a status read need not parse the spec.
boost::json::object job_summary_json(const Job& job);
// The same status, with the spec's part given as a summary (job.spec is not read).
boost::json::object job_status_json(const Job& job, const boost::json::object& summary);
// Store round trip (memory snapshot / Redis hash fields use the same names).
boost::json::object job_to_record(const Job& job);
Job job_from_record(const boost::json::object& record);

}  // namespace nox
