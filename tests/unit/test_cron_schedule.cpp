// Cron expressions (core/cron_schedule.hpp): what they accept, when they fire next, and what
// they do across daylight saving changes.
#include <boost/test/unit_test.hpp>

#include "core/clock.hpp"
#include "core/cron_schedule.hpp"
#include "core/time_zone.hpp"

namespace {

nox::CronSchedule cron(std::string_view expression) {
  std::string problem;
  auto schedule = nox::CronSchedule::parse(expression, &problem);
  BOOST_TEST_REQUIRE(schedule.has_value(), problem);
  return *schedule;
}

nox::TimeZone zone(std::string_view name) {
  std::string problem;
  auto loaded = nox::TimeZone::load_from("/usr/share/zoneinfo", name, &problem);
  BOOST_TEST_REQUIRE(loaded.has_value(), problem);
  return *loaded;
}

// The next firing after `after` as RFC 3339, or "never".
std::string next(std::string_view expression, std::string_view after,
                 const nox::TimeZone& in = nox::TimeZone::utc()) {
  const auto at = cron(expression).next_after(nox::parse_rfc3339(after).value(), in);
  return at ? nox::to_rfc3339(*at) : "never";
}

std::string problem_of(std::string_view expression) {
  std::string problem;
  BOOST_TEST(!nox::CronSchedule::parse(expression, &problem).has_value(), expression);
  return problem;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cron_schedule)

BOOST_AUTO_TEST_CASE(every_minute_and_every_quarter_hour) {
  BOOST_TEST(next("* * * * *", "2026-05-05T10:00:30Z") == "2026-05-05T10:01:00.000Z");
  BOOST_TEST(next("*/15 * * * *", "2026-05-05T10:07:00Z") == "2026-05-05T10:15:00.000Z");
  BOOST_TEST(next("*/15 * * * *", "2026-05-05T23:45:00Z") == "2026-05-06T00:00:00.000Z");
  BOOST_TEST(cron(" */15  *\t* * * ").text() == " */15  *\t* * * ");
}

BOOST_AUTO_TEST_CASE(the_next_tick_is_strictly_after) {
  BOOST_TEST(next("0 * * * *", "2026-05-05T10:00:00Z") == "2026-05-05T11:00:00.000Z");
  BOOST_TEST(next("0 * * * *", "2026-05-05T09:59:59.999Z") == "2026-05-05T10:00:00.000Z");
  BOOST_TEST(next("* * * * *", "2026-05-05T10:00:00Z") == "2026-05-05T10:01:00.000Z");
}

BOOST_AUTO_TEST_CASE(weekdays_skip_the_weekend) {
  // 2026-05-08 is a Friday.
  BOOST_TEST(next("0 9 * * mon-fri", "2026-05-08T09:00:00Z") == "2026-05-11T09:00:00.000Z");
  BOOST_TEST(next("0 9 * * 1-5", "2026-05-08T08:00:00Z") == "2026-05-08T09:00:00.000Z");
  BOOST_TEST(next("0 0 * * 7", "2026-05-08T12:00:00Z") == "2026-05-10T00:00:00.000Z");  // 7 is Sunday
  BOOST_TEST(next("0 0 * * 0", "2026-05-08T12:00:00Z") == "2026-05-10T00:00:00.000Z");
  BOOST_TEST(next("0 0 * * 5-7", "2026-05-09T12:00:00Z") == "2026-05-10T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(the_first_of_the_month_and_macros) {
  BOOST_TEST(next("0 0 1 * *", "2026-05-05T10:00:00Z") == "2026-06-01T00:00:00.000Z");
  BOOST_TEST(next("0 0 1 * *", "2026-12-15T00:00:00Z") == "2027-01-01T00:00:00.000Z");
  BOOST_TEST(next("@monthly", "2026-12-15T00:00:00Z") == "2027-01-01T00:00:00.000Z");
  BOOST_TEST(next("@hourly", "2026-05-05T10:00:00Z") == "2026-05-05T11:00:00.000Z");
  BOOST_TEST(next("@daily", "2026-05-05T10:00:00Z") == "2026-05-06T00:00:00.000Z");
  BOOST_TEST(next("@midnight", "2026-05-05T10:00:00Z") == "2026-05-06T00:00:00.000Z");
  BOOST_TEST(next("@weekly", "2026-05-05T10:00:00Z") == "2026-05-10T00:00:00.000Z");
  BOOST_TEST(next("@YEARLY", "2026-05-05T10:00:00Z") == "2027-01-01T00:00:00.000Z");
  BOOST_TEST(next("@annually", "2026-05-05T10:00:00Z") == "2027-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(both_day_fields_restricted_means_either) {
  // The 13th, or a Friday: Friday 8th, Wednesday 13th, Friday 15th.
  BOOST_TEST(next("0 0 13 * 5", "2026-05-01T00:00:00Z") == "2026-05-08T00:00:00.000Z");
  BOOST_TEST(next("0 0 13 * 5", "2026-05-08T00:00:00Z") == "2026-05-13T00:00:00.000Z");
  BOOST_TEST(next("0 0 13 * 5", "2026-05-13T00:00:00Z") == "2026-05-15T00:00:00.000Z");
  // A field beginning with * counts as unrestricted, even with a step: then both must match.
  // */5 is Sunday and Friday: the next 13th on either is Sunday 13 September.
  BOOST_TEST(next("0 0 13 * */5", "2026-05-01T00:00:00Z") == "2026-09-13T00:00:00.000Z");
  // */13 is the 1st, 14th and 27th: the next such Friday is 14 August.
  BOOST_TEST(next("0 0 */13 * 5", "2026-05-01T00:00:00Z") == "2026-08-14T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(names_lists_ranges_and_steps) {
  // July 2026 begins on a Wednesday.
  BOOST_TEST(next("0 12 * jan,JUL Sun", "2026-05-05T00:00:00Z") == "2026-07-05T12:00:00.000Z");
  BOOST_TEST(next("0 12 * Mar-may *", "2026-06-05T00:00:00Z") == "2027-03-01T12:00:00.000Z");
  BOOST_TEST(next("5/20 * * * *", "2026-05-05T10:26:00Z") == "2026-05-05T10:45:00.000Z");
  BOOST_TEST(next("10-30/10 * * * *", "2026-05-05T10:30:00Z") == "2026-05-05T11:10:00.000Z");
  BOOST_TEST(next("0,30 8-9 * * *", "2026-05-05T09:30:00Z") == "2026-05-06T08:00:00.000Z");
  BOOST_TEST(next("0 0 1 */4 *", "2026-05-05T00:00:00Z") == "2026-09-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(february_29_waits_for_a_leap_year) {
  BOOST_TEST(next("0 0 29 2 *", "2026-01-01T00:00:00Z") == "2028-02-29T00:00:00.000Z");
  BOOST_TEST(next("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00.000Z");  // 2100 is none
}

BOOST_AUTO_TEST_CASE(a_date_that_never_comes_is_never) {
  BOOST_TEST(next("0 0 30 2 *", "2026-01-01T00:00:00Z") == "never");
  BOOST_TEST(next("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z") == "never");
  BOOST_TEST(next("0 0 31 2 mon", "2026-01-01T00:00:00Z") == "2026-02-02T00:00:00.000Z");  // or a Monday
}

BOOST_AUTO_TEST_CASE(mistakes_are_named_by_field) {
  BOOST_TEST(problem_of("* * * * * *") ==
             "a cron expression has 5 fields (minute hour day-of-month month day-of-week), not 6");
  BOOST_TEST(problem_of("* * * *").find("not 4") != std::string::npos);
  BOOST_TEST(problem_of("") == "the cron expression is empty");
  BOOST_TEST(problem_of("60 * * * *") == "the minute field: 60 is outside 0-59");
  BOOST_TEST(problem_of("0 25 * * *") == "the hour field: 25 is outside 0-23");
  BOOST_TEST(problem_of("0 0 0 * *") == "the day-of-month field: 0 is outside 1-31");
  BOOST_TEST(problem_of("0 0 * 13 *") == "the month field: 13 is outside 1-12");
  BOOST_TEST(problem_of("0 0 * * 8") == "the day-of-week field: 8 is outside 0-7");
  BOOST_TEST(problem_of("0 0 * foo *") ==
             "the month field: \"foo\" is neither a month name (jan-dec) nor a number");
  BOOST_TEST(problem_of("0 0 * * fun") ==
             "the day-of-week field: \"fun\" is neither a weekday name (sun-sat) nor a number");
  BOOST_TEST(problem_of("x * * * *") == "the minute field: \"x\" is not a number");
  BOOST_TEST(problem_of("*/0 * * * *") ==
             "the minute field: the step in \"*/0\" must be a whole number of 1 or more");
  BOOST_TEST(problem_of("0 0 1-5/x * *").find("the day-of-month field: the step") == 0);
  BOOST_TEST(problem_of("5-1 * * * *") ==
             "the minute field: the range \"5-1\" runs backwards; write the smaller value first");
  BOOST_TEST(problem_of("0 0 * * fri-mon") ==
             "the day-of-week field: the range \"fri-mon\" runs backwards; write the smaller value first");
  BOOST_TEST(problem_of("1,,2 * * * *") == "the minute field: \"1,,2\" has an empty list entry");
  BOOST_TEST(problem_of("-5 * * * *") ==
             "the minute field: \"-5\" is not a value, a range (a-b) or a step (*/n, a-b/n, a/n)");
  BOOST_TEST(problem_of("0 1-2-3 * * *").find("the hour field: \"1-2-3\" is not a value") == 0);
  BOOST_TEST(problem_of("0 0 * * 1/2/3").find("the day-of-week field:") == 0);
  BOOST_TEST(problem_of("@reboot") ==
             "\"@reboot\" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly");
}

BOOST_AUTO_TEST_CASE(a_wall_time_skipped_by_spring_forward_fires_when_the_gap_ends) {
  const auto berlin = zone("Europe/Berlin");
  BOOST_TEST(next("30 2 * * *", "2026-03-28T00:00:00Z", berlin) == "2026-03-28T01:30:00.000Z");  // CET
  BOOST_TEST(next("30 2 * * *", "2026-03-28T12:00:00Z", berlin) == "2026-03-29T01:00:00.000Z");  // 03:00 CEST
  BOOST_TEST(next("30 2 * * *", "2026-03-29T01:00:00Z", berlin) == "2026-03-30T00:30:00.000Z");  // CEST
  // Several minutes in the gap (02:00-02:45) and 03:00 itself fire once, at the gap's end.
  BOOST_TEST(next("*/15 * * * *", "2026-03-29T00:50:00Z", berlin) == "2026-03-29T01:00:00.000Z");
  BOOST_TEST(next("*/15 * * * *", "2026-03-29T01:00:00Z", berlin) == "2026-03-29T01:15:00.000Z");
}

BOOST_AUTO_TEST_CASE(a_wall_time_repeated_by_fall_back_fires_once) {
  const auto berlin = zone("Europe/Berlin");
  BOOST_TEST(next("30 2 * * *", "2026-10-24T12:00:00Z", berlin) == "2026-10-25T00:30:00.000Z");  // CEST
  BOOST_TEST(next("30 2 * * *", "2026-10-25T00:30:00Z", berlin) ==
             "2026-10-26T01:30:00.000Z");  // not 01:30Z today
  // Within the repeated hour, only first occurrences fire: nothing from 01:00Z to 02:00Z.
  BOOST_TEST(next("*/30 * * * *", "2026-10-25T00:00:00Z", berlin) == "2026-10-25T00:30:00.000Z");
  BOOST_TEST(next("*/30 * * * *", "2026-10-25T00:30:00Z", berlin) == "2026-10-25T02:00:00.000Z");
  BOOST_TEST(next("*/30 * * * *", "2026-10-25T01:10:00Z", berlin) == "2026-10-25T02:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(nine_in_new_york_follows_its_daylight_saving) {
  const auto new_york = zone("America/New_York");
  BOOST_TEST(next("0 9 * * *", "2026-01-15T00:00:00Z", new_york) == "2026-01-15T14:00:00.000Z");
  BOOST_TEST(next("0 9 * * *", "2026-07-15T00:00:00Z", new_york) == "2026-07-15T13:00:00.000Z");
  // The local day, not the UTC one: at 02:00Z on a Saturday it is still Friday in New York.
  BOOST_TEST(next("0 22 * * fri", "2026-05-09T01:00:00Z", new_york) == "2026-05-09T02:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(a_year_of_ticks_walks_quickly_and_in_order) {
  const auto berlin = zone("Europe/Berlin");
  const auto schedule = cron("17 */3 * * *");
  nox::TimeMs at = nox::parse_rfc3339("2026-01-01T00:00:00Z").value();
  int ticks = 0;
  while (at < nox::parse_rfc3339("2027-01-01T00:00:00Z").value()) {
    const auto next_tick = schedule.next_after(at, berlin);
    BOOST_TEST_REQUIRE(next_tick.has_value());
    BOOST_TEST_REQUIRE(*next_tick > at);
    at = *next_tick;
    ++ticks;
  }
  // Eight a day through spring and autumn (03:17 and 00:17 always exist in Berlin); January 1's
  // 00:17 CET is 2025 in UTC, and the count includes the first tick past the end.
  BOOST_TEST(ticks == 365 * 8 + 1);
}

BOOST_AUTO_TEST_SUITE_END()
