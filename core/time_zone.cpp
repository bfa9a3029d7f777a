#include "core/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace nox {
namespace {

using PosixDate = TimeZone::PosixDate;
using PosixRule = TimeZone::PosixRule;

std::nullopt_t refuse(std::string* problem, std::string sentence) {
  if (problem) *problem = std::move(sentence);
  return std::nullopt;
}

// Big-endian fields of a TZif file; every read is checked against the end first.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool has(std::uint64_t n) const { return n <= bytes_.size() - pos_; }
  void skip(std::size_t n) { pos_ += n; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
  std::int64_t signed_be(int width) {
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = v << 8 | u8();
    if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  std::uint32_t utc_indicators = 0, std_indicators = 0, leaps = 0, times = 0, types = 0, chars = 0;

  // Bytes of the data block that follows, with `width`-byte times (4 in v1, 8 in v2+).
  std::uint64_t block_size(int width) const {
    return std::uint64_t{times} * (width + 1) + std::uint64_t{types} * 6 + chars +
           std::uint64_t{leaps} * (width + 4) + std_indicators + utc_indicators;
  }
};

std::optional<TzifHeader> read_header(ByteReader& in) {
  if (!in.has(44) || in.rest().substr(0, 4) != "TZif") return std::nullopt;
  in.skip(4);
  TzifHeader h;
  h.version = static_cast<char>(in.u8());
  in.skip(15);
  for (std::uint32_t* count : {&h.utc_indicators, &h.std_indicators, &h.leaps, &h.times, &h.types, &h.chars})
    *count = static_cast<std::uint32_t>(in.signed_be(4));
  return h;
}

// The POSIX TZ grammar with RFC 8536's extensions (quoted names, hours of a change time from
// -167 to 167). Each step consumes what it recognises and says whether it did.
class PosixParser {
 public:
  explicit PosixParser(std::string_view text) : s_(text) {}

  std::optional<PosixRule> parse() {
    PosixRule rule;
    const auto standard = name() ? hms(24) : std::nullopt;
    if (!standard) return std::nullopt;
    rule.standard_offset = -*standard;  // POSIX counts west of Greenwich
    if (at_end()) return rule;
    if (!name()) return std::nullopt;
    rule.has_dst = true;
    rule.dst_offset = rule.standard_offset + 3600;
    if (!at_end() && s_[pos_] != ',') {
      const auto dst = hms(24);
      if (!dst) return std::nullopt;
      rule.dst_offset = -*dst;
    }
    if (at_end()) {  // no dates: the US rules, as tzcode and glibc assume (TZif footers give them)
      rule.dst_start = {PosixDate::Kind::month_week_day, 0, 3, 2, 7200};
      rule.dst_end = {PosixDate::Kind::month_week_day, 0, 11, 1, 7200};
      return rule;
    }
    if (!eat(',') || !date(rule.dst_start) || !eat(',') || !date(rule.dst_end) || !at_end())
      return std::nullopt;
    return rule;
  }

 private:
  bool at_end() const { return pos_ == s_.size(); }
  bool eat(char c) { return !at_end() && s_[pos_] == c && (++pos_, true); }

  std::optional<int> number(int max_digits, int low, int high) {
    int value = 0, digits = 0;
    while (digits < max_digits && !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9')
      value = value * 10 + (s_[pos_++] - '0'), ++digits;
    if (digits == 0 || value < low || value > high) return std::nullopt;
    return value;
  }

  bool name() {
    const std::size_t start = pos_;
    if (eat('<')) {
      while (!at_end() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '+' || s_[pos_] == '-'))
        ++pos_;
      return pos_ - start >= 4 && eat('>');  // "<+1030>": at least three inside
    }
    while (!at_end() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    return pos_ - start >= 3;
  }

  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<std::int32_t> hms(int max_hours) {
    const int sign = eat('-') ? -1 : (eat('+'), 1);
    const auto hours = number(3, 0, max_hours);
    if (!hours) return std::nullopt;
    int minutes = 0, seconds = 0;
    if (eat(':')) {
      const auto m = number(2, 0, 59);
      if (!m) return std::nullopt;
      minutes = *m;
      if (eat(':')) {
        const auto sec = number(2, 0, 59);
        if (!sec) return std::nullopt;
        seconds = *sec;
      }
    }
    return sign * (*hours * 3600 + minutes * 60 + seconds);
  }

  bool date(PosixDate& d) {
    std::optional<int> first, week, day;
    if (eat('J')) {
      d.kind = PosixDate::Kind::julian_without_leap_day;
      first = number(3, 1, 365);
    } else if (eat('M')) {
      d.kind = PosixDate::Kind::month_week_day;
      first = number(2, 1, 12);
      week = eat('.') ? number(1, 1, 5) : std::nullopt;
      day = eat('.') ? number(1, 0, 6) : std::nullopt;
      if (!week || !day) return false;
      d.month = *first, d.week = *week, d.day = *day;
    } else {
      d.kind = PosixDate::Kind::day_of_year;
      first = number(3, 0, 365);
    }
    if (!first) return false;
    if (d.kind != PosixDate::Kind::month_week_day) d.day = *first;
    if (eat('/')) {
      const auto time = hms(167);
      if (!time) return false;
      d.time = *time;
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Days since the epoch of the date a rule names in `year`.
std::int64_t day_of(const PosixDate& d, int year) {
  const std::int64_t january_first = days_from_civil(year, 1, 1);
  switch (d.kind) {
    case PosixDate::Kind::julian_without_leap_day:
      return january_first + d.day - 1 + (is_leap_year(year) && d.day >= 60);
    case PosixDate::Kind::day_of_year:
      return january_first + d.day;
    case PosixDate::Kind::month_week_day:
      break;
  }
  const std::int64_t first = days_from_civil(year, d.month, 1);
  int index = (d.day - weekday_from_days(first) + 7) % 7 + (d.week - 1) * 7;
  while (index >= days_in_month(year, d.month)) index -= 7;  // week 5: the last such weekday
  return first + index;
}

// The instant of a change in `year`; its time is local time under the offset it ends.
std::int64_t change_at(const PosixDate& d, int year, std::int32_t offset_before) {
  return day_of(d, year) * 86400 + d.time - offset_before;
}

}  // namespace

TimeZone TimeZone::utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  return zone;
}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string* problem) {
  const char* tzdir = std::getenv("TZDIR");
  return load_from(tzdir && *tzdir ? tzdir : "/usr/share/zoneinfo", name, problem);
}

std::optional<TimeZone> TimeZone::load_from(const std::string& directory, std::string_view name,
                                            std::string* problem) {
  const std::string quoted = "time zone \"" + std::string(name) + "\"";
  if (name.empty()) return refuse(problem, "the time zone name is empty");
  if (name.size() > 100) return refuse(problem, "a time zone name has at most 100 characters");
  if (name.front() == '/' || name.find("..") != std::string_view::npos)
    return refuse(problem, quoted + " is a path; give an IANA name such as Europe/Berlin");
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '/';
  });
  if (!plain) return refuse(problem, quoted + " has a character other than A-Z, a-z, 0-9, _, +, - and /");
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
    TimeZone zone = utc();
    zone.name_ = std::string(name);
    return zone;
  }

