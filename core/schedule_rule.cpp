#include "core/schedule_rule.hpp"

#include <algorithm>

namespace nox {

std::optional<TimeMs> ScheduleRule::next_after(TimeMs after) const {
  if (cron) return cron->next_after(after, zone);
  if (every_ms <= 0) return std::nullopt;
  if (after < anchor) return anchor;
  return anchor + ((after - anchor) / every_ms + 1) * every_ms;
}

std::chrono::milliseconds ScheduleRule::grace() const {
  if (cron) return std::chrono::seconds(30);
  return std::chrono::milliseconds(std::clamp<std::int64_t>(every_ms / 2, 1000, 30000));
}

FirePlan plan_fire(const ScheduleRule& rule, TimeMs due, TimeMs now, MissedTicks missed) {
  FirePlan plan;
  const std::int64_t grace = rule.grace().count();
  if (now - due <= grace) {
    plan.fire = due;
    plan.next = rule.next_after(due);
    return plan;
  }
  // Late: find the last tick at or before now. Intervals by arithmetic; cron tick by tick, up
  // to a bound (a minutely schedule down for 70 days), beyond which the count is a floor.
  TimeMs latest = due;
  std::uint64_t passed = 0;  // ticks after `due` up to `latest`
  if (!rule.cron && rule.every_ms > 0) {
    passed = static_cast<std::uint64_t>((now - due) / rule.every_ms);
    latest = due + static_cast<std::int64_t>(passed) * rule.every_ms;
  } else {
    constexpr std::uint64_t most = 100000;
    for (auto tick = rule.next_after(latest); tick && *tick <= now && passed < most; tick = rule.next_after(latest)) {
      latest = *tick;
      ++passed;
    }
  }
  const bool latest_on_time = now - latest <= grace;
  if (missed == MissedTicks::fire_once || latest_on_time) {
    plan.fire = latest;
    plan.missed = passed;
  } else {
    plan.missed = passed + 1;
  }
  plan.next = rule.next_after(std::max(latest, now));
  return plan;
}

}  // namespace nox
