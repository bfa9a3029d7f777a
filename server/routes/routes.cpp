#include "server/routes/routes.hpp"

#include "server/app.hpp"

namespace nox {

// The whole API in one place; each handler lives in the file of its resource.
void add_routes(Router& router) {
  router.add("POST", "/jobs", routes::submit_job);
  router.add("POST", "/jobs/batch", routes::submit_batch);
  router.add("GET", "/jobs", routes::list_jobs);
  router.add("GET", "/jobs/{id}", routes::get_job);
  router.add("DELETE", "/jobs/{id}", routes::delete_job);
  router.add("GET", "/jobs/{id}/status", routes::get_status);
  router.add("GET", "/jobs/{id}/result", routes::get_result);
  router.add("POST", "/jobs/{id}/cancel", routes::cancel_job);
  router.add("GET", "/jobs/{id}/artifacts", routes::list_artifacts);
  router.add("GET", "/jobs/{id}/artifacts/{name}", routes::get_artifact);
  router.add("GET", "/jobs/{id}/events", routes::stream_job_events);
  router.add("GET", "/events", routes::stream_events);
  router.add("GET", "/health", routes::health);
  router.add("GET", "/ready", routes::ready);
  router.add("GET", "/workers", routes::workers);
  // Registered last: the dashboard's files must not shadow an API path.
  router.add("GET", "/", routes::dashboard);
  router.add("GET", "/vendor/{file}", routes::vendor_file);
  router.add("GET", "/{file}", routes::dashboard_file);
}

}  // namespace nox
