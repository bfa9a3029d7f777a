#include "server/schedules.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>

#include "core/job.hpp"
#include "core/job_id.hpp"
#include "core/json_serialize.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "server/app.hpp"
#include "server/routes/job_admission.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr double min_every_s = 1;
constexpr double max_every_s = 366.0 * 86400;
constexpr std::size_t max_name = 200;
constexpr std::size_t due_per_pass = 100;

std::string_view missed_name(MissedTicks missed) { return missed == MissedTicks::skip ? "skip" : "fire_once"; }

json::value time_or_null(TimeMs t) { return t == 0 ? json::value(nullptr) : json::value(to_rfc3339(t)); }

// 3600, not 3.6E3, for whole seconds.
json::value seconds_value(double s) {
  return std::floor(s) == s && s < 1e15 ? json::value(static_cast<std::int64_t>(s)) : json::value(s);
}

}  // namespace

std::variant<ScheduleRule, std::string> rule_of(const Schedule& schedule) {
  ScheduleRule rule;
  if (!schedule.cron.empty()) {
    std::string problem;
    rule.cron = CronSchedule::parse(schedule.cron, &problem);
    if (!rule.cron) return problem;
    auto zone = TimeZone::load(schedule.time_zone, &problem);
    if (!zone) return problem;
    rule.zone = std::move(*zone);
  } else {
    rule.every_ms = static_cast<std::int64_t>(std::llround(schedule.every_s * 1000));
    rule.anchor = schedule.created_at;
  }
  return rule;
}

FieldErrors read_schedule_fields(const json::object& body, Schedule& schedule) {
  FieldErrors errors;
  for (const auto& [key, value] : body) {
    if (key != "name" && key != "cron" && key != "every_s" && key != "time_zone" && key != "missed" && key != "paused" &&
        key != "job")
      errors.push_back({std::string(key), "unknown field (a schedule has name, cron or every_s, time_zone, missed, "
                                          "paused and job)"});
  }
  if (const json::value* name = body.if_contains("name")) {
    if (!name->is_string() || name->get_string().size() > max_name)
      errors.push_back({"name", "a schedule's name is a string of at most 200 characters"});
    else
      schedule.name = std::string(name->get_string());
  }
  const json::value* cron = body.if_contains("cron");
  const json::value* every = body.if_contains("every_s");
  if ((cron != nullptr) == (every != nullptr)) {
    errors.push_back({"cron", "give either cron (\"0 3 * * *\") or every_s (seconds between runs), not both"});
  } else if (cron) {
    std::string problem;
    if (!cron->is_string()) errors.push_back({"cron", "a cron expression is a string like \"0 3 * * mon-fri\""});
    else if (!CronSchedule::parse(cron->get_string(), &problem)) errors.push_back({"cron", problem});
    else schedule.cron = std::string(cron->get_string());
  } else {
    const double seconds = every->is_number() ? every->to_number<double>() : -1;
    if (!(seconds >= min_every_s && seconds <= max_every_s))
      errors.push_back({"every_s", "seconds between runs: a number from 1 to 31622400 (366 days)"});
    else
      schedule.every_s = seconds;
  }
  if (const json::value* zone = body.if_contains("time_zone")) {
    std::string problem;
    if (!zone->is_string()) errors.push_back({"time_zone", "an IANA time zone name like \"Europe/Berlin\""});
    else if (!TimeZone::load(zone->get_string(), &problem)) errors.push_back({"time_zone", problem});
    else schedule.time_zone = std::string(zone->get_string());
    if (every && zone->is_string() && errors.empty() && schedule.time_zone != "UTC")
      errors.push_back({"time_zone", "an interval (every_s) runs on elapsed time: a time zone applies to cron only"});
  }
  if (const json::value* missed = body.if_contains("missed")) {
    const std::string text = missed->is_string() ? std::string(missed->get_string()) : std::string();
    if (text == "fire_once") schedule.missed = MissedTicks::fire_once;
    else if (text == "skip") schedule.missed = MissedTicks::skip;
    else errors.push_back({"missed", "what to do with ticks missed while no instance ran: \"fire_once\" or \"skip\""});
  }
  if (const json::value* paused = body.if_contains("paused")) {
    if (!paused->is_bool()) errors.push_back({"paused", "true or false"});
    else schedule.paused = paused->get_bool();
  }
  if (!body.contains("job")) errors.push_back({"job", "the job spec to submit at each tick is missing"});
  return errors;
}

ScheduleRecord to_record(const Schedule& schedule) {
  json::object body{{"name", schedule.name},
                    {"cron", schedule.cron},
                    {"every_s", schedule.every_s},
                    {"time_zone", schedule.time_zone},
                    {"missed", missed_name(schedule.missed)},
                    {"job", schedule.job},
                    {"secret", schedule.secret},
                    {"created_at", schedule.created_at},
                    {"fired", schedule.fired},
                    {"missed_ticks", schedule.missed_ticks},
                    {"last_fired_at", schedule.last_fired_at},
                    {"last_job_id", schedule.last_job_id},
                    {"last_error", schedule.last_error}};
  return ScheduleRecord{schedule.id,           schedule.owner,  serialize_json(body),
                        schedule.next_fire_at, schedule.paused, schedule.revision};
}

