// Recurring schedules (issue 10): POST /schedules with a cron expression in a time zone or an
// interval; each tick fires exactly once across instances; ticks missed while every instance
// was down fire once on return, or are skipped; list, get, pause, resume, delete.
#include <optional>
#include <set>

#include "core/cron_schedule.hpp"
#include "core/time_zone.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string echo_job() { return job_spec_json("echo", "energy", molecule_xyz("water")); }

json::value create(HttpClient& client, const std::string& body) {
  const auto reply = client.post_json("/schedules", body);
  BOOST_TEST_REQUIRE(reply.status == 201, reply.body);
  return reply.json();
}

json::value read(HttpClient& client, const std::string& id) {
  const auto reply = client.get("/schedules/" + id);
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  return reply.json();
}

std::int64_t count(const json::value& schedule, const char* key) { return schedule.at(key).as_int64(); }

// Polls until the schedule has fired at least `n` jobs.
json::value wait_for_fired(HttpClient& client, const std::string& id, std::int64_t n, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  json::value schedule = read(client, id);
  while (count(schedule, "fired") < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    schedule = read(client, id);
  }
  return schedule;
}

std::vector<std::string> jobs_of(HttpClient& client, const std::string& id) {
  std::vector<std::string> ids;
  const auto page = client.get("/jobs?limit=200&tag=schedule:" + id).json();
  for (const auto& job : page.at("jobs").as_array()) ids.emplace_back(job.at("job_id").as_string());
  return ids;
}

nox::TimeMs time_of(const json::value& schedule, const char* key) {
  return *nox::parse_rfc3339(schedule.at(key).as_string());
}

void sleep_until(nox::TimeMs t) {
  const nox::TimeMs now = nox::now_ms();
  if (t > now) std::this_thread::sleep_for(std::chrono::milliseconds(t - now));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schedules)

BOOST_AUTO_TEST_CASE(a_cron_schedule_in_a_time_zone_is_listed_paused_resumed_and_deleted) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  const auto schedule = create(client, R"({"name":"nightly water","cron":"30 2 * * *","time_zone":"Europe/Berlin",
                                            "job":)" + echo_job() + "}");
  const std::string id = json_string(schedule, "schedule_id");
  const auto zone = nox::TimeZone::load("Europe/Berlin");
  const auto cron = nox::CronSchedule::parse("30 2 * * *");
  const nox::TimeMs created = time_of(schedule, "created_at");
  BOOST_TEST(json_string(schedule, "next_fire_at") == nox::to_rfc3339(*cron->next_after(created, *zone)));
  BOOST_TEST(json_string(schedule, "missed") == "fire_once");
  BOOST_TEST(schedule.at("job").at("engine").as_string() == "echo");
  BOOST_TEST(count(schedule, "fired") == 0);

  const auto listed = client.get("/schedules").json().at("schedules").as_array();
  BOOST_TEST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(json_string(listed[0], "name") == "nightly water");

  auto reply = client.post_json("/schedules/" + id + "/pause", "");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  BOOST_TEST(reply.json().at("paused").as_bool());
  BOOST_TEST(reply.json().at("next_fire_at").is_null());
  reply = client.post_json("/schedules/" + id + "/resume", "");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  BOOST_TEST(!reply.json().at("paused").as_bool());
  BOOST_TEST(json_string(reply.json(), "next_fire_at") == nox::to_rfc3339(*cron->next_after(nox::now_ms(), *zone)));

  BOOST_TEST(client.request("DELETE", "/schedules/" + id).status == 204);
  reply = client.get("/schedules/" + id);
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(error_code(reply) == "schedule_not_found");

  // Refusals name the field.
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"cron":"61 * * * *","job":)" + echo_job() + "}", "cron"},
           {R"({"cron":"0 3 * * *","time_zone":"Mars/Olympus","job":)" + echo_job() + "}", "time_zone"},
           {R"({"every_s":0.5,"job":)" + echo_job() + "}", "every_s"},
           {R"({"cron":"0 3 * * *","every_s":60,"job":)" + echo_job() + "}", "cron"},
           {R"({"cron":"0 3 * * *","missed":"later","job":)" + echo_job() + "}", "missed"},
           {R"({"cron":"0 3 * * *"})", "job"},
           {R"({"cron":"0 3 * * *","job":{"engine":"xtb","task":"energy"}})", "job.molecule"},
           {R"({"cron":"0 3 * * *","job":)" + job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":5)") + "}",
            "job.run_at"},
       }) {
    BOOST_TEST_CONTEXT(body) {
      const auto refused = client.post_json("/schedules", body);
      BOOST_TEST(refused.status == 422);
      BOOST_TEST(error_code(refused) == "invalid_schedule");
      BOOST_TEST(refused.body.find(R"("field":")" + field) != std::string::npos, refused.body);
    }
  }
  BOOST_TEST(client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), R"("tags":["schedule:x"])"))
                 .status == 422);  // the tag is the server's
}

