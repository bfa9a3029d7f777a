// Recurring schedules' ticks and what happens to ticks missed while no instance was there.
#include <boost/test/unit_test.hpp>

#include "core/schedule_rule.hpp"

using namespace nox;

namespace {

TimeMs at(const char* text) { return *parse_rfc3339(text); }

ScheduleRule every(std::int64_t ms, TimeMs anchor) {
  ScheduleRule rule;
  rule.every_ms = ms;
  rule.anchor = anchor;
  return rule;
}

ScheduleRule cron(const char* expression, const char* zone = "UTC") {
  ScheduleRule rule;
  rule.cron = CronSchedule::parse(expression);
  rule.zone = *TimeZone::load(zone);
  return rule;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schedule_rule)

BOOST_AUTO_TEST_CASE(intervals_count_from_their_anchor) {
  const ScheduleRule rule = every(60000, at("2026-12-01T10:00:30Z"));
  BOOST_TEST(*rule.next_after(at("2026-12-01T09:00:00Z")) == at("2026-12-01T10:00:30Z"));
  BOOST_TEST(*rule.next_after(at("2026-12-01T10:00:30Z")) == at("2026-12-01T10:01:30Z"));  // strictly after
  BOOST_TEST(*rule.next_after(at("2026-12-01T10:05:00Z")) == at("2026-12-01T10:05:30Z"));
  BOOST_TEST(rule.grace().count() == 30000);
  BOOST_TEST(every(1000, 0).grace().count() == 1000);
}

BOOST_AUTO_TEST_CASE(a_tick_on_time_fires_itself) {
  const ScheduleRule rule = cron("0 * * * *");
  const FirePlan plan = plan_fire(rule, at("2026-12-01T10:00:00Z"), at("2026-12-01T10:00:02Z"), MissedTicks::skip);
  BOOST_TEST(*plan.fire == at("2026-12-01T10:00:00Z"));
  BOOST_TEST(plan.missed == 0u);
  BOOST_TEST(*plan.next == at("2026-12-01T11:00:00Z"));
}

BOOST_AUTO_TEST_CASE(ticks_missed_while_down_fire_once_or_are_skipped) {
  const ScheduleRule rule = cron("0 * * * *");
  const TimeMs due = at("2026-12-01T10:00:00Z");
  const TimeMs back = at("2026-12-01T13:20:00Z");  // down for 10:00, 11:00, 12:00, 13:00
  FirePlan once = plan_fire(rule, due, back, MissedTicks::fire_once);
  BOOST_TEST(*once.fire == at("2026-12-01T13:00:00Z"));  // the latest, standing for them all
  BOOST_TEST(once.missed == 3u);
  BOOST_TEST(*once.next == at("2026-12-01T14:00:00Z"));
  FirePlan skipped = plan_fire(rule, due, back, MissedTicks::skip);
  BOOST_TEST(!skipped.fire.has_value());
  BOOST_TEST(skipped.missed == 4u);
  BOOST_TEST(*skipped.next == at("2026-12-01T14:00:00Z"));
  // Back just after a tick: that one is on time and fires, even when skipping.
  FirePlan on_time = plan_fire(rule, due, at("2026-12-01T13:00:10Z"), MissedTicks::skip);
  BOOST_TEST(*on_time.fire == at("2026-12-01T13:00:00Z"));
  BOOST_TEST(on_time.missed == 3u);
}

BOOST_AUTO_TEST_CASE(intervals_find_their_latest_tick_by_arithmetic) {
  const ScheduleRule rule = every(1000, at("2026-12-01T10:00:00Z"));
  const FirePlan plan =
      plan_fire(rule, at("2026-12-01T10:00:00Z"), at("2026-12-31T10:00:00.500Z"), MissedTicks::fire_once);
  BOOST_TEST(*plan.fire == at("2026-12-31T10:00:00Z"));
  BOOST_TEST(plan.missed == 30u * 86400u);
  BOOST_TEST(*plan.next == at("2026-12-31T10:00:01Z"));
}

BOOST_AUTO_TEST_CASE(a_schedule_that_cannot_match_never_fires_again) {
  const ScheduleRule rule = cron("0 0 30 2 *");
  BOOST_TEST(!rule.next_after(at("2026-12-01T10:00:00Z")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