  const std::filesystem::path path = std::filesystem::path(directory) / std::string(name);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    return refuse(problem, quoted + " is not known (no such file in " + directory + ")");
  // No TZif file comes near this; a bigger one is not what we are looking for.
  if (std::filesystem::file_size(path, error) > (1u << 20))
    return refuse(problem, quoted + " is not a TZif file");
  std::ifstream file(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (!file.good() && !file.eof()) return refuse(problem, quoted + " could not be read");
  return from_tzif(std::string(name), bytes, problem);
}

std::optional<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes, std::string* problem) {
  const std::string quoted = "time zone \"" + name + "\"";
  ByteReader in(bytes);
  auto header = read_header(in);
  if (!header) return refuse(problem, quoted + " is not a TZif file");
  int width = 4;
  if (header->version >= '2') {  // skip the 32-bit data for the 64-bit data and its footer
    if (!in.has(header->block_size(4))) return refuse(problem, quoted + " is a truncated TZif file");
    in.skip(header->block_size(4));
    header = read_header(in);
    if (!header) return refuse(problem, quoted + " is a TZif file without its 64-bit header");
    width = 8;
  }
  const TzifHeader& h = *header;
  if (h.types == 0 || !in.has(h.block_size(width)))
    return refuse(problem, quoted + " is a truncated TZif file");

  std::vector<std::int64_t> times(h.times);
  for (auto& t : times) t = in.signed_be(width);
  std::vector<std::uint8_t> type_of(h.times);
  for (auto& i : type_of) i = in.u8();
  std::vector<std::int32_t> offsets(h.types);
  for (auto& offset : offsets) {
    offset = static_cast<std::int32_t>(in.signed_be(4));
    in.skip(2);  // is-DST flag and abbreviation index: offsets are all we need
    // RFC 8536's bounds; resolve() counts on offsets staying within a day or so.
    if (offset < -89999 || offset > 93599) return refuse(problem, quoted + " has an offset beyond a day");
  }
  // Abbreviations, leap seconds and the standard/UT indicators: on to the footer.
  in.skip(h.block_size(width) - h.times * std::uint64_t(width + 1) - h.types * 6);

  TimeZone zone;
  zone.name_ = std::move(name);
  zone.initial_offset_ = offsets[0];
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (type_of[i] >= offsets.size() || (i > 0 && times[i] <= times[i - 1]))
      return refuse(problem, quoted + " has an inconsistent transition table");
    zone.transitions_.push_back({times[i], offsets[type_of[i]]});
  }
  if (width == 8 && !in.rest().empty()) {
    const std::string_view rest = in.rest();
    const std::size_t end = rest.find('\n', 1);
    if (rest.front() != '\n' || end == std::string_view::npos)
      return refuse(problem, quoted + " has a malformed footer");
    const std::string_view footer = rest.substr(1, end - 1);
    if (!footer.empty()) {  // empty: no rule, the last transition's offset holds on
      zone.rule_ = PosixParser(footer).parse();
      if (!zone.rule_)
        return refuse(problem,
                      quoted + " has a footer rule \"" + std::string(footer) + "\" that is not understood");
    }
  }
  return zone;
}

