// Live status over Server-Sent Events against a real noxd: exact event sequences,
// history for late subscribers, resume with Last-Event-ID without gap or duplicate.
#include <vector>

#include "server/sse_format.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/sse_client.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

struct SseServer {
  NoxdProcess noxd{{"--slots", "2", "--sse-heartbeat-s", "0.3", "--events-capacity", "100"}};
  HttpClient client{noxd.port()};
  std::string echo_spec = job_spec_json("echo", "energy", molecule_xyz("water"));
};

// Reads events until `count` arrived (comments skipped), failing on a timeout.
std::vector<SseEvent> read_events(SseClient& stream, std::size_t count) {
  std::vector<SseEvent> events;
  while (events.size() < count) {
    auto event = stream.next(std::chrono::seconds(15));
    BOOST_REQUIRE_MESSAGE(event, "expected " << count << " events, got " << events.size());
    events.push_back(*event);
  }
  return events;
}

std::vector<std::string> types_of(const std::vector<SseEvent>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  return types;
}

void require_increasing_ids(const std::vector<SseEvent>& events) {
  for (std::size_t i = 1; i < events.size(); ++i)
    BOOST_TEST(nox::event_id_after(events[i].id, events[i - 1].id), events[i].id << " after " << events[i - 1].id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sse)

BOOST_FIXTURE_TEST_CASE(job_stream_replays_history_and_ends, SseServer) {
  const auto id = submit(client, echo_spec);
  wait_until_finished(client, id);
  SseClient stream(noxd.port(), "/jobs/" + id + "/events");
  BOOST_REQUIRE_EQUAL(stream.status(), 200);
  BOOST_TEST(stream.header("content-type") == "text/event-stream");
  BOOST_TEST(stream.header("cache-control") == "no-cache");
  BOOST_TEST(stream.header("x-accel-buffering") == "no");
  auto events = read_events(stream, 3);
  BOOST_TEST(types_of(events) == (std::vector<std::string>{"submitted", "started", "completed"}),
             boost::test_tools::per_element());
  require_increasing_ids(events);
  auto data = json::parse(events[2].data);
  BOOST_TEST(data.at("job_id").as_string() == id);
  BOOST_TEST(data.at("state").as_string() == "completed");
  BOOST_TEST(!data.at("time").as_string().empty());
  BOOST_TEST(stream.retry_ms().has_value());
  BOOST_TEST(!stream.next(std::chrono::seconds(5)));
  BOOST_TEST(stream.ended());
}

BOOST_FIXTURE_TEST_CASE(all_jobs_stream_goes_live_and_resumes_without_gap, SseServer) {
  std::vector<SseEvent> seen;
  {
    SseClient stream(noxd.port(), "/events");
    BOOST_REQUIRE_EQUAL(stream.status(), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < 2; ++i) submit(client, echo_spec);
    seen = read_events(stream, 6);
  }  // disconnect
  require_increasing_ids(seen);
  // While nobody listens, more happens.
  std::vector<std::string> later;
  for (int i = 0; i < 2; ++i) later.push_back(submit(client, echo_spec));
  for (const auto& id : later) wait_until_finished(client, id);

  // Resume after the 4th event: exactly events 5, 6 and the 6 new ones, in order.
  SseClient resumed(noxd.port(), "/events", {{"Last-Event-ID", seen[3].id}});
  auto replay = read_events(resumed, 8);
  BOOST_TEST(replay[0].id == seen[4].id);
  BOOST_TEST(replay[1].id == seen[5].id);
  require_increasing_ids(replay);
  for (std::size_t i = 2; i < replay.size(); ++i) {
    auto job_id = std::string(json::parse(replay[i].data).at("job_id").as_string());
    BOOST_TEST((job_id == later[0] || job_id == later[1]));
  }
  // Live again after the replay: one more job shows up once.
  const auto live_id = submit(client, echo_spec);
  auto live = read_events(resumed, 3);
  for (const auto& e : live) BOOST_TEST(json::parse(e.data).at("job_id").as_string() == live_id);
  BOOST_TEST(nox::event_id_after(live[0].id, replay.back().id));
}

BOOST_FIXTURE_TEST_CASE(query_parameter_resume_and_filters, SseServer) {
  const auto first = submit(client, echo_spec);
  wait_until_finished(client, first);
  SseClient history(noxd.port(), "/jobs/" + first + "/events");
  auto events = read_events(history, 3);
  // ?last_event_id= for clients that cannot set headers: only what follows.
  SseClient after(noxd.port(), "/jobs/" + first + "/events?last_event_id=" + events[0].id);
  auto rest = read_events(after, 2);
  BOOST_TEST(rest[0].id == events[1].id);
  BOOST_TEST(rest[1].id == events[2].id);

  SseClient completed_only(noxd.port(), "/events?state=completed&tag=blue");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), "\"tags\":[\"red\"]"));
  const auto blue = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), "\"tags\":[\"blue\"]"));
  auto only = read_events(completed_only, 1);
  BOOST_TEST(only[0].type == "completed");
  BOOST_TEST(json::parse(only[0].data).at("job_id").as_string() == blue);
  // Regression: the stream filtered by the reserved tags (batch:, inchikey:) that GET /jobs
  // takes delivered nothing (the hub matched the spec's tags only).
  SseClient water_only(noxd.port(), "/events?state=completed&tag=inchikey:XLYOFNOQVPJJNP-UHFFFAOYSA-N");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto water = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water")));
  auto found = read_events(water_only, 1);
  BOOST_TEST(json::parse(found[0].data).at("job_id").as_string() == water);
  BOOST_TEST(SseClient(noxd.port(), "/events?state=bogus").status() == 400);
  BOOST_TEST(SseClient(noxd.port(), "/jobs/0123456789abcdef0123456789abcdef/events").status() == 404);
}

