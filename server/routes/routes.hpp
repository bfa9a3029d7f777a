#pragma once
// Route handlers, one file per resource: jobs.cpp, artifacts.cpp, system.cpp.
#include "server/router.hpp"

namespace nox::routes {

#define NOX_ROUTE(name) boost::asio::awaitable<HttpResponse> name(App&, const HttpRequest&, const PathParams&)
// jobs.cpp
NOX_ROUTE(submit_job);
NOX_ROUTE(submit_batch);
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
// system.cpp
NOX_ROUTE(health);
NOX_ROUTE(ready);
NOX_ROUTE(workers);
#undef NOX_ROUTE

}  // namespace nox::routes
