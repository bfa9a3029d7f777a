#pragma once
// Route handlers, one file per resource: jobs.cpp, artifacts.cpp, system.cpp.
#include <boost/json/object.hpp>
#include <variant>
#include <vector>

#include "core/job.hpp"
#include "server/router.hpp"
#include "storage/store.hpp"
#include "storage/store_result.hpp"

namespace nox::routes {

// Owner isolation, in one place: the job if the caller may see it (its own, or any for an
// administrator); another owner's job is not_found, exactly as a job that does not exist.
boost::asio::awaitable<Result<Job>> get_visible_job(App& app, const HttpRequest& request, std::string id);
// Whether the caller may act on the job `id`: nullopt when it may, else the 404 to answer.
// Administrators skip the read.
boost::asio::awaitable<std::optional<HttpResponse>> hide_unless_visible(App& app, const HttpRequest& request,
                                                                       std::string id);

// GET /jobs's filters (state, engine, tag or inchikey, owner, limit, cursor), confined to what
// the caller may see; 400 invalid_parameter (or 403 for another owner) otherwise.
std::variant<ListQuery, HttpResponse> read_list_query(const HttpRequest& request);

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
// export.cpp
NOX_ROUTE(export_jobs);
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
// A graph of jobs with local names ({"<name>": <spec with depends_on / molecule.from_job naming
// others>}), checked whole and created parents first: POST /workflows's work after its body.
boost::asio::awaitable<HttpResponse> submit_graph(App& app, const HttpRequest& request, std::string name,
                                                  const boost::json::object& jobs);
// The jobs of workflow `id` the caller may see (404 workflow_not_found when none).
boost::asio::awaitable<std::variant<std::vector<Job>, HttpResponse>> workflow_jobs(App& app, const HttpRequest& request,
                                                                                 const std::string& id);
// conformers.cpp
NOX_ROUTE(submit_conformer_screen);
NOX_ROUTE(get_conformer_ranking);
NOX_ROUTE(get_conformers_sdf);
// molecules.cpp
NOX_ROUTE(convert_molecule_preview);
// schedules.cpp
NOX_ROUTE(create_schedule);
NOX_ROUTE(list_schedules);
NOX_ROUTE(get_schedule);
NOX_ROUTE(pause_schedule);
NOX_ROUTE(resume_schedule);
NOX_ROUTE(delete_schedule);
// queues.cpp
NOX_ROUTE(queue_overview);
NOX_ROUTE(pause_queue);
NOX_ROUTE(resume_queue);
NOX_ROUTE(configure_queue);
NOX_ROUTE(metrics);
// workers.cpp
NOX_ROUTE(workers);
NOX_ROUTE(pause_worker);
NOX_ROUTE(resume_worker);
NOX_ROUTE(drain_worker);
#undef NOX_ROUTE

}  // namespace nox::routes
