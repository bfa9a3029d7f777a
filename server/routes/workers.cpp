// The instances sharing the store: GET /workers (slots, what each runs, its compute tags and
// queues, the mode an operator asked of it, engines its circuit breaker took out), and
// POST /workers/{id}/pause, /resume, /drain. An instance reads its mode with every heartbeat
// (each second): paused, it claims nothing and its running jobs go on; draining, it claims
// nothing and stops (as on SIGTERM) once its running jobs have finished.
#include <boost/json.hpp>

#include "core/json_text.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object worker_json(const WorkerInfo& w) {
  return {{"worker_id", w.id},
          {"host", w.host},
          {"listen", w.listen},
          {"slots", w.slots},
          {"busy", w.busy},
          {"mode", to_string(w.mode)},
          {"tags", names_json(w.tags)},
          {"queues", names_json(w.queues)},
          {"engines_out", names_json(w.engines_out)},
          {"started_at", to_rfc3339(w.started_at)},
          {"last_heartbeat", to_rfc3339(w.last_heartbeat)}};
}

asio::awaitable<HttpResponse> ask(App& app, std::string_view id, WorkerMode mode) {
  // An API-only instance (--role api, 0 slots) claims nothing: asking it to pause or drain
  // would answer 200 and change nothing.
  auto list = co_await app.store.workers();
  if (!list) co_return store_error_response(list.error());
  for (const WorkerInfo& w : *list) {
    if (w.id == id && w.slots == 0)
      co_return error_response(409, "worker_runs_no_jobs",
                               "instance " + w.id + " runs no jobs (--role api): there is nothing to pause, resume or drain");
  }
  auto done = co_await app.store.control_worker(std::string(id), mode);
  if (!done) {
    if (done.error().code == StoreErrc::not_found)
      co_return error_response(404, "worker_not_found", "no live instance " + std::string(id.substr(0, 200)) +
                                                            " (GET /workers lists them)");
    co_return store_error_response(done.error());
  }
  // The instance acts on it at its next heartbeat; `mode` is what it was asked.
  co_return json_response(200, json::object{{"worker_id", id}, {"mode", to_string(mode)}});
}

}  // namespace

asio::awaitable<HttpResponse> workers(App& app, const HttpRequest&, const PathParams&) {
  auto list = co_await app.store.workers();
  if (!list) co_return store_error_response(list.error());
  json::array out;
  for (const auto& w : *list) out.push_back(worker_json(w));
  co_return json_response(200, json::object{{"workers", std::move(out)}});
}

asio::awaitable<HttpResponse> pause_worker(App& app, const HttpRequest&, const PathParams& params) {
  co_return co_await ask(app, params.get("id"), WorkerMode::paused);
}

asio::awaitable<HttpResponse> resume_worker(App& app, const HttpRequest&, const PathParams& params) {
  co_return co_await ask(app, params.get("id"), WorkerMode::active);
}

asio::awaitable<HttpResponse> drain_worker(App& app, const HttpRequest&, const PathParams& params) {
  co_return co_await ask(app, params.get("id"), WorkerMode::draining);
}

}  // namespace nox::routes