BOOST_FIXTURE_TEST_CASE(heartbeat_comments_keep_idle_streams_open, SseServer) {
  SseClient stream(noxd.port(), "/events");
  BOOST_TEST(!stream.next(std::chrono::milliseconds(1000)));
  BOOST_TEST(stream.comments_seen() >= 2);
  BOOST_TEST(!stream.ended());
}

BOOST_FIXTURE_TEST_CASE(too_old_last_event_id_gets_reset, SseServer) {
  const auto first = submit(client, echo_spec);
  wait_until_finished(client, first);
  SseClient history(noxd.port(), "/jobs/" + first + "/events");
  const auto oldest = read_events(history, 1)[0].id;
  // The server keeps 100 events: push the first ones out.
  std::string batch = "[";
  for (int i = 0; i < 50; ++i) batch += (i ? "," : "") + echo_spec;
  auto reply = client.post_json("/jobs/batch", batch + "]");
  BOOST_REQUIRE_EQUAL(reply.status, 202);
  const auto body = reply.json();
  for (const auto& job : body.at("jobs").as_array())
    wait_until_finished(client, std::string(job.at("job_id").as_string()));
  SseClient stale(noxd.port(), "/events", {{"Last-Event-ID", oldest}});
  auto events = read_events(stale, 1);
  BOOST_TEST(events[0].type == "reset");
}

// Regression: a finished job whose events had left the log got a stream of heartbeats that
// never ended. Now it is told the job's final state (no id: the log has none for it) and ends.
BOOST_FIXTURE_TEST_CASE(finished_job_whose_events_left_the_log_gets_its_final_state_and_the_end, SseServer) {
  const auto first = submit(client, echo_spec);
  wait_until_finished(client, first);
  std::string batch = "[";
  for (int i = 0; i < 50; ++i) batch += (i ? "," : "") + echo_spec;  // 150 events: the log keeps 100
  auto reply = client.post_json("/jobs/batch", batch + "]");
  BOOST_REQUIRE_EQUAL(reply.status, 202);
  const auto accepted = reply.json();
  for (const auto& job : accepted.at("jobs").as_array())
    wait_until_finished(client, std::string(job.at("job_id").as_string()));

  SseClient stream(noxd.port(), "/jobs/" + first + "/events");
  BOOST_REQUIRE_EQUAL(stream.status(), 200);
  auto events = read_events(stream, 1);
  BOOST_TEST(events[0].type == "completed");
  BOOST_TEST(events[0].id.empty());
  auto data = json::parse(events[0].data);
  BOOST_TEST(data.at("job_id").as_string() == first);
  BOOST_TEST(data.at("state").as_string() == "completed");
  BOOST_TEST(!stream.next(std::chrono::seconds(5)));
  BOOST_TEST(stream.ended());
}

BOOST_FIXTURE_TEST_CASE(optimization_streams_progress, SseServer) {
  const auto id = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("decane")));
  SseClient stream(noxd.port(), "/jobs/" + id + "/events");
  std::vector<SseEvent> events;
  while (auto event = stream.next(std::chrono::seconds(60))) events.push_back(*event);
  BOOST_REQUIRE(!events.empty());
  BOOST_TEST(events.front().type == "submitted");
  BOOST_TEST(events.back().type == "completed");
  int progress = 0;
  for (const auto& e : events) {
    if (e.type != "progress") continue;
    ++progress;
    auto p = json::parse(e.data).at("progress");
    BOOST_TEST(p.at("cycle").as_int64() >= 1);
    BOOST_TEST(p.at("energy_eh").to_number<double>() < -30.0);
  }
  BOOST_TEST(progress >= 1);
  require_increasing_ids(events);
}

BOOST_AUTO_TEST_SUITE_END()
