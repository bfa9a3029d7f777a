// Routes about the instance itself: liveness, readiness, its engines, the instances sharing the store.
#include <algorithm>

#include "core/engine_vocabulary.hpp"
#include "core/log.hpp"
#include "core/status_cache.hpp"
#include "core/json_text.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/event_hub.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// `details`: where each engine is installed and what is wrong with it, for operators.
json::object engines_json(const App& app, bool details = true) {
  json::object engines;
  for (const auto& status : app.engines.statuses()) {
    json::object e{{"available", status.available}, {"version", status.version}};
    if (details && !status.path.empty()) e["path"] = status.path;
    if (details && !status.problem.empty()) e["problem"] = status.problem;
    engines[status.name] = std::move(e);
  }
  return engines;
}

}  // namespace

// What each engine can be asked for, and whether this instance runs it: public, like /health,
// because a form (the dashboard's) is built from it before any key is given.
asio::awaitable<HttpResponse> engines(App& app, const HttpRequest& request, const PathParams&) {
  // A water molecule to ask each available engine which methods it really runs (xtb refuses gfn0).
  JobSpec probe;
  probe.task = "energy";
  probe.molecule.atoms = {{"O", 0, 0, 0.117}, {"H", 0, 0.757, -0.467}, {"H", 0, -0.757, -0.467}};
  json::array list;
  for (const EngineVocabulary& words : engine_vocabularies()) {
    const EngineStatus* status = nullptr;
    for (const auto& s : app.engines.statuses()) {
      if (s.name == words.engine) status = &s;
    }
    const Engine* engine = app.engines.find(words.engine);
    json::array methods;
    for (std::string_view method : words.methods) {
      probe.engine = std::string(words.engine);
      probe.method = std::string(method);
      const FieldErrors refused = engine ? engine->validate(probe) : FieldErrors{};
      if (std::none_of(refused.begin(), refused.end(), [](const FieldError& e) { return e.field == "method"; })) {
        methods.emplace_back(method);
      }
    }
    json::array models;
    for (const SolventModel& model : words.solvent_models) {
      json::object by_method;
      for (const json::value& method : methods) {
        json::array solvents;
        for (const NamedSolvent& solvent : solvents_for(model, method.as_string())) {
          json::object s{{"name", solvent.name}};
          if (solvent.dielectric > 0) s["dielectric"] = solvent.dielectric;
          solvents.push_back(std::move(s));
        }
        by_method[method.as_string()] = std::move(solvents);
      }
      models.push_back(json::object{{"name", model.name},
                                    {"takes_dielectric", model.takes_dielectric},
                                    {"solvents_by_method", std::move(by_method)}});
    }
    json::object e{{"name", words.engine},
                   {"available", status && status->available},
                   {"version", status ? status->version : ""},
                   {"default_method", words.default_method},
                   {"methods", std::move(methods)},
                   {"tasks", names_json(words.tasks)},
                   {"solvent_models", std::move(models)},
                   {"keywords", names_json(words.keywords)},
                   {"outputs", names_json(words.outputs)}};
    if (status && !status->problem.empty() && request.identity.admin()) e["problem"] = status->problem;
    list.push_back(std::move(e));
  }
  co_return json_response(200, json::object{{"engines", std::move(list)}});
}

// Public (a load balancer or systemd probes it without a key; the dashboard's form reads the
// engines); the operator's details (queue, engines' paths and problems, instance id,
// connections) only for an administrator or in open mode.
// The engines this instance's circuit breaker took out of its claims, until when and why.
static json::array engines_out(const App& app) {
  json::array out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& open : app.dispatcher.breaker().open(now)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(open.until - now).count();
    out.push_back(json::object{{"engine", open.engine},
                               {"failures_in_a_row", open.failures},
                               {"until", to_rfc3339(now_ms() + left)},
                               {"last_error", open.last_error}});
  }
  return out;
}

asio::awaitable<HttpResponse> health(App& app, const HttpRequest& request, const PathParams&) {
  const bool reachable = co_await app.store.ping();
  json::object queue;
  if (reachable) {
    auto stats = co_await app.store.stats();
    if (stats) queue = {{"pending", stats->pending}, {"running", stats->running}, {"scheduled", stats->scheduled}, {"waiting", stats->waiting}};
  }
  json::object body{
      {"status", app.stopping ? "stopping" : "ok"},
      {"version", NOX_VERSION},
      {"worker_id", app.dispatcher.worker_id()},
      {"role", app.settings.role},
      {"mode", to_string(app.dispatcher.mode())},
      {"uptime_s", static_cast<double>(now_ms() - app.started_at) / 1000.0},
      // "keys": requests need an API key (the dashboard asks for one); "open": loopback, none.
      {"access", app.access.open() ? "open" : "keys"},
      {"store", json::object{{"kind", app.store.kind()}, {"reachable", reachable}}},
      {"engines", engines_json(app, request.identity.admin())},
      {"slots", json::object{{"total", app.dispatcher.slots()}, {"busy", app.dispatcher.busy()}}},
      {"engines_out", engines_out(app)},
      {"queue", std::move(queue)},
      {"connections", app.open_connections},
  };
  if (!request.identity.admin()) {
    for (const char* detail : {"worker_id", "queue", "connections"}) body.erase(detail);
  }
  co_return json_response(200, body);
}

