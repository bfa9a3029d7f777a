#pragma once
// IANA time zones ("Europe/Berlin") read from the system's TZif files (RFC 8536), so that
// schedules fire at a wall-clock time people expect, across daylight saving changes. The 64-bit
// (v2+) data is used when present, v1 otherwise; instants after the last transition in the file
// follow its footer POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). Leap-second records are
// ignored: the "right/" zones count seconds no POSIX clock counts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/civil_time.hpp"
#include "core/clock.hpp"

namespace nox {

// Where a wall-clock reading lands on the UTC time line.
struct LocalResolution {
  TimeMs utc = 0;         // the earliest instant showing that reading
  bool skipped = false;   // it never shows (spring forward): utc is the instant the gap ends
  bool repeated = false;  // it shows twice (fall back): utc is the first time, second_utc the other
  TimeMs second_utc = 0;
};

class TimeZone {
 public:
  // "UTC", "Etc/UTC" and "Z" need no files. Other names are looked up under TZDIR, or
  // /usr/share/zoneinfo when that is unset. `problem` gets a sentence on why a name is refused.
  static std::optional<TimeZone> load(std::string_view name, std::string* problem = nullptr);
  // The same from a given zoneinfo directory (tests, or a server told where tzdata lives).
  static std::optional<TimeZone> load_from(const std::string& directory, std::string_view name,
                                           std::string* problem = nullptr);
  // Parses the bytes of a TZif file; the name is only carried.
  static std::optional<TimeZone> from_tzif(std::string name, std::string_view bytes,
                                           std::string* problem = nullptr);
  // A zone that is only a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0"), as a TZif footer holds.
  static std::optional<TimeZone> from_posix_tz(std::string name, std::string_view rule,
                                               std::string* problem = nullptr);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at `utc` (Berlin in summer: 7200).
  std::int32_t offset_at(TimeMs utc) const;
  CivilTime to_local(TimeMs utc) const;
  LocalResolution resolve(const CivilTime& local) const;

  // A footer's rule, parsed (public only so that the parser in the .cpp can build one).
  // When one of its two yearly changes happens: Jn (1-365, February 29 never counted),
  // n (0-365, counted) or Mm.w.d (weekday d of week w of month m, w = 5 the last), at `time`
  // seconds after local midnight, which may be negative or past 24 h.
  struct PosixDate {
    enum class Kind { julian_without_leap_day, day_of_year, month_week_day } kind = Kind::month_week_day;
    int day = 0;  // n for both day forms, the weekday (0 = Sunday) for Mm.w.d
    int month = 0;
    int week = 0;
    std::int32_t time = 7200;
  };
  struct PosixRule {
    std::int32_t standard_offset = 0;  // seconds east of UTC; POSIX writes them west ("CET-1")
    bool has_dst = false;
    std::int32_t dst_offset = 0;
    PosixDate dst_start;
    PosixDate dst_end;
  };

 private:
  // A change of offset, from the file's table or worked out from the footer rule.
  struct Transition {
    std::int64_t at;      // seconds since the epoch
    std::int32_t offset;  // in effect from `at` on
  };
  std::int32_t offset_at_second(std::int64_t t) const;
  std::int32_t rule_offset_at(std::int64_t t) const;
  std::vector<Transition> changes_between(std::int64_t from, std::int64_t to) const;

  std::string name_;
  std::int32_t initial_offset_ = 0;  // before the first transition (RFC 8536: time type 0)
  std::vector<Transition> transitions_;
  std::optional<PosixRule> rule_;  // after the last transition
};

}  // namespace nox