BOOST_AUTO_TEST_CASE(each_tick_fires_exactly_once_with_three_instances) {
  RedisServer redis;
  redis.start();
  std::vector<std::unique_ptr<NoxdProcess>> instances;
  for (int i = 0; i < 3; ++i)
    instances.push_back(std::make_unique<NoxdProcess>(std::vector<std::string>{"--redis-url", redis.url(), "--slots", "2"}));
  HttpClient client(instances[0]->port());
  const std::string id = json_string(create(client, R"({"every_s":1,"job":)" + echo_job() + "}"), "schedule_id");
  const auto fired = wait_for_fired(client, id, 6, 30s);
  HttpClient other(instances[2]->port());
  BOOST_TEST_REQUIRE(other.post_json("/schedules/" + id + "/pause", "").status == 200);
  const auto paused = read(client, id);
  const std::vector<std::string> jobs = jobs_of(client, id);
  // One job per tick: as many as it counted fired, none twice, no tick without its job.
  BOOST_TEST(count(paused, "fired") >= 6);
  BOOST_TEST(jobs.size() == static_cast<std::size_t>(count(paused, "fired")));
  BOOST_TEST(std::set<std::string>(jobs.begin(), jobs.end()).size() == jobs.size());
  BOOST_TEST(count(paused, "missed_ticks") == 0);
  const nox::TimeMs first_tick = time_of(paused, "created_at") + 1000;
  const nox::TimeMs last_tick = time_of(paused, "last_fired_at");
  BOOST_TEST((last_tick - first_tick) / 1000 + 1 == count(paused, "fired"));
  for (const auto& job : jobs) BOOST_TEST(json_string(wait_until_finished(client, job, 20s), "state") == "completed");
  (void)fired;
}

BOOST_AUTO_TEST_CASE(ticks_missed_while_every_instance_was_down_fire_once_or_are_skipped) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1"};
  auto noxd = std::make_unique<NoxdProcess>(flags);
  std::optional<HttpClient> client(std::in_place, noxd->port());
  const std::string spec = R"("every_s":6,"job":)" + echo_job() + "}";
  const std::string once = json_string(create(*client, R"({"missed":"fire_once",)" + spec), "schedule_id");
  const std::string skip = json_string(create(*client, R"({"missed":"skip",)" + spec), "schedule_id");
  const auto first = wait_for_fired(*client, once, 1, 20s);
  BOOST_TEST_REQUIRE(count(first, "fired") == 1);
  const auto first_skip = wait_for_fired(*client, skip, 1, 5s);
  BOOST_TEST_REQUIRE(count(first_skip, "fired") == 1);
  const nox::TimeMs tick = time_of(first, "last_fired_at");
  const nox::TimeMs skip_tick = time_of(first_skip, "last_fired_at");  // created a moment later
  client.reset();
  noxd.reset();  // every instance down for the next two ticks
  // Back after the second missed tick's grace (half the interval) and before the next one.
  sleep_until(tick + 2 * 6000 + 3300);
  noxd = std::make_unique<NoxdProcess>(flags);
  client.emplace(noxd->port());
  const auto back_once = wait_for_fired(*client, once, 2, 5s);
  BOOST_TEST(count(back_once, "fired") == 2);  // one job for both missed ticks
  BOOST_TEST(count(back_once, "missed_ticks") == 1);
  BOOST_TEST(time_of(back_once, "last_fired_at") == tick + 2 * 6000);
  BOOST_TEST(time_of(back_once, "next_fire_at") == tick + 3 * 6000);
  auto back_skip = read(*client, skip);
  for (int i = 0; i < 50 && count(back_skip, "missed_ticks") < 2; ++i) {
    std::this_thread::sleep_for(100ms);
    back_skip = read(*client, skip);
  }
  BOOST_TEST(count(back_skip, "fired") == 1);  // none for them
  BOOST_TEST(count(back_skip, "missed_ticks") == 2);
  BOOST_TEST(time_of(back_skip, "next_fire_at") == skip_tick + 3 * 6000);
  BOOST_TEST(jobs_of(*client, once).size() == 2u);
  BOOST_TEST(jobs_of(*client, skip).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