std::optional<Schedule> from_record(const ScheduleRecord& record) {
  boost::system::error_code ec;
  json::value parsed = json::parse(record.body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& body = parsed.get_object();
  Schedule schedule;
  schedule.id = record.id;
  schedule.owner = record.owner;
  schedule.next_fire_at = record.next_fire_at;
  schedule.paused = record.paused;
  schedule.revision = record.revision;
  schedule.name = text_of(body, "name");
  schedule.cron = text_of(body, "cron");
  schedule.every_s = number_of(body, "every_s").value_or(0);
  schedule.time_zone = text_of(body, "time_zone");
  schedule.missed = text_of(body, "missed") == "skip" ? MissedTicks::skip : MissedTicks::fire_once;
  if (const json::value* job = body.if_contains("job"); job && job->is_object()) schedule.job = job->get_object();
  schedule.secret = text_of(body, "secret");
  schedule.created_at = static_cast<TimeMs>(number_of(body, "created_at").value_or(0));
  schedule.fired = static_cast<std::uint64_t>(number_of(body, "fired").value_or(0));
  schedule.missed_ticks = static_cast<std::uint64_t>(number_of(body, "missed_ticks").value_or(0));
  schedule.last_fired_at = static_cast<TimeMs>(number_of(body, "last_fired_at").value_or(0));
  schedule.last_job_id = text_of(body, "last_job_id");
  schedule.last_error = text_of(body, "last_error");
  if (schedule.job.empty() || schedule.secret.empty()) return std::nullopt;
  return schedule;
}

json::object schedule_json(const Schedule& schedule) {
  json::object spec;
  if (const json::value* stored = schedule.job.if_contains("spec"); stored && stored->is_object())
    spec = stored->get_object();
  const std::string url = "/schedules/" + schedule.id;
  return {{"schedule_id", schedule.id},
          {"url", url},
          {"name", schedule.name},
          {"cron", schedule.cron.empty() ? json::value(nullptr) : json::value(schedule.cron)},
          {"every_s", schedule.cron.empty() ? seconds_value(schedule.every_s) : json::value(nullptr)},
          {"time_zone", schedule.time_zone},
          {"missed", missed_name(schedule.missed)},
          {"paused", schedule.paused},
          {"next_fire_at", schedule.paused ? json::value(nullptr) : time_or_null(schedule.next_fire_at)},
          {"created_at", to_rfc3339(schedule.created_at)},
          {"fired", schedule.fired},
          {"missed_ticks", schedule.missed_ticks},
          {"last_fired_at", time_or_null(schedule.last_fired_at)},
          {"last_job_id", schedule.last_job_id.empty() ? json::value(nullptr) : json::value(schedule.last_job_id)},
          {"last_error", schedule.last_error.empty() ? json::value(nullptr) : json::value(schedule.last_error)},
          {"jobs_url", "/jobs?tag=" + schedule_tag(schedule.id)},
          {"job", std::move(spec)}};
}

namespace {

// The job of one tick: the template with an id of its own, made now.
Job job_of_tick(const Schedule& schedule, TimeMs tick) {
  Job job = job_from_record(schedule.job);
  job.id = job_id_for("schedule:" + schedule.secret + ":" + std::to_string(tick));
  job.state = JobState::pending;
  job.created_at = now_ms();
  job.spec["schedule_id"] = schedule.id;
  return job;
}

// Fires `id` if it is still due: creates its tick's job (once, whichever instance gets there)
// and advances it. Returns false when the store could not be reached (the next pass tries again).
asio::awaitable<bool> fire_one(App& app, const std::string& id, TimeMs now) {
  auto record = co_await app.store.get_schedule(id);
  if (!record) co_return record.error().code != StoreErrc::unavailable;
  if (record->paused || record->next_fire_at > now) co_return true;  // another instance advanced it
  std::optional<Schedule> schedule = from_record(*record);
  if (!schedule) {
    log_warn("schedule " + id + ": its stored record is unreadable; it is paused");
    record->paused = true;
    co_await app.store.save_schedule(*record);
    co_return true;
  }
  auto rule = rule_of(*schedule);
  if (auto* problem = std::get_if<std::string>(&rule)) {
    schedule->last_error = *problem;
    schedule->paused = true;
    co_await app.store.save_schedule(to_record(*schedule));
    co_return true;
  }
  const FirePlan plan = plan_fire(std::get<ScheduleRule>(rule), schedule->next_fire_at, now, schedule->missed);
  schedule->missed_ticks += plan.missed;
  schedule->last_error.clear();
  if (plan.fire) {
    CreateBounds bounds;
    bounds.max_unfinished_total = app.settings.max_queued;
    if (!schedule->owner.empty()) bounds.max_unfinished_of_owner = app.settings.max_queued_per_owner;
    auto created = co_await routes::create_or_find(app, job_of_tick(*schedule, *plan.fire), bounds, /*idempotent=*/true);
    if (!created && created.error().code == StoreErrc::unavailable) co_return false;
    if (created) {
      schedule->fired += 1;
      schedule->last_fired_at = *plan.fire;
      schedule->last_job_id = created->id;
    } else {
      // Full, over a bound: this tick makes no job; the schedule goes on.
      schedule->missed_ticks += 1;
      schedule->last_error = created.error().message;
      log_warn("schedule " + id + ": the tick of " + to_rfc3339(*plan.fire) + " made no job: " + created.error().message);
    }
  }
  if (plan.next) {
    schedule->next_fire_at = *plan.next;
  } else {
    schedule->paused = true;
    schedule->last_error = "its cron expression matches no time in the next eight years";
  }
  // Another instance may have advanced it meanwhile (conflict): its job was this one.
  auto saved = co_await app.store.save_schedule(to_record(*schedule));
  co_return saved || saved.error().code != StoreErrc::unavailable;
}

}  // namespace

asio::awaitable<void> fire_schedules(App& app) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!app.stopping) {
    const TimeMs now = now_ms();
    if (auto due = co_await app.store.due_schedules(now, due_per_pass)) {
      for (const std::string& id : *due)
        if (!co_await fire_one(app, id, now)) break;
    }
    // At the start of the next second: a tick fires within about a second of its time.
    timer.expires_after(std::chrono::milliseconds(1000 - now_ms() % 1000));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace nox