std::optional<TimeZone> TimeZone::from_posix_tz(std::string name, std::string_view rule,
                                                std::string* problem) {
  TimeZone zone;
  zone.rule_ = PosixParser(rule).parse();
  if (!zone.rule_)
    return refuse(
        problem, "\"" + std::string(rule) + "\" is not a POSIX TZ string such as CET-1CEST,M3.5.0,M10.5.0/3");
  zone.name_ = std::move(name);
  zone.initial_offset_ = zone.rule_->standard_offset;
  return zone;
}

std::int32_t TimeZone::offset_at(TimeMs utc) const { return offset_at_second(floor_div(utc, 1000)); }

CivilTime TimeZone::to_local(TimeMs utc) const {
  const std::int64_t t = floor_div(utc, 1000);
  return civil_from_seconds(t + offset_at_second(t));
}

std::int32_t TimeZone::offset_at_second(std::int64_t t) const {
  if (rule_ && (transitions_.empty() || t > transitions_.back().at)) return rule_offset_at(t);
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), t,
                                      [](std::int64_t v, const Transition& x) { return v < x.at; });
  return after == transitions_.begin() ? initial_offset_ : std::prev(after)->offset;
}

std::int32_t TimeZone::rule_offset_at(std::int64_t t) const {
  const PosixRule& r = *rule_;
  if (!r.has_dst) return r.standard_offset;
  const int year = civil_from_seconds(t + r.standard_offset).year;
  const std::int64_t start = change_at(r.dst_start, year, r.standard_offset);
  const std::int64_t end = change_at(r.dst_end, year, r.dst_offset);
  // Southern hemisphere (and Dublin's negative DST): the DST span wraps around the new year.
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? r.dst_offset : r.standard_offset;
}

std::vector<TimeZone::Transition> TimeZone::changes_between(std::int64_t from, std::int64_t to) const {
  std::vector<Transition> changes;
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), from,
                             [](std::int64_t v, const Transition& x) { return v < x.at; });
  for (; it != transitions_.end() && it->at <= to; ++it) changes.push_back(*it);
  if (!rule_ || !rule_->has_dst) return changes;
  const PosixRule& r = *rule_;
  std::vector<Transition> ruled;
  for (int year = civil_from_seconds(from).year - 1; year <= civil_from_seconds(to).year + 1; ++year) {
    // The end first: where a year's end meets the next year's start (all-year DST), DST wins.
    ruled.push_back({change_at(r.dst_end, year, r.dst_offset), r.standard_offset});
    ruled.push_back({change_at(r.dst_start, year, r.standard_offset), r.dst_offset});
  }
  std::stable_sort(ruled.begin(), ruled.end(),
                   [](const Transition& a, const Transition& b) { return a.at < b.at; });
  const std::int64_t rule_from =
      transitions_.empty() ? std::numeric_limits<std::int64_t>::min() : transitions_.back().at;
  for (const Transition& change : ruled)
    if (change.at > from && change.at <= to && change.at > rule_from) changes.push_back(change);
  return changes;
}

LocalResolution TimeZone::resolve(const CivilTime& local) const {
  // Every instant showing `local` lies within a day of it (offsets stay under 26 h), so the
  // offsets in effect over two days either side tell all: walk them as constant stretches.
  const std::int64_t wall = seconds_from_civil(local);
  const std::int64_t from = wall - 2 * 86400, to = wall + 2 * 86400;
  const std::vector<Transition> changes = changes_between(from, to);
  std::vector<std::int64_t> hits;
  std::optional<std::int64_t> gap_end;
  std::int64_t stretch_start = from;
  std::int32_t offset = offset_at_second(from);
  for (std::size_t i = 0; i <= changes.size(); ++i) {
    const std::int64_t stretch_end = i < changes.size() ? changes[i].at : to + 1;
    if (const std::int64_t t = wall - offset; t >= stretch_start && t < stretch_end) hits.push_back(t);
    if (i == changes.size()) break;
    // The clock jumps from stretch_end + offset to stretch_end + the new offset, over `wall`.
    if (!gap_end && stretch_end + offset <= wall && wall < stretch_end + changes[i].offset)
      gap_end = stretch_end;
    stretch_start = stretch_end;
    offset = changes[i].offset;
  }
  LocalResolution result;
  if (!hits.empty()) {
    result.utc = hits[0] * 1000;
    result.repeated = hits.size() > 1;
    if (result.repeated) result.second_utc = hits[1] * 1000;
  } else if (gap_end) {
    result.utc = *gap_end * 1000;
    result.skipped = true;
  } else {  // not reached with sane data; the plain reading is the best guess
    result.utc = (wall - offset_at_second(wall)) * 1000;
  }
  return result;
}

}  // namespace nox
