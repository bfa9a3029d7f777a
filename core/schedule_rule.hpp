#pragma once
// When a recurring schedule fires (POST /schedules): a cron expression in a time zone
// (core/cron_schedule.hpp), or a fixed interval counted from an anchor ("every_s": 3600), and
// what to do with ticks that passed while no instance was there to fire them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/cron_schedule.hpp"
#include "core/time_zone.hpp"

namespace nox {

struct ScheduleRule {
  std::optional<CronSchedule> cron;  // set: cron in `zone`; else every_ms from anchor
  TimeZone zone = TimeZone::utc();
  std::int64_t every_ms = 0;
  TimeMs anchor = 0;

  // The first tick strictly after `after`; nullopt: never again (a cron that cannot match).
  std::optional<TimeMs> next_after(TimeMs after) const;
  // How late a tick may fire and still count as on time: half an interval (at least 1 s, at
  // most 30 s) for intervals, 30 s for cron (whose ticks are whole minutes).
  std::chrono::milliseconds grace() const;
};

// Ticks missed while every instance was down (or the store away): fire one job for them all
// when the schedule is back (fire_once, the default, as cron's anacron and Celery beat do), or
// none (skip: only ticks on time run).
enum class MissedTicks { fire_once, skip };

struct FirePlan {
  std::optional<TimeMs> fire;  // the tick whose job to create now (its id derives from it)
  std::uint64_t missed = 0;    // ticks passed over without a job of their own
  std::optional<TimeMs> next;  // the schedule's next tick; nullopt: it never fires again
};

// What the instance that found the schedule due at `now`, its next tick being `due`, does. Every
// instance reaching the same tick plans the same job (the same `fire`) so that its id, not
// timing, makes the tick fire once.
FirePlan plan_fire(const ScheduleRule& rule, TimeMs due, TimeMs now, MissedTicks missed);

}  // namespace nox
