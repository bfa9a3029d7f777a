// Batches: molecule files (SDF, multi-frame XYZ, SMILES lines) as POST /jobs/batch, each record a
// job or its own errors, grouped by a batch id that GET /batches/{id} counts.
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(NOX_FIXTURES_DIR) + "/molecules/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpReply post_file(HttpClient& client, const std::string& query, const std::string& type, const std::string& body) {
  return client.request("POST", "/jobs/batch?" + query, body, {{"content-type", type}});
}

// Waits until the batch has finished, then returns GET /batches/{id}.
json::value finished_batch(HttpClient& client, const std::string& id) {
  for (int i = 0; i < 600; ++i) {
    auto body = client.get("/batches/" + id).json();
    if (body.at("finished") == body.at("total")) return body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_FAIL("batch " << id << " did not finish");
  return {};
}

void sdf_of_twenty_with_one_broken_record(HttpClient& client) {
  const auto reply = post_file(client, "engine=xtb&task=energy&method=gfn2&tags=screen,sdf&priority=2",
                               "chemical/x-mdl-sdfile", fixture("twenty.sdf"));
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const auto answer = reply.json();
  BOOST_TEST(answer.at("accepted").as_int64() == 19);
  BOOST_TEST(answer.at("refused").as_int64() == 1);
  const auto& records = answer.at("records").as_array();
  BOOST_TEST_REQUIRE(records.size() == 20u);
  BOOST_TEST(records[6].at("record").as_int64() == 7);
  BOOST_TEST(records[6].as_object().contains("errors"));
  BOOST_TEST(json::serialize(records[6].at("errors")).find("molecule.sdf") != std::string::npos, json::serialize(records[6]));
  const std::string first(records[0].at("job_id").as_string());
  const auto job = client.get("/jobs/" + first).json();
  BOOST_TEST(job.at("spec").at("labels").at("catalog_id").as_string() == "NOX-001");  // SDF data items
  BOOST_TEST(job.at("spec").at("name").as_string() == "mol01");                      // the record's title
  BOOST_TEST(job.at("spec").at("priority").as_int64() == 2);
  BOOST_TEST(job.at("spec").at("tags").as_array().size() == 2u);
  const std::string batch(answer.at("batch_id").as_string());
  BOOST_TEST(job.at("spec").at("batch_id").as_string() == batch);
  const auto done = finished_batch(client, batch);
  BOOST_TEST(done.at("total").as_int64() == 19);
  BOOST_TEST(done.at("counts").at("completed").as_int64() == 19, json::serialize(done));
  BOOST_TEST(done.at("progress").as_double() == 1.0);
  // The batch's jobs are listed by its index tag.
  const auto listed = client.get("/jobs?limit=100&tag=batch:" + batch).json();
  BOOST_TEST(listed.at("jobs").as_array().size() == 19u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(batches)

BOOST_AUTO_TEST_CASE(sdf_batch_in_memory) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
  sdf_of_twenty_with_one_broken_record(client);
}

BOOST_AUTO_TEST_CASE(sdf_batch_on_redis) {
  RedisServer redis;
  NoxdProcess noxd{{"--slots", "2", "--redis-url", redis.url()}};
  HttpClient client{noxd.port()};
  sdf_of_twenty_with_one_broken_record(client);
}

BOOST_AUTO_TEST_CASE(smiles_lines_and_xyz_frames) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
  const auto smiles = post_file(client, "engine=echo&task=energy", "chemical/x-daylight-smiles",
                                "# a comment\nCCO ethanol\n\nC1CC broken\nO water\n");
  BOOST_TEST_REQUIRE(smiles.status == 202, smiles.body);
  const auto s = smiles.json();
  BOOST_TEST(s.at("accepted").as_int64() == 2);
  BOOST_TEST(s.at("records").at(1).at("errors").at(0).at("field").as_string() == "molecule.smiles");
  BOOST_TEST(s.at("records").at(2).at("name").as_string() == "water");
  const std::string two_frames = "3\nfirst\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"
                                 "3\nsecond\nO 0 0 0.127\nH 0 0.767 -0.467\nH 0 -0.767 -0.467\n";
  const auto xyz = post_file(client, "engine=echo&keywords.max_opt_cycles=5", "chemical/x-xyz", two_frames);
  BOOST_TEST_REQUIRE(xyz.status == 202, xyz.body);
  BOOST_TEST(xyz.json().at("accepted").as_int64() == 2);
  const std::string id(xyz.json().at("records").at(0).at("job_id").as_string());
  BOOST_TEST(client.get("/jobs/" + id).json().at("spec").at("keywords").at("max_opt_cycles").as_int64() == 5);
  // Nothing valid at all: 422 naming each record.
  const auto none = post_file(client, "engine=echo", "chemical/x-daylight-smiles", "C1CC\nXx\n");
  BOOST_TEST(none.status == 422);
  BOOST_TEST(none.body.find("records[1].molecule.smiles") != std::string::npos, none.body);
  // A truncated XYZ frame is that record's error; the frames before it are accepted.
  const auto cut = post_file(client, "engine=echo", "chemical/x-xyz", two_frames + "3\nthird\nO 0 0 0\n");
  BOOST_TEST(cut.json().at("accepted").as_int64() == 2);
  BOOST_TEST(cut.json().at("records").at(2).at("errors").at(0).at("message").as_string().find("announces 3 atoms") !=
             std::string::npos);
  BOOST_TEST(post_file(client, "engine=echo&molecule=x", "chemical/x-xyz", two_frames).status == 400);
}

BOOST_AUTO_TEST_CASE(json_batches_have_an_id_too) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client{noxd.port()};
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  const auto reply = client.post_json("/jobs/batch", "[" + spec + "," + spec + "," + spec + "]");
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const std::string batch(reply.json().at("batch_id").as_string());
  const auto done = finished_batch(client, batch);
  BOOST_TEST(done.at("total").as_int64() == 3);
  BOOST_TEST(done.at("counts").at("completed").as_int64() == 3);
  BOOST_TEST(client.get("/batches/0123456789abcdef0123456789abcdef").status == 404);
  BOOST_TEST(client.get("/batches/nonsense").status == 404);
  // A single job cannot join a batch by naming its id.
  const auto single = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), "\"batch_id\":\"" + batch + "\""));
  wait_until_finished(client, single);
  BOOST_TEST(finished_batch(client, batch).at("total").as_int64() == 3);
}

BOOST_AUTO_TEST_SUITE_END()