asio::awaitable<HttpResponse> ready(App& app, const HttpRequest& request, const PathParams&) {
  const bool reachable = co_await app.store.ping();
  const bool engine = app.engines.any_subprocess_engine();
  json::array problems;
  if (!reachable) problems.push_back("the job store is not reachable");
  if (!engine) problems.push_back("no computational engine (xtb, mopac) is installed");
  if (app.stopping) problems.push_back("the server is shutting down");
  json::object body{{"ready", problems.empty()},
                    {"store", json::object{{"kind", app.store.kind()}, {"reachable", reachable}}},
                    {"engines", engines_json(app, request.identity.admin())},
                    {"problems", std::move(problems)}};
  HttpResponse response = json_response(body.at("ready").as_bool() ? 200 : 503, body);
  if (response.status == 503) response.headers.emplace_back("Retry-After", "2");
  co_return response;
}

// Prometheus text format (admin scope): scrape it with the config in the README.
asio::awaitable<HttpResponse> metrics(App& app, const HttpRequest&, const PathParams&) {
  PrometheusText text;
  app.metrics.render(text);
  app.dispatcher.metrics().render(text);
  auto stats = co_await app.store.stats();
  text.family("nox_jobs", "gauge", "jobs in the store by state (the states a queue has; finished jobs are listed, not counted)");
  if (stats) {
    text.sample("nox_jobs", {{"state", "pending"}}, static_cast<double>(stats->pending));
    text.sample("nox_jobs", {{"state", "running"}}, static_cast<double>(stats->running));
    text.sample("nox_jobs", {{"state", "scheduled"}}, static_cast<double>(stats->scheduled));
    text.sample("nox_jobs", {{"state", "waiting"}}, static_cast<double>(stats->waiting));
  }
  text.family("nox_store_up", "gauge", "1 when the store answered this scrape");
  text.sample("nox_store_up", {{"store", std::string(app.store.kind())}}, stats ? 1 : 0);
  text.family("nox_slots", "gauge", "subprocess slots of this instance");
  text.sample("nox_slots", {{"state", "busy"}}, static_cast<double>(app.dispatcher.busy()));
  text.sample("nox_slots", {{"state", "total"}}, static_cast<double>(app.dispatcher.slots()));
  text.family("nox_engine_taken_out_total", "counter",
              "times this instance's circuit breaker took an engine out of its claims");
  for (const auto& [engine, trips] : app.dispatcher.breaker().trips())
    text.sample("nox_engine_taken_out_total", {{"engine", engine}}, static_cast<double>(trips));
  text.family("nox_engine_out", "gauge", "1 while the circuit breaker keeps the engine out of this instance's claims");
  for (const auto& out : app.dispatcher.breaker().open()) text.sample("nox_engine_out", {{"engine", out.engine}}, 1);
  app.cache.counters.render(text);
  text.family("nox_sse_subscribers", "gauge", "open event streams on this instance");
  text.sample("nox_sse_subscribers", {}, app.events ? static_cast<double>(app.events->subscribers()) : 0);
  text.family("nox_http_connections", "gauge", "open HTTP connections");
  text.sample("nox_http_connections", {}, static_cast<double>(app.open_connections));
  if (app.status_cache) {
    text.family("nox_status_cache_requests_total", "counter", "GET /jobs/{id}/status answered from the cache, or not");
    text.sample("nox_status_cache_requests_total", {{"result", "hit"}}, static_cast<double>(app.status_cache->hits()));
    text.sample("nox_status_cache_requests_total", {{"result", "miss"}}, static_cast<double>(app.status_cache->misses()));
  }
  app.store.write_metrics(text);
  text.family("nox_log_lines_dropped_total", "counter", "log lines dropped because the output was too slow");
  text.sample("nox_log_lines_dropped_total", {}, static_cast<double>(log_lines_dropped()));
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = text.take();
  co_return response;
}

}  // namespace nox::routes
