#include "core/cron_schedule.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "core/civil_time.hpp"

namespace nox {
namespace {

std::nullopt_t refuse(std::string* problem, std::string sentence) {
  if (problem) *problem = std::move(sentence);
  return std::nullopt;
}

struct Field {
  const char* name;
  int low;
  int high;
  const char* const* names = nullptr;  // three-letter names of low, low + 1, ... (case-insensitive)
  int name_count = 0;
  const char* names_hint = nullptr;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kWeekdayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day-of-month", 1, 31},
    {"month", 1, 12, kMonthNames, 12, "a month name (jan-dec)"},
    {"day-of-week", 0, 7, kWeekdayNames, 7, "a weekday name (sun-sat)"},
}};

struct Macro {
  std::string_view name;
  std::string_view expression;
};

constexpr Macro kMacros[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                             {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                             {"@hourly", "0 * * * *"}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find_first_of(separators, start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// A plain decimal of up to four digits: enough for every field, and never an overflow.
std::optional<int> small_number(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// One value of a field: a number or, in the month and weekday fields, a name.
std::optional<int> value_of(std::string_view token, const Field& field, std::string* problem) {
  const std::string prefix = std::string("the ") + field.name + " field: ";
  if (const auto value = small_number(token)) {
    if (*value < field.low || *value > field.high)
      return refuse(problem, prefix + std::to_string(*value) + " is outside " + std::to_string(field.low) +
                                 "-" + std::to_string(field.high));
    return value;
  }
  for (int i = 0; i < field.name_count; ++i)
    if (equal_ignoring_case(token, field.names[i])) return field.low + i;
  const std::string quoted = "\"" + std::string(token) + "\"";
  if (field.names)
    return refuse(problem, prefix + quoted + " is neither " + field.names_hint + " nor a number");
  return refuse(problem, prefix + quoted + " is not a number");
}

// The values a field allows, as bits.
std::optional<std::uint64_t> parse_field(std::string_view text, const Field& field, std::string* problem) {
  const std::string prefix = std::string("the ") + field.name + " field: ";
  std::uint64_t bits = 0;
  for (std::string_view item : split(text, ",")) {
    const std::string quoted = "\"" + std::string(item) + "\"";
    if (item.empty())
      return refuse(problem, prefix + "\"" + std::string(text) + "\" has an empty list entry");
    const std::vector<std::string_view> stepped = split(item, "/");
    const std::vector<std::string_view> bounds = split(stepped[0], "-");
    const bool empty_bound = std::any_of(bounds.begin(), bounds.end(), [](auto b) { return b.empty(); });
    if (stepped.size() > 2 || bounds.size() > 2 || empty_bound ||
        (stepped[0] != "*" && stepped[0].find('*') != std::string_view::npos))
      return refuse(problem, prefix + quoted + " is not a value, a range (a-b) or a step (*/n, a-b/n, a/n)");
    int low = field.low, high = field.high, step = 1;
    if (stepped[0] != "*") {
      const auto first = value_of(bounds[0], field, problem);
      if (!first) return std::nullopt;
      const auto last = bounds.size() == 2 ? value_of(bounds[1], field, problem) : first;
      if (!last) return std::nullopt;
      low = *first;
      high = bounds.size() == 2 || stepped.size() == 1 ? *last : field.high;  // "a/n" runs to the end
      if (low > high)
        return refuse(problem,
                      prefix + "the range " + quoted + " runs backwards; write the smaller value first");
    }
    if (stepped.size() == 2) {
      step = small_number(stepped[1]).value_or(0);
      if (step < 1)
        return refuse(problem, prefix + "the step in " + quoted + " must be a whole number of 1 or more");
    }
    for (int v = low; v <= high; v += step) bits |= std::uint64_t{1} << v;
  }
  return bits;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view expression, std::string* problem) {
  CronSchedule schedule;
  schedule.text_ = std::string(expression);
  std::vector<std::string_view> fields;
  for (std::string_view part : split(expression, " \t"))
    if (!part.empty()) fields.push_back(part);
  if (fields.empty()) return refuse(problem, "the cron expression is empty");
  if (fields.size() == 1 && fields[0].front() == '@') {
    const auto macro = std::find_if(std::begin(kMacros), std::end(kMacros),
                                    [&](const Macro& m) { return equal_ignoring_case(m.name, fields[0]); });
    if (macro == std::end(kMacros))
      return refuse(problem,
                    "\"" + std::string(fields[0]) +
                        "\" is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly");
    fields = split(macro->expression, " ");
  }
  if (fields.size() != kFields.size())
    return refuse(problem,
                  "a cron expression has 5 fields (minute hour day-of-month month day-of-week), not " +
                      std::to_string(fields.size()));

  std::array<std::uint64_t, 5> bits{};
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    const auto parsed = parse_field(fields[i], kFields[i], problem);
    if (!parsed) return std::nullopt;
    bits[i] = *parsed;
  }
  schedule.minutes_ = bits[0];
  schedule.hours_ = bits[1];
  schedule.days_of_month_ = bits[2];
  schedule.months_ = bits[3];
  schedule.days_of_week_ = (bits[4] | bits[4] >> 7) & 0x7f;  // 7 is Sunday too
  schedule.any_day_of_month_ = fields[2].front() == '*';
  schedule.any_day_of_week_ = fields[4].front() == '*';
  return schedule;
}

bool CronSchedule::day_matches(int day_of_month, int weekday) const {
  const bool by_date = days_of_month_ >> day_of_month & 1;
  const bool by_weekday = days_of_week_ >> weekday & 1;
  if (!any_day_of_month_ && !any_day_of_week_) return by_date || by_weekday;
  return by_date && by_weekday;
}

std::optional<TimeMs> CronSchedule::next_after(TimeMs after, const TimeZone& zone) const {
  // Walk the wall-clock minutes after the local reading of `after`, passing over whole months,
  // days and hours that cannot match. Earliest instants rise with wall time, so the first
  // matching minute that lands after `after` is the answer; minutes that land at or before it
  // are second occurrences of a repeated hour or gap minutes already fired.
  constexpr std::int64_t kSearchDays = 8 * 366;
  const std::int64_t first_minute = floor_div(seconds_from_civil(zone.to_local(after)), 60) + 1;
  const std::int64_t first_day = floor_div(first_minute, 24 * 60);
  int minute_of_day = static_cast<int>(first_minute - first_day * 24 * 60);
  for (std::int64_t day = first_day; day <= first_day + kSearchDays; ++day, minute_of_day = 0) {
    CivilTime local = civil_from_days(day);
    if (!(months_ >> local.month & 1)) {  // on to the last day of the month; the loop steps past it
      day += days_in_month(local.year, local.month) - local.day;
      continue;
    }
    if (!day_matches(local.day, weekday_from_days(day))) continue;
    for (int hour = minute_of_day / 60; hour < 24; ++hour) {
      if (!(hours_ >> hour & 1)) continue;
      for (int minute = hour == minute_of_day / 60 ? minute_of_day % 60 : 0; minute < 60; ++minute) {
        if (!(minutes_ >> minute & 1)) continue;
        local.hour = hour;
        local.minute = minute;
        if (const TimeMs at = zone.resolve(local).utc; at > after) return at;
      }
    }
  }
  return std::nullopt;
}

}  // namespace nox
