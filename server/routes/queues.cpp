// The queue as an operator sees it: GET /queue (depth by state, priority, queue and compute
// tag, the oldest pending job's age, what each instance runs), and the named queues' controls:
// POST /queues/{name}/pause and /resume, PUT /queues/{name} {"concurrency": n}. Controls live in
// the store, so every instance on a shared Redis obeys them at its next claim.
#include <boost/json.hpp>

#include "core/job_spec.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/request_body.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object control_json(const std::string& name, const QueueDepth& depth) {
  return {{"name", name},
          {"pending", depth.pending},
          {"running", depth.running},
          {"paused", depth.control.paused},
          {"concurrency", depth.control.concurrency == 0 ? json::value(nullptr) : json::value(depth.control.concurrency)}};
}

std::optional<HttpResponse> refuse_queue_name(const std::string& name) {
  if (is_queue_name(name)) return std::nullopt;
  return error_response(422, "invalid_queue", "a queue name is 1 to 64 characters of a-z 0-9 _ -, got \"" + name + "\"");
}

// The change is applied in one step in the store; the answer gives the controls it left and the
// queue's depth read after it.
asio::awaitable<HttpResponse> set_control(App& app, const std::string& name, QueueControlChange change) {
  if (auto refused = refuse_queue_name(name)) co_return std::move(*refused);
  auto control = co_await app.store.control_queue(name, change);
  if (!control) co_return store_error_response(control.error());
  auto overview = co_await app.store.queue_overview();
  if (!overview) co_return store_error_response(overview.error());
  auto it = overview->queues.find(name);
  QueueDepth depth = it == overview->queues.end() ? QueueDepth{} : it->second;
  depth.control = *control;
  co_return json_response(200, control_json(name, depth));
}

}  // namespace

asio::awaitable<HttpResponse> queue_overview(App& app, const HttpRequest&, const PathParams&) {
  auto overview = co_await app.store.queue_overview();
  if (!overview) co_return store_error_response(overview.error());
  auto workers = co_await app.store.workers();
  if (!workers) co_return store_error_response(workers.error());
  json::object by_priority;
  for (auto it = overview->pending_by_priority.rbegin(); it != overview->pending_by_priority.rend(); ++it)
    by_priority[std::to_string(it->first)] = it->second;
  json::array queues;
  for (const auto& [name, depth] : overview->queues) queues.push_back(control_json(name, depth));
  json::object by_tag;
  for (const auto& [tag, pending] : overview->pending_by_requirement) by_tag[tag] = pending;
  json::array instances;
  for (const WorkerInfo& w : *workers)
    instances.push_back(json::object{{"worker_id", w.id}, {"host", w.host}, {"running", w.busy}, {"slots", w.slots}});
  const TimeMs oldest = overview->oldest_pending_created_at;
  json::object body{
      {"states", json::object{{"pending", overview->pending},
                              {"running", overview->running},
                              {"scheduled", overview->scheduled},
                              {"waiting", overview->waiting}}},
      {"oldest_pending_age_s", oldest == 0 ? json::value(nullptr)
                                           : json::value(static_cast<double>(std::max<TimeMs>(0, now_ms() - oldest)) / 1000.0)},
      {"pending_by_priority", std::move(by_priority)},
      {"pending_by_required_tag", std::move(by_tag)},
      {"queues", std::move(queues)},
      {"instances", std::move(instances)},
  };
  co_return json_response(200, body);
}

asio::awaitable<HttpResponse> pause_queue(App& app, const HttpRequest&, const PathParams& params) {
  co_return co_await set_control(app, std::string(params.get("name")), QueueControlChange{.paused = true});
}

asio::awaitable<HttpResponse> resume_queue(App& app, const HttpRequest&, const PathParams& params) {
  co_return co_await set_control(app, std::string(params.get("name")), QueueControlChange{.paused = false});
}

asio::awaitable<HttpResponse> configure_queue(App& app, const HttpRequest& request, const PathParams& params) {
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  const json::object* fields = std::get<json::value>(body).if_object();
  if (!fields) co_return error_response(422, "invalid_queue", "expected an object like {\"concurrency\": 4, \"paused\": false}");
  QueueControlChange change;
  for (const auto& [key, value] : *fields) {
    if (key == "paused" && value.is_bool()) {
      change.paused = value.get_bool();
    } else if (key == "concurrency" && value.is_null()) {
      change.concurrency = 0;
    } else if (key == "concurrency" && value.is_int64() && value.get_int64() >= 0 && value.get_int64() <= 100000) {
      change.concurrency = static_cast<std::uint64_t>(value.get_int64());
    } else {
      co_return error_response(422, "invalid_queue",
                               "field \"" + std::string(key) +
                                   "\": expected concurrency (a whole number from 1 to 100000; 0 or null: no bound) "
                                   "or paused (true or false)");
    }
  }
  co_return co_await set_control(app, std::string(params.get("name")), change);
}

}  // namespace nox::routes
