// IANA time zones from TZif files (core/time_zone.hpp): offsets, wall times that are skipped or
// repeated, the footer rule beyond the table, and names refused. Debian's tzdata provides the files.
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "core/clock.hpp"
#include "core/time_zone.hpp"

namespace {

nox::TimeMs at(std::string_view rfc3339) { return nox::parse_rfc3339(rfc3339).value(); }

nox::TimeZone zone(std::string_view name) {
  std::string problem;
  auto loaded = nox::TimeZone::load_from("/usr/share/zoneinfo", name, &problem);
  BOOST_TEST_REQUIRE(loaded.has_value(), problem);
  return *loaded;
}

nox::CivilTime civil(int year, int month, int day, int hour, int minute) {
  return {year, month, day, hour, minute, 0};
}

// A hand-made TZif v1 file (no 64-bit part, no footer): offset 0, then +1 h from 2000-01-01.
std::string version1_file() {
  std::string bytes = "TZif";
  bytes.append(16, '\0');  // version '\0' = 1, then 15 unused bytes
  auto be32 = [&bytes](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift & 0xff));
  };
  for (std::uint32_t count : {0u, 0u, 0u, 1u, 2u, 4u}) be32(count);  // ut, std, leap, time, type, char
  be32(946684800);                                                   // 2000-01-01T00:00:00Z
  bytes.push_back(1);
  be32(0);
  bytes += std::string("\0\0", 2);  // not DST, abbreviation "A"
  be32(3600);
  bytes += std::string("\0\2", 2);  // not DST (it does not matter here), abbreviation "B"
  bytes += std::string("A\0B\0", 4);
  return bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(time_zone)

BOOST_AUTO_TEST_CASE(utc_is_built_in) {
  for (const char* name : {"UTC", "Etc/UTC", "Z"}) {
    auto utc = nox::TimeZone::load_from("/nonexistent", name);
    BOOST_TEST_REQUIRE(utc.has_value());
    BOOST_TEST(utc->name() == name);
    BOOST_TEST(utc->offset_at(at("2026-07-01T12:00:00Z")) == 0);
  }
  const auto local = nox::TimeZone::utc().to_local(at("2026-03-29T02:30:59.999Z"));
  BOOST_TEST(local.year == 2026);
  BOOST_TEST(local.hour == 2);
  BOOST_TEST(local.second == 59);
  const auto resolved = nox::TimeZone::utc().resolve(civil(2026, 3, 29, 2, 30));
  BOOST_TEST(nox::to_rfc3339(resolved.utc) == "2026-03-29T02:30:00.000Z");
  BOOST_TEST(!resolved.skipped);
  BOOST_TEST(!resolved.repeated);
}

