#include "server/routes/routes.hpp"

#include "server/app.hpp"

namespace nox {

// The whole API in one place, with the scope each route needs (core/identity.hpp); each
// handler lives in the file of its resource. Another owner's job answers 404 in every handler.
void add_routes(Router& router) {
  router.add("POST", "/jobs", routes::submit_job, Scope::write);
  router.add("POST", "/jobs/batch", routes::submit_batch, Scope::write);
  router.add("GET", "/jobs", routes::list_jobs, Scope::read);
  router.add("GET", "/jobs/export", routes::export_jobs, Scope::read);
  router.add("GET", "/jobs/{id}", routes::get_job, Scope::read);
  router.add("DELETE", "/jobs/{id}", routes::delete_job, Scope::write);
  router.add("GET", "/jobs/{id}/status", routes::get_status, Scope::read);
  router.add("GET", "/jobs/{id}/result", routes::get_result, Scope::read);
  router.add("POST", "/jobs/{id}/cancel", routes::cancel_job, Scope::write);
  router.add("POST", "/jobs/{id}/continue", routes::continue_job, Scope::write);
  router.add("POST", "/jobs/{id}/retry", routes::retry_job, Scope::write);
  router.add("GET", "/jobs/{id}/artifacts", routes::list_artifacts, Scope::read);
  router.add("GET", "/jobs/{id}/artifacts/{name}", routes::get_artifact, Scope::read);
  router.add("GET", "/jobs/{id}/events", routes::stream_job_events, Scope::read);
  router.add("GET", "/events", routes::stream_events, Scope::read);
  router.add("GET", "/health", routes::health, Scope::none);
  router.add("GET", "/ready", routes::ready, Scope::none);
  router.add("GET", "/engines", routes::engines, Scope::none);
  router.add("GET", "/batches/{id}", routes::get_batch, Scope::read);
  router.add("POST", "/workflows", routes::submit_workflow, Scope::write);
  router.add("POST", "/workflows/conformers", routes::submit_conformer_screen, Scope::write);
  router.add("GET", "/workflows/{id}/conformers", routes::get_conformer_ranking, Scope::read);
  router.add("GET", "/workflows/{id}/conformers.sdf", routes::get_conformers_sdf, Scope::read);
  router.add("GET", "/workflows/{id}", routes::get_workflow, Scope::read);
  router.add("POST", "/schedules", routes::create_schedule, Scope::write);
  router.add("GET", "/schedules", routes::list_schedules, Scope::read);
  router.add("GET", "/schedules/{id}", routes::get_schedule, Scope::read);
  router.add("DELETE", "/schedules/{id}", routes::delete_schedule, Scope::write);
  router.add("POST", "/schedules/{id}/pause", routes::pause_schedule, Scope::write);
  router.add("POST", "/schedules/{id}/resume", routes::resume_schedule, Scope::write);
  router.add("POST", "/molecules", routes::convert_molecule_preview, Scope::write);
  router.add("GET", "/workers", routes::workers, Scope::admin);
  router.add("POST", "/workers/{id}/pause", routes::pause_worker, Scope::admin);
  router.add("POST", "/workers/{id}/resume", routes::resume_worker, Scope::admin);
  router.add("POST", "/workers/{id}/drain", routes::drain_worker, Scope::admin);
  router.add("GET", "/queue", routes::queue_overview, Scope::admin);
  router.add("PUT", "/queues/{name}", routes::configure_queue, Scope::admin);
  router.add("POST", "/queues/{name}/pause", routes::pause_queue, Scope::admin);
  router.add("POST", "/queues/{name}/resume", routes::resume_queue, Scope::admin);
  router.add("GET", "/metrics", routes::metrics, Scope::admin);
  router.add("GET", "/openapi.json", routes::openapi, Scope::none);
  router.add("GET", "/docs", routes::api_docs, Scope::none);
  // Registered last: the dashboard's files must not shadow an API path.
  router.add("GET", "/", routes::dashboard, Scope::none);
  router.add("GET", "/vendor/{file}", routes::vendor_file, Scope::none);
  router.add("GET", "/{file}", routes::dashboard_file, Scope::none);
}

void add_worker_routes(Router& router) {
  router.add("GET", "/health", routes::health, Scope::none);
  router.add("GET", "/ready", routes::ready, Scope::none);
  router.add("GET", "/metrics", routes::metrics, Scope::admin);
}

}  // namespace nox
