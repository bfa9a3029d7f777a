#pragma once
// Calendar arithmetic on the proleptic Gregorian calendar, free of the C library's time zone
// state (timegm, localtime_r): time zones and cron schedules both count days with it.
#include <cstdint>

namespace nox {

// A wall-clock reading: what a calendar and a clock on the wall show, in no particular zone.
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a date. A day past the end of its
// month rolls over into the next (the day enters linearly), which date arithmetic relies on.
constexpr std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;
  const std::int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// Howard Hinnant's civil_from_days: the date `days` after 1970-01-01 (time of day left at 0).
constexpr CivilTime civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;  // March = 0: leap days come last
  const int day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  const int month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  return {static_cast<int>(year_of_era + era * 400 + (month <= 2)), month, day, 0, 0, 0};
}

// 0 = Sunday ... 6 = Saturday, as cron and POSIX TZ rules count them. 1970-01-01 was a Thursday.
constexpr int weekday_from_days(std::int64_t days) {
  return static_cast<int>(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

constexpr bool is_leap_year(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr int days_in_month(std::int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Floor division, so instants before 1970 still split into a day and a non-negative remainder.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Seconds since the epoch of a wall-clock reading taken as if it were UTC.
constexpr std::int64_t seconds_from_civil(const CivilTime& t) {
  return days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

constexpr CivilTime civil_from_seconds(std::int64_t seconds) {
  const std::int64_t days = floor_div(seconds, 86400);
  const int of_day = static_cast<int>(seconds - days * 86400);
  CivilTime t = civil_from_days(days);
  t.hour = of_day / 3600;
  t.minute = of_day / 60 % 60;
  t.second = of_day % 60;
  return t;
}

}  // namespace nox