BOOST_AUTO_TEST_CASE(berlin_has_winter_and_summer_time) {
  const auto berlin = zone("Europe/Berlin");
  BOOST_TEST(berlin.name() == "Europe/Berlin");
  BOOST_TEST(berlin.offset_at(at("2026-01-15T12:00:00Z")) == 3600);
  BOOST_TEST(berlin.offset_at(at("2026-07-15T12:00:00Z")) == 7200);
  BOOST_TEST(berlin.offset_at(at("2026-03-29T00:59:59.999Z")) == 3600);
  BOOST_TEST(berlin.offset_at(at("2026-03-29T01:00:00Z")) == 7200);
  const auto local = berlin.to_local(at("2026-07-15T12:00:00Z"));
  BOOST_TEST((local.month == 7 && local.day == 15 && local.hour == 14 && local.minute == 0));
  BOOST_TEST(nox::to_rfc3339(berlin.resolve(civil(2026, 7, 15, 14, 0)).utc) == "2026-07-15T12:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(a_wall_time_in_the_spring_gap_is_skipped_to_the_gap_end) {
  const auto r = zone("Europe/Berlin").resolve(civil(2026, 3, 29, 2, 30));
  BOOST_TEST(r.skipped);
  BOOST_TEST(!r.repeated);
  BOOST_TEST(nox::to_rfc3339(r.utc) == "2026-03-29T01:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(a_wall_time_in_the_autumn_overlap_is_repeated) {
  const auto r = zone("Europe/Berlin").resolve(civil(2026, 10, 25, 2, 30));
  BOOST_TEST(r.repeated);
  BOOST_TEST(!r.skipped);
  BOOST_TEST(nox::to_rfc3339(r.utc) == "2026-10-25T00:30:00.000Z");
  BOOST_TEST(nox::to_rfc3339(r.second_utc) == "2026-10-25T01:30:00.000Z");
  // The edges: 02:00 is repeated, 03:00 is not.
  BOOST_TEST(zone("Europe/Berlin").resolve(civil(2026, 10, 25, 2, 0)).repeated);
  BOOST_TEST(!zone("Europe/Berlin").resolve(civil(2026, 10, 25, 3, 0)).repeated);
}

BOOST_AUTO_TEST_CASE(new_york) {
  const auto ny = zone("America/New_York");
  BOOST_TEST(ny.offset_at(at("2026-01-15T12:00:00Z")) == -5 * 3600);
  BOOST_TEST(ny.offset_at(at("2026-07-15T12:00:00Z")) == -4 * 3600);
  const auto gap = ny.resolve(civil(2026, 3, 8, 2, 30));
  BOOST_TEST(gap.skipped);
  BOOST_TEST(nox::to_rfc3339(gap.utc) == "2026-03-08T07:00:00.000Z");
  const auto overlap = ny.resolve(civil(2026, 11, 1, 1, 30));
  BOOST_TEST(overlap.repeated);
  BOOST_TEST(nox::to_rfc3339(overlap.utc) == "2026-11-01T05:30:00.000Z");
  BOOST_TEST(nox::to_rfc3339(overlap.second_utc) == "2026-11-01T06:30:00.000Z");
}

BOOST_AUTO_TEST_CASE(lord_howe_moves_by_half_an_hour) {
  const auto lord_howe = zone("Australia/Lord_Howe");
  BOOST_TEST(lord_howe.offset_at(at("2026-07-01T00:00:00Z")) == 10 * 3600 + 1800);
  BOOST_TEST(lord_howe.offset_at(at("2026-01-01T00:00:00Z")) == 11 * 3600);
  const auto gap = lord_howe.resolve(civil(2026, 10, 4, 2, 15));  // 02:00 -> 02:30
  BOOST_TEST(gap.skipped);
  BOOST_TEST(nox::to_rfc3339(gap.utc) == "2026-10-03T15:30:00.000Z");
  const auto overlap = lord_howe.resolve(civil(2026, 4, 5, 1, 45));  // 02:00 -> 01:30
  BOOST_TEST(overlap.repeated);
  BOOST_TEST(nox::to_rfc3339(overlap.utc) == "2026-04-04T14:45:00.000Z");
  BOOST_TEST(nox::to_rfc3339(overlap.second_utc) == "2026-04-04T15:15:00.000Z");
}

BOOST_AUTO_TEST_CASE(beyond_the_table_the_footer_rule_decides) {
  const auto berlin = zone("Europe/Berlin");
  BOOST_TEST(berlin.offset_at(at("2090-01-15T12:00:00Z")) == 3600);
  BOOST_TEST(berlin.offset_at(at("2090-03-26T00:59:59Z")) == 3600);
  BOOST_TEST(berlin.offset_at(at("2090-03-26T01:00:00Z")) == 7200);
  BOOST_TEST(berlin.offset_at(at("2090-10-29T00:59:59Z")) == 7200);
  BOOST_TEST(berlin.offset_at(at("2090-10-29T01:00:00Z")) == 3600);
  const auto gap = berlin.resolve(civil(2090, 3, 26, 2, 30));
  BOOST_TEST(gap.skipped);
  BOOST_TEST(nox::to_rfc3339(gap.utc) == "2090-03-26T01:00:00.000Z");
  const auto overlap = berlin.resolve(civil(2090, 10, 29, 2, 30));
  BOOST_TEST(overlap.repeated);
  BOOST_TEST(nox::to_rfc3339(overlap.second_utc) == "2090-10-29T01:30:00.000Z");
  // Southern hemisphere: DST spans the new year.
  BOOST_TEST(zone("Australia/Lord_Howe").offset_at(at("2090-01-01T00:00:00Z")) == 11 * 3600);
  // Change times past 24 h (Thursday 26:00 = Friday 02:00) and below zero (-1:00 = 23:00 the day before).
  const auto jerusalem = zone("Asia/Jerusalem");  // IST-2IDT,M3.4.4/26,M10.5.0
  BOOST_TEST(jerusalem.offset_at(at("2090-03-23T23:59:59Z")) == 2 * 3600);
  BOOST_TEST(jerusalem.offset_at(at("2090-03-24T00:00:00Z")) == 3 * 3600);
  const auto nuuk = zone("America/Nuuk");  // <-02>2<-01>,M3.5.0/-1,M10.5.0/0
  BOOST_TEST(nuuk.offset_at(at("2090-03-26T00:59:59Z")) == -2 * 3600);
  BOOST_TEST(nuuk.offset_at(at("2090-03-26T01:00:00Z")) == -1 * 3600);
  BOOST_TEST(nuuk.offset_at(at("2090-10-29T00:59:59Z")) == -1 * 3600);
  BOOST_TEST(nuuk.offset_at(at("2090-10-29T01:00:00Z")) == -2 * 3600);
}

BOOST_AUTO_TEST_CASE(kolkata_is_five_and_a_half_hours_ahead) {
  const auto kolkata = zone("Asia/Kolkata");
  BOOST_TEST(kolkata.offset_at(at("2026-06-01T00:00:00Z")) == 5 * 3600 + 1800);
  BOOST_TEST(kolkata.offset_at(at("2090-06-01T00:00:00Z")) == 5 * 3600 + 1800);
  BOOST_TEST(nox::to_rfc3339(kolkata.resolve(civil(2026, 6, 1, 9, 0)).utc) == "2026-06-01T03:30:00.000Z");
}

BOOST_AUTO_TEST_CASE(posix_rules_in_julian_and_day_of_year_forms) {
  // DST from J60 (always March 1) to day 300 counted from 0 (October 27 in a leap year).
  auto zone = nox::TimeZone::from_posix_tz("test", "AAA0BBB,J60/0,300/0");
  BOOST_TEST_REQUIRE(zone.has_value());
  BOOST_TEST(zone->offset_at(at("2024-02-29T23:59:59Z")) == 0);
  BOOST_TEST(zone->offset_at(at("2024-03-01T00:00:00Z")) == 3600);
  BOOST_TEST(zone->offset_at(at("2024-10-26T22:59:59Z")) == 3600);
  BOOST_TEST(zone->offset_at(at("2024-10-26T23:00:00Z")) == 0);
  BOOST_TEST(zone->offset_at(at("2023-10-27T23:00:00Z")) == 0);  // October 28 in other years
  BOOST_TEST(zone->offset_at(at("2023-10-27T22:59:59Z")) == 3600);
  // Quoted names and an explicit DST offset.
  auto quoted = nox::TimeZone::from_posix_tz("test", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  BOOST_TEST_REQUIRE(quoted.has_value());
  BOOST_TEST(quoted->offset_at(at("2030-01-01T00:00:00Z")) == 11 * 3600);
  for (const char* bad : {"", "CET", "C-1", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
                          "CET-1CEST,M3.5.0/200,M10.5.0", "<CET-1"}) {
    BOOST_TEST(!nox::TimeZone::from_posix_tz("test", bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(a_version_1_file_is_read_without_footer) {
  std::string problem;
  auto zone = nox::TimeZone::from_tzif("v1", version1_file(), &problem);
  BOOST_TEST_REQUIRE(zone.has_value(), problem);
  BOOST_TEST(zone->offset_at(at("1999-12-31T23:59:59Z")) == 0);
  BOOST_TEST(zone->offset_at(at("2000-01-01T00:00:00Z")) == 3600);
  BOOST_TEST(zone->offset_at(at("2090-01-01T00:00:00Z")) == 3600);
  const std::string file = version1_file();
  BOOST_TEST(!nox::TimeZone::from_tzif("cut", std::string_view(file).substr(0, file.size() - 1), &problem));
  BOOST_TEST(problem == "time zone \"cut\" is a truncated TZif file");
  BOOST_TEST(!nox::TimeZone::from_tzif("text", "Europe/Berlin\n", &problem));
}

BOOST_AUTO_TEST_CASE(bad_names_are_refused_with_a_reason) {
  std::string problem;
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "../../etc/passwd", &problem));
  BOOST_TEST(problem == "time zone \"../../etc/passwd\" is a path; give an IANA name such as Europe/Berlin");
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "/etc/localtime", &problem));
  BOOST_TEST(problem.find("is a path") != std::string::npos);
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "Europe/Berlin;ls", &problem));
  BOOST_TEST(problem ==
             "time zone \"Europe/Berlin;ls\" has a character other than A-Z, a-z, 0-9, _, +, - and /");
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "", &problem));
  BOOST_TEST(problem == "the time zone name is empty");
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "Mars/Olympus_Mons", &problem));
  BOOST_TEST(problem == "time zone \"Mars/Olympus_Mons\" is not known (no such file in /usr/share/zoneinfo)");
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "Europe", &problem));  // a directory
  BOOST_TEST(!nox::TimeZone::load_from("/usr/share/zoneinfo", "leapseconds", &problem));
  BOOST_TEST(problem == "time zone \"leapseconds\" is not a TZif file");
}

BOOST_AUTO_TEST_CASE(tzdir_names_the_zoneinfo_directory) {
  const char* before = std::getenv("TZDIR");
  const std::string saved = before ? before : "";
  ::setenv("TZDIR", "/nonexistent", 1);
  std::string problem;
  const bool loaded = nox::TimeZone::load("Europe/Berlin", &problem).has_value();
  before ? ::setenv("TZDIR", saved.c_str(), 1) : ::unsetenv("TZDIR");
  BOOST_TEST(!loaded);
  BOOST_TEST(problem == "time zone \"Europe/Berlin\" is not known (no such file in /nonexistent)");
}

BOOST_AUTO_TEST_SUITE_END()
