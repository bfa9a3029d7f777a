#pragma once
// Route handlers, one file per resource: jobs.cpp, artifacts.cpp, system.cpp.
#include "server/router.hpp"
#include "storage/store_result.hpp"

namespace nox {
struct Job;
}

namespace nox::routes {

// Owner isolation, in one place: the job if the caller may see it (its own, or any for an
// administrator); another owner's job is not_found, exactly as a job that does not exist.
boost::asio::awaitable<Result<Job>> get_visible_job(App& app, const HttpRequest& request, std::string id);
// Whether the caller may act on the job `id`: nullopt when it may, else the 404 to answer.
// Administrators skip the read.
boost::asio::awaitable<std::optional<HttpResponse>> hide_unless_visible(App& app, const HttpRequest& request,
                                                                       std::string id);

#define NOX_ROUTE(name) boost::asio::awaitable<HttpResponse> name(App&, const HttpRequest&, const PathParams&)
// jobs.cpp
NOX_ROUTE(submit_job);
NOX_ROUTE(submit_batch);
NOX_ROUTE(continue_job);
NOX_ROUTE(retry_job);
NOX_ROUTE(list_jobs);
NOX_ROUTE(get_job);
NOX_ROUTE(delete_job);
NOX_ROUTE(get_status);
NOX_ROUTE(get_result);
NOX_ROUTE(cancel_job);
// artifacts.cpp
NOX_ROUTE(list_artifacts);
NOX_ROUTE(get_artifact);
// events.cpp
NOX_ROUTE(stream_events);
NOX_ROUTE(stream_job_events);
// static_files.cpp
NOX_ROUTE(dashboard);
NOX_ROUTE(dashboard_file);
NOX_ROUTE(vendor_file);
NOX_ROUTE(openapi);
NOX_ROUTE(api_docs);
// system.cpp
NOX_ROUTE(health);
NOX_ROUTE(ready);
NOX_ROUTE(engines);
// batches.cpp (POST /jobs/batch with a molecule file comes here from submit_batch)
NOX_ROUTE(get_batch);
boost::asio::awaitable<HttpResponse> submit_molecule_file_batch(App&, const HttpRequest&, const std::string& format);
// workflows.cpp
NOX_ROUTE(submit_workflow);
NOX_ROUTE(get_workflow);
// molecules.cpp
NOX_ROUTE(convert_molecule_preview);
// queues.cpp
NOX_ROUTE(queue_overview);
NOX_ROUTE(pause_queue);
NOX_ROUTE(resume_queue);
NOX_ROUTE(configure_queue);
NOX_ROUTE(workers);
NOX_ROUTE(metrics);
#undef NOX_ROUTE

}  // namespace nox::routes
