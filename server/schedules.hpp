#pragma once
// Recurring schedules (POST /schedules): a job template fired by a cron expression in a time
// zone, or every so many seconds. Every instance looks for due schedules each second; each tick
// fires exactly once across all of them because the job it creates has an id derived from the
// schedule and the tick (job_id_for), which the store refuses to create twice, and the schedule
// advances by a compare-and-set on its revision (Store::save_schedule). What became of ticks
// missed while no instance ran is core/schedule_rule.hpp's plan_fire.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <variant>

#include "core/field_error.hpp"
#include "core/schedule_rule.hpp"
#include "storage/store.hpp"

namespace nox {

struct App;

struct Schedule {
  std::string id;
  std::string owner;
  std::string name;
  std::string cron;      // "" for an interval
  double every_s = 0;    // 0 for a cron expression
  std::string time_zone = "UTC";
  MissedTicks missed = MissedTicks::fire_once;
  boost::json::object job;  // the admitted job it fires, as a store record (job_to_record)
  std::string secret;       // seeds its jobs' ids: they cannot be guessed from the schedule's
  TimeMs created_at = 0;
  TimeMs next_fire_at = 0;
  bool paused = false;
  std::uint64_t revision = 0;
  std::uint64_t fired = 0;         // jobs created
  std::uint64_t missed_ticks = 0;  // ticks that made no job of their own
  TimeMs last_fired_at = 0;        // the tick of the last job created
  std::string last_job_id;
  std::string last_error;  // why the last tick made no job ("" when it did)
};

// The rule (cron in its zone, or the interval from created_at), or why there is none.
std::variant<ScheduleRule, std::string> rule_of(const Schedule& schedule);

// POST /schedules: everything but the job template, checked (fields named as in the body).
// Fills name, cron or every_s, time_zone, missed and paused of `schedule`.
FieldErrors read_schedule_fields(const boost::json::object& body, Schedule& schedule);

ScheduleRecord to_record(const Schedule& schedule);
std::optional<Schedule> from_record(const ScheduleRecord& record);
// The API's form (GET /schedules/{id}).
boost::json::object schedule_json(const Schedule& schedule);

// Looks for due schedules every second and fires them, on every instance.
boost::asio::awaitable<void> fire_schedules(App& app);

}  // namespace nox
