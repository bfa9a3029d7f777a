#include "core/transitions.hpp"

namespace nox {

// The moves of DESIGN.md "Job states" and the one event each appends:
//   scheduled -> pending    "scheduled"  (run_at reached; the job's schedule fired. Creating a job,
//                                          scheduled or not, appends "submitted" outside this table)
//   pending   -> running    "started"    (a worker claimed it with a lease)
//   running   -> completed  "completed"
//   running   -> failed     "failed"
//   running   -> cancelled  "cancelled"  (killed on request)
//   pending   -> cancelled  "cancelled"
//   scheduled -> cancelled  "cancelled"
//   running   -> pending    "retrying"   (retry at once, or its lease expired)
//   running   -> scheduled  "retrying"   (retry after a backoff: queued again at retry_at)
//   failed    -> pending    "retrying"   (POST /jobs/{id}/retry)
//   cancelled -> pending    "retrying"   (POST /jobs/{id}/retry)
//   waiting   -> completed  "completed"  (the job it waited for completed: its result is shared)
//   waiting   -> pending    "queued"     (the job it waited for failed, or is gone: run it after all)
//   waiting   -> failed     "failed"
//   waiting   -> cancelled  "cancelled"
// Everything else, including staying in the same state, is refused. "progress" and "deleted"
// events change no state and so are not transitions.
std::optional<EventType> transition_event(JobState from, JobState to) {
  using S = JobState;
  using E = EventType;
  switch (from) {
    case S::scheduled:
      if (to == S::pending) return E::scheduled;
      if (to == S::cancelled) return E::cancelled;
      break;
    case S::pending:
      if (to == S::running) return E::started;
      if (to == S::cancelled) return E::cancelled;
      break;
    case S::running:
      if (to == S::completed) return E::completed;
      if (to == S::failed) return E::failed;
      if (to == S::cancelled) return E::cancelled;
      if (to == S::pending) return E::retrying;
      if (to == S::scheduled) return E::retrying;
      break;
    case S::failed:
    case S::cancelled:
      if (to == S::pending) return E::retrying;
      break;
    case S::waiting:
      if (to == S::completed) return E::completed;
      if (to == S::pending) return E::queued;
      if (to == S::failed) return E::failed;
      if (to == S::cancelled) return E::cancelled;
      break;
    case S::completed:
      break;
  }
  return std::nullopt;
}

}  // namespace nox
