// Recurring schedules (server/schedules.hpp): POST /schedules takes a cron expression (with a
// time zone) or an interval, and a job spec checked and completed as POST /jobs would; GET
// /schedules, GET /schedules/{id}, POST /schedules/{id}/pause and /resume, DELETE
// /schedules/{id}. Owners see their own schedules only; another owner's answers 404.
#include <boost/json.hpp>

#include "core/job_id.hpp"
#include "core/random.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/request_body.hpp"
#include "server/routes/job_admission.hpp"
#include "server/routes/routes.hpp"
#include "server/schedules.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

HttpResponse schedule_not_found(std::string_view id) {
  return error_response(404, "schedule_not_found", "no schedule " + std::string(id));
}

// The schedule if the caller may see it; another owner's is not found, as a missing one.
asio::awaitable<std::variant<Schedule, HttpResponse>> visible_schedule(App& app, const HttpRequest& request,
                                                                      std::string_view id) {
  if (!is_valid_job_id(id)) co_return schedule_not_found(id);
  auto record = co_await app.store.get_schedule(std::string(id));
  if (!record) co_return store_error_response(record.error(), "schedule_not_found");
  if (!request.identity.sees_owner(record->owner)) co_return schedule_not_found(id);
  std::optional<Schedule> schedule = from_record(*record);
  if (!schedule) co_return error_response(500, "internal_error", "the stored schedule " + std::string(id) + " is unreadable");
  co_return std::move(*schedule);
}

// Pauses or resumes; a resumed schedule fires from its next tick after now (the paused time
// is not made up for). Another instance may advance it meanwhile: read again and retry.
asio::awaitable<HttpResponse> set_paused(App& app, const HttpRequest& request, std::string_view id, bool paused) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto found = co_await visible_schedule(app, request, id);
    if (auto* refused = std::get_if<HttpResponse>(&found)) co_return std::move(*refused);
    Schedule& schedule = std::get<Schedule>(found);
    if (!paused && schedule.paused) {
      auto rule = rule_of(schedule);
      if (auto* problem = std::get_if<std::string>(&rule)) co_return error_response(409, "invalid_state", *problem);
      auto next = std::get<ScheduleRule>(rule).next_after(now_ms());
      if (!next) co_return error_response(409, "invalid_state", "its cron expression matches no time in the next eight years");
      schedule.next_fire_at = *next;
      schedule.last_error.clear();
    }
    schedule.paused = paused;
    auto saved = co_await app.store.save_schedule(to_record(schedule));
    if (saved) {
      schedule.revision = saved->revision;
      co_return json_response(200, schedule_json(schedule));
    }
    if (saved.error().code != StoreErrc::conflict) co_return store_error_response(saved.error(), "schedule_not_found");
  }
  co_return error_response(503, "store_unavailable", "the schedule kept changing; try again");
}

}  // namespace

asio::awaitable<HttpResponse> create_schedule(App& app, const HttpRequest& request, const PathParams&) {
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  const json::object* fields = std::get<json::value>(body).if_object();
  if (!fields)
    co_return error_response(422, "invalid_schedule",
                             "a schedule is an object: {\"cron\": \"0 3 * * *\", \"time_zone\": \"Europe/Berlin\", \"job\": {...}}");
  Schedule schedule;
  FieldErrors errors = read_schedule_fields(*fields, schedule);
  std::optional<JobSpec> spec;
  if (const json::value* job = fields->if_contains("job")) spec = parse_spec(app, *job, "job.", errors);
  if (spec) {
    if (spec->run_at || spec->delay_s)
      errors.push_back({"job.run_at", "a schedule's job runs at its ticks: run_at and delay_s do not apply"});
    if (!spec->depends_on.empty() || spec->molecule_from_job)
      errors.push_back({"job.depends_on", "a schedule's job cannot depend on other jobs (submit a workflow instead)"});
  }
  if (!errors.empty() || !spec) co_return field_errors_response(errors, "invalid_schedule", "the schedule");
  spec->clear_server_links();
  auto job = co_await admit_one(app, request, *spec, errors, "job.");
  if (!job) co_return field_errors_response(errors, "invalid_schedule", "the schedule");

  schedule.id = new_job_id();
  schedule.owner = request.identity.name;
  schedule.secret = secure_random_hex();
  schedule.created_at = now_ms();
  schedule.job = job_to_record(*job);
  auto next = std::get<ScheduleRule>(rule_of(schedule)).next_after(schedule.created_at);
  if (!next) co_return error_response(422, "invalid_schedule", "cron: the expression matches no time in the next eight years");
  schedule.next_fire_at = *next;
  auto created = co_await app.store.create_schedule(to_record(schedule));
  if (!created) co_return store_error_response(created.error(), "schedule_not_found");
  schedule.revision = created->revision;
  HttpResponse response = json_response(201, schedule_json(schedule));
  response.headers.emplace_back("Location", "/schedules/" + schedule.id);
  co_return response;
}

asio::awaitable<HttpResponse> list_schedules(App& app, const HttpRequest& request, const PathParams&) {
  auto records = co_await app.store.list_schedules(request.identity.confined_to().value_or(""));
  if (!records) co_return store_error_response(records.error());
  json::array out;
  for (const ScheduleRecord& record : *records)
    if (auto schedule = from_record(record)) out.push_back(schedule_json(*schedule));
  co_return json_response(200, json::object{{"schedules", std::move(out)}});
}

asio::awaitable<HttpResponse> get_schedule(App& app, const HttpRequest& request, const PathParams& params) {
  auto found = co_await visible_schedule(app, request, params.get("id"));
  if (auto* refused = std::get_if<HttpResponse>(&found)) co_return std::move(*refused);
  co_return json_response(200, schedule_json(std::get<Schedule>(found)));
}

asio::awaitable<HttpResponse> pause_schedule(App& app, const HttpRequest& request, const PathParams& params) {
  co_return co_await set_paused(app, request, params.get("id"), true);
}

asio::awaitable<HttpResponse> resume_schedule(App& app, const HttpRequest& request, const PathParams& params) {
  co_return co_await set_paused(app, request, params.get("id"), false);
}

asio::awaitable<HttpResponse> delete_schedule(App& app, const HttpRequest& request, const PathParams& params) {
  auto found = co_await visible_schedule(app, request, params.get("id"));
  if (auto* refused = std::get_if<HttpResponse>(&found)) co_return std::move(*refused);
  auto removed = co_await app.store.remove_schedule(std::get<Schedule>(found).id);
  if (!removed) co_return store_error_response(removed.error(), "schedule_not_found");
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  co_return response;
}

}  // namespace nox::routes
