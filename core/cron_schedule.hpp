#pragma once
// Cron expressions for recurring jobs: when "0 9 * * mon-fri" fires next, in a given time zone.
//
// The five fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec)
// and day of week (0-7 or sun-sat; 0 and 7 are Sunday), each `*`, a value, a range `a-b`, or a
// step over them (`*/n`, `a-b/n`, `a/n` = a up to the field's end), joined into lists with
// commas; names are case-insensitive. @yearly (@annually), @monthly, @weekly, @daily
// (@midnight) and @hourly stand for their usual expressions; @reboot is refused, since a
// schedule fires at times. As in Vixie cron and cronie, when both day fields are restricted
// (neither begins with `*`) a day matches if EITHER does: "0 0 13 * 5" is every 13th and every
// Friday; otherwise a day must match both.
//
// Schedules run on the wall clock of a time zone, at whole minutes. Daylight saving changes:
//   - a wall time that does not exist (spring forward, 02:30 in Berlin on 2026-03-29) fires at
//     the first instant after the gap (03:00 CEST = 01:00Z), once, however many of its minutes
//     fall into the gap ("*/15 * * * *" fires once at 01:00Z for 02:00-02:45 and 03:00 together);
//   - a wall time that occurs twice (fall back, 02:30 in Berlin on 2026-10-25) fires only the
//     first time (00:30Z, not again at 01:30Z).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/time_zone.hpp"

namespace nox {

class CronSchedule {
 public:
  // `problem` gets a sentence naming the field at fault: "the hour field: 25 is outside 0-23".
  static std::optional<CronSchedule> parse(std::string_view expression, std::string* problem = nullptr);

  // The first instant strictly after `after` at which the schedule fires in `zone`. Nothing
  // within eight years (the longest a satisfiable schedule waits: February 29 across 2100, which
  // is no leap year) means never, as for "0 0 30 2 *": nullopt.
  std::optional<TimeMs> next_after(TimeMs after, const TimeZone& zone) const;

  const std::string& text() const { return text_; }

 private:
  bool day_matches(int day_of_month, int weekday) const;

  std::string text_;
  std::uint64_t minutes_ = 0;  // bit n set: n matches
  std::uint64_t hours_ = 0;
  std::uint64_t days_of_month_ = 0;
  std::uint64_t months_ = 0;
  std::uint64_t days_of_week_ = 0;  // Sunday is bit 0 only (7 is folded into it)
  bool any_day_of_month_ = true;    // the field began with `*`
  bool any_day_of_week_ = true;
};

}  // namespace nox
