// Observability (issue 8): GET /metrics in the Prometheus format (checked with promtool when it
// is installed), the access log with X-Request-ID, JSON log lines.
#include <cstdio>
#include <fstream>

#include "core/log.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox;
using namespace nox::test;
namespace json = boost::json;

namespace {

std::string add_admin_key(const std::filesystem::path& file) {
  const CommandResult added =
      run_command(noxd_path() + " keys add ops --scopes admin --keys-file " + file.string() + " 2>/dev/null");
  BOOST_REQUIRE(added.status == 0);
  return added.out.substr(0, added.out.find('\n'));
}

// `promtool check metrics` on the text; nullopt when promtool is not installed.
std::optional<std::pair<int, std::string>> promtool_check(const std::string& text, const std::filesystem::path& dir) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) return std::nullopt;
  const auto input = dir / "metrics.txt";
  std::ofstream(input) << text;
  const CommandResult checked = run_command("promtool check metrics < " + input.string() + " 2>&1");
  return std::make_pair(checked.status, checked.out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(observability)

BOOST_AUTO_TEST_CASE(metrics_are_valid_prometheus_text_for_an_administrator) {
  TempDir dir;
  const std::string admin = add_admin_key(dir.path() / "keys");
  NoxdProcess noxd{{"--slots", "1", "--keys-file", (dir.path() / "keys").string()}};
  HttpClient client{noxd.port()};
  const std::map<std::string, std::string> as_admin{{"x-api-key", admin}};
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  auto submitted = client.request("POST", "/jobs", spec, {{"x-api-key", admin}, {"content-type", "application/json"}});
  BOOST_REQUIRE_EQUAL(submitted.status, 202);
  const std::string id = json_string(submitted.json(), "job_id");
  for (int i = 0; i < 500; ++i) {
    auto status = client.request("GET", "/jobs/" + id + "/status", {}, as_admin);
    if (json_string(status.json(), "state") == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(client.get("/metrics").status == 401);
  auto reply = client.request("GET", "/metrics", {}, as_admin);
  BOOST_TEST_REQUIRE(reply.status == 200);
  BOOST_TEST(reply.header("content-type").starts_with("text/plain; version=0.0.4"));
  const std::string& text = reply.body;
  BOOST_TEST(text.find("nox_http_requests_total{route=\"/jobs/{id}/status\",method=\"GET\",status=\"200\"}") !=
             std::string::npos, text.substr(0, 2000));
  BOOST_TEST(text.find("nox_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1") != std::string::npos);
  BOOST_TEST(text.find("nox_jobs_finished_total{engine=\"echo\",task=\"energy\",method=\"gfn2\",outcome=\"completed\"} 1") !=
             std::string::npos);
  BOOST_TEST(text.find("nox_event_loop_lag_seconds_count") != std::string::npos);
  BOOST_TEST(text.find("nox_slots{state=\"total\"} 1") != std::string::npos);
  BOOST_TEST(text.find("nox_jobs{state=\"pending\"} 0") != std::string::npos);
  if (auto checked = promtool_check(text, dir.path())) {
    BOOST_TEST(checked->first == 0, checked->second);
  } else {
    BOOST_TEST_MESSAGE("promtool is not installed: the format was not checked by it");
  }
}

BOOST_AUTO_TEST_CASE(each_request_writes_one_json_access_line_with_its_request_id) {
  NoxdProcess noxd{{"--slots", "1", "--log-format", "json"}};
  HttpClient client{noxd.port()};
  auto given = client.request("GET", "/jobs/0123456789abcdef0123456789abcdef", {}, {{"x-request-id", "trace-42"}});
  BOOST_TEST(given.status == 404);
  BOOST_TEST(given.header("x-request-id") == "trace-42");
  auto made = client.get("/health");
  const std::string made_id = made.header("x-request-id");
  BOOST_TEST(made_id.size() == 16u);
  // Lines are written by the log thread: wait for them, not for a fixed time.
  std::string log;
  for (int i = 0; i < 500 && log.find(made_id) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = noxd.log();
  }
  json::object access;
  bool found = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json::value v = json::parse(line);  // every line is JSON with --log-format json
    if (v.as_object().contains("request_id") && v.at("request_id") == "trace-42") access = v.as_object(), found = true;
  }
  BOOST_TEST_REQUIRE(found, log);
  BOOST_TEST(access.at("type") == "access");
  BOOST_TEST(access.at("method") == "GET");
  BOOST_TEST(access.at("route") == "/jobs/{id}");  // the template, not the id
  BOOST_TEST(access.at("status") == 404);
  BOOST_TEST(access.at("client") == "127.0.0.1");
  BOOST_TEST(access.at("duration_ms").is_number());
  BOOST_TEST(access.at("bytes").as_int64() == static_cast<std::int64_t>(given.body.size()));
  noxd.stop();  // "signal 15: draining", "stopped": ordinary lines, in JSON too
  BOOST_TEST(noxd.log().find("{\"time\":") != std::string::npos);
  BOOST_TEST(noxd.log().find("\"level\":\"info\",\"message\":\"stopped\"") != std::string::npos, noxd.log());

  NoxdProcess quiet{{"--slots", "1", "--access-log=false"}};
  HttpClient quiet_client{quiet.port()};
  const std::string quiet_id = quiet_client.get("/health").header("x-request-id");
  quiet.stop();
  BOOST_TEST(quiet.log().find(quiet_id) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
