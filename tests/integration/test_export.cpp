// GET /jobs/export (issue 10): every job matching GET /jobs's filters, with its result, in one
// streamed NDJSON or CSV response, confined to what the caller may see.
#include <sstream>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// 1,203 echo jobs (three pages of the export's 500) and one xtb job with a real result.
void export_everything(HttpClient& client) {
  std::string batch = "[";
  for (int i = 0; i < 1202; ++i)
    batch += (i ? "," : "") + job_spec_json("echo", "energy", molecule_xyz("water"), R"("tags":["export-test"])");
  batch += "]";
  const auto submitted = client.post_json("/jobs/batch", batch);
  BOOST_TEST_REQUIRE(submitted.status == 202, submitted.body.substr(0, 300));
  const auto xtb = submit(client, job_spec_json("xtb", "energy", molecule_xyz("water"), R"("tags":["export-test"],"name":"w, \"quoted\"")"));
  BOOST_TEST_REQUIRE(json_string(wait_until_finished(client, xtb, 60s), "state") == "completed");
  for (int i = 0; i < 200; ++i) {
    if (client.get("/jobs?tag=export-test&state=pending&limit=1").json().at("jobs").as_array().empty()) break;
    std::this_thread::sleep_for(50ms);
  }

  const auto ndjson = client.get("/jobs/export?tag=export-test");
  BOOST_TEST_REQUIRE(ndjson.status == 200);
  BOOST_TEST(ndjson.header("content-type") == "application/x-ndjson");
  const auto records = lines_of(ndjson.body);
  BOOST_TEST(records.size() == 1203u);
  bool found_xtb = false;
  for (const auto& line : records) {
    const auto job = json::parse(line);
    BOOST_TEST(json_string(job, "state") == "completed");
    if (json_string(job, "job_id") == xtb) {
      found_xtb = true;
      BOOST_TEST(job.at("result").at("energy_eh").as_double() < -5.0);  // the result is there
    }
  }
  BOOST_TEST(found_xtb);

  const auto csv = client.get("/jobs/export?tag=export-test&engine=xtb&format=csv");
  BOOST_TEST_REQUIRE(csv.status == 200);
  BOOST_TEST(csv.header("content-type") == "text/csv; charset=utf-8");
  const auto rows = lines_of(csv.body);
  BOOST_TEST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].rfind("job_id,state,engine,task,method,name,formula,inchikey,tags", 0) == 0u);
  BOOST_TEST(rows[1].find(xtb + ",completed,xtb,energy,gfn2,\"w, \"\"quoted\"\"\",H2O,XLYOFNOQVPJJNP-UHFFFAOYSA-N") == 0u,
             rows[1]);
  BOOST_TEST(rows[1].find(",-5.") != std::string::npos, rows[1]);  // energy_eh

  const auto refused = client.get("/jobs/export?format=xml");
  BOOST_TEST(refused.status == 400);
  BOOST_TEST(error_code(refused) == "invalid_parameter");
  BOOST_TEST(client.get("/jobs/export?state=done").status == 400);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(export_jobs)

BOOST_AUTO_TEST_CASE(everything_with_results_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client(noxd.port());
  export_everything(client);
}

BOOST_AUTO_TEST_CASE(everything_with_results_on_redis) {
  RedisServer redis;
  redis.start();
  NoxdProcess noxd{{"--slots", "2", "--redis-url", redis.url()}};
  HttpClient client(noxd.port());
  export_everything(client);
}

BOOST_AUTO_TEST_SUITE_END()
