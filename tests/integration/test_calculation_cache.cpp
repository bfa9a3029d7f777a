// The calculation cache through noxd with real xtb runs (issue 9, "Never compute twice"): a
// finished identical calculation answers at once (cached_from, no engine run, its files hard-linked or copied in the store); one
// under way is joined; a cancelled one leaves its joiners to run; "cache": false computes; scopes
// per owner or lab-wide; the same across two instances sharing Redis.
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string water = molecule_xyz("water");
// ~40 s of xtb on one slot (a GFN2 Hessian of C30H62), cancelled once the jobs under test are
// queued behind it; computed each time ("cache": false).
const std::string blocker_spec = job_spec_json("xtb", "hessian", molecule_xyz("triacontane"), R"("cache":false)");

json::object accepted(HttpClient& client, const std::string& spec,
                      const std::map<std::string, std::string>& headers = {}) {
  auto all = headers;
  all["content-type"] = "application/json";
  const auto reply = client.request("POST", "/jobs", spec, all);
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  return reply.json().as_object();
}

json::object job(HttpClient& client, const std::string& id, const std::map<std::string, std::string>& headers = {}) {
  const auto reply = client.request("GET", "/jobs/" + id, "", headers);
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  return reply.json().as_object();
}

std::string text(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// nox_calculation_cache_total{outcome="..."} of GET /metrics.
double cache_count(HttpClient& client, const std::string& outcome) {
  const std::string body = client.get("/metrics").body;
  const std::string sample = "nox_calculation_cache_total{outcome=\"" + outcome + "\"} ";
  const auto at = body.find(sample);
  BOOST_TEST_REQUIRE(at != std::string::npos, "no " << sample << " in /metrics");
  return std::stod(body.substr(at + sample.size()));
}

std::string add_key(const std::filesystem::path& file, const std::string& name) {
  CommandResult added =
      run_command(noxd_path() + " keys add " + name + " --scopes compute:read,compute:write --keys-file " + file.string() +
                  " 2>/dev/null");
  BOOST_REQUIRE_MESSAGE(added.status == 0, "noxd keys add " << name << " exited " << added.status);
  return added.out.substr(0, added.out.find('\n'));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(calculation_cache)

BOOST_AUTO_TEST_CASE(a_finished_calculation_answers_at_once_with_its_result_and_files) {
  NoxdProcess noxd{{"--slots", "2", "--cache-scope", "owner"}};
  HttpClient client(noxd.port());
  const std::string spec = job_spec_json("xtb", "optimize", water, R"("outputs":["molden"],"name":"first")");
  const std::string first = text(accepted(client, spec), "job_id");
  BOOST_TEST(json_string(wait_until_finished(client, first), "state") == "completed");
  const json::object computed = job(client, first);
  BOOST_TEST(text(computed.at("spec").as_object(), "calculation").size() == 64u);

  // The same calculation under another name and tags, atoms within rounding (1e-6 Angstrom).
  std::string nudged = water;
  nudged.replace(nudged.find("0.117"), 5, "0.117001");  // the fixture's O z coordinate
  BOOST_TEST_REQUIRE(nudged != water);
  const auto hit = accepted(client, job_spec_json("xtb", "optimize", nudged,
                                                  R"("outputs":["molden"],"name":"again","tags":["x"])"));
  BOOST_TEST(text(hit, "state") == "completed");
  const std::string second = text(hit, "job_id");
  const json::object cached = job(client, second);
  BOOST_TEST(text(cached, "state") == "completed");
  BOOST_TEST(text(cached, "cached_from") == first);
  BOOST_TEST(cached.at("attempts").as_int64() == 0);  // no engine ran
  BOOST_TEST(cached.at("started_at").is_null());
  BOOST_TEST(cached.at("result") == computed.at("result"));
  BOOST_TEST(text(cached.at("spec").as_object(), "name") == "again");
  BOOST_TEST(cached.at("spec").at("calculation") == computed.at("spec").at("calculation"));
  // Its files are its own: the same bytes, listed and downloadable.
  const auto files = client.get("/jobs/" + second + "/artifacts").json().at("artifacts").as_array();
  const auto originals = client.get("/jobs/" + first + "/artifacts").json().at("artifacts").as_array();
  BOOST_TEST(files.size() == originals.size());
  BOOST_TEST(client.get("/jobs/" + second + "/artifacts/molden.input").body ==
             client.get("/jobs/" + first + "/artifacts/molden.input").body);
  BOOST_TEST(client.get("/jobs/" + second + "/artifacts/xtbopt.xyz").body ==
             client.get("/jobs/" + first + "/artifacts/xtbopt.xyz").body);
  BOOST_TEST(cache_count(client, "hit") == 1);
  BOOST_TEST(cache_count(client, "miss") == 1);
  // On disk they are the original's files, hard-linked, not copies: 100,000 submissions of one
  // calculation took 3 GB of copies.
  const std::filesystem::path artifacts = noxd.dir() / "data" / "artifacts";
  struct stat original_file {}, cached_file {};
  BOOST_TEST_REQUIRE(::stat((artifacts / first / "molden.input").c_str(), &original_file) == 0);
  BOOST_TEST_REQUIRE(::stat((artifacts / second / "molden.input").c_str(), &cached_file) == 0);
  BOOST_TEST(original_file.st_ino == cached_file.st_ino);
  BOOST_TEST(cached_file.st_nlink == 2u);

  // Deleting the original leaves the copy whole.
  BOOST_TEST(client.request("DELETE", "/jobs/" + first).status == 204);
  BOOST_TEST(client.get("/jobs/" + second + "/artifacts/molden.input").status == 200);
  BOOST_TEST(client.get("/jobs/" + second + "/result").status == 200);

  // "cache": false computes; a geometry 1e-3 Angstrom away is another calculation.
  const auto fresh = accepted(client, job_spec_json("xtb", "optimize", water, R"("outputs":["molden"],"cache":false)"));
  BOOST_TEST(text(fresh, "state") == "pending");
  std::string moved = water;
  moved.replace(moved.find("0.117"), 5, "0.118");
  const auto other = accepted(client, job_spec_json("xtb", "optimize", moved, R"("outputs":["molden"])"));
  BOOST_TEST(text(other, "state") == "pending");
  for (const auto& id : {text(fresh, "job_id"), text(other, "job_id")}) {
    wait_until_finished(client, id);
    const auto ran = job(client, id);
    BOOST_TEST(ran.at("attempts").as_int64() == 1);
    BOOST_TEST(!ran.contains("cached_from"));
  }
  BOOST_TEST(cache_count(client, "bypassed") == 1);
  // echo (tests and benchmarks) is never cached.
  const auto echo1 = accepted(client, job_spec_json("echo", "energy", water));
  const auto echo2 = accepted(client, job_spec_json("echo", "energy", water));
  BOOST_TEST(text(echo2, "state") == "pending");
  BOOST_TEST(!job(client, text(echo2, "job_id")).at("spec").as_object().contains("calculation"));
}

BOOST_AUTO_TEST_CASE(a_calculation_under_way_is_joined_and_a_cancelled_one_leaves_its_joiners_to_run) {
  NoxdProcess noxd{{"--slots", "1", "--cache-scope", "owner"}};
  HttpClient client(noxd.port());
  const std::string spec = job_spec_json("xtb", "energy", water);
  const std::string blocker = text(accepted(client, blocker_spec), "job_id");
  wait_for_state(client, blocker, "running");
  // Behind the blocker: the first is queued, the next two wait on it.
  const std::string first = text(accepted(client, spec), "job_id");
  const auto joined = accepted(client, spec);
  BOOST_TEST(text(joined, "state") == "waiting");
  const json::object waiting = job(client, text(joined, "job_id"));
  BOOST_TEST(text(waiting, "state") == "waiting");
  BOOST_TEST(text(waiting, "waiting_on") == first);
  const std::string listed = client.get("/jobs?state=waiting").body;
  BOOST_TEST(listed.find(text(joined, "job_id")) != std::string::npos);
  const auto joined_then_cancelled = accepted(client, spec);
  BOOST_TEST(client.request("POST", "/jobs/" + text(joined_then_cancelled, "job_id") + "/cancel").status == 200);
  BOOST_TEST(cache_count(client, "joined") == 2);

  // The first cancelled: its joiner is queued and computes itself.
  BOOST_TEST(client.request("POST", "/jobs/" + first + "/cancel").status == 200);
  wait_for_state(client, text(joined, "job_id"), "pending", 10s);
  // The latest job of the calculation was cancelled: a new submission does not join it, it leads.
  const auto joins_again = accepted(client, spec);
  BOOST_TEST(text(joins_again, "state") == "pending");
  BOOST_TEST(client.request("POST", "/jobs/" + blocker + "/cancel").status == 200);
  const auto done = wait_until_finished(client, text(joined, "job_id"));
  BOOST_TEST(json_string(done, "state") == "completed");
  const auto ran = job(client, text(joined, "job_id"));
  BOOST_TEST(ran.at("attempts").as_int64() == 1);
  BOOST_TEST(!ran.contains("cached_from"));
  BOOST_TEST(json_string(wait_until_finished(client, text(joins_again, "job_id")), "state") == "completed");
  BOOST_TEST(text(job(client, text(joined_then_cancelled, "job_id")), "state") == "cancelled");

  // A job waiting on one that completes completes with it, without running.
  const std::string blocker2 = text(accepted(client, blocker_spec), "job_id");
  const std::string leader = text(accepted(client, job_spec_json("xtb", "gradient", water)), "job_id");
  const auto follower = accepted(client, job_spec_json("xtb", "gradient", water));
  BOOST_TEST(text(follower, "state") == "waiting");
  BOOST_TEST(client.request("POST", "/jobs/" + blocker2 + "/cancel").status == 200);
  BOOST_TEST(json_string(wait_until_finished(client, text(follower, "job_id")), "state") == "completed");
  const auto shared = job(client, text(follower, "job_id"));
  BOOST_TEST(text(shared, "cached_from") == leader);
  BOOST_TEST(shared.at("attempts").as_int64() == 0);
  BOOST_TEST(shared.at("result") == job(client, leader).at("result"));
}

BOOST_AUTO_TEST_CASE(the_cache_is_each_owners_unless_the_lab_shares_it) {
  TempDir dir("nox-cache-keys-");
  const auto keys = dir.path() / "keys";
  const std::string alice = add_key(keys, "alice"), bob = add_key(keys, "bob");
  const std::string spec = job_spec_json("xtb", "energy", water);
  for (const std::string scope : {"owner", "lab"}) {
    BOOST_TEST_CONTEXT("cache_scope " << scope) {
      NoxdProcess noxd{{"--slots", "2", "--keys-file", keys.string(), "--cache-scope", scope}};
      HttpClient client(noxd.port());
      const std::map<std::string, std::string> as_alice{{"x-api-key", alice}}, as_bob{{"x-api-key", bob}};
      const std::string first = text(accepted(client, spec, as_alice), "job_id");
      for (int i = 0; i < 600 && text(job(client, first, as_alice), "state") != "completed"; ++i)
        std::this_thread::sleep_for(50ms);
      const auto again = accepted(client, spec, as_alice);
      BOOST_TEST(text(again, "state") == "completed");
      const auto bobs = accepted(client, spec, as_bob);
      BOOST_TEST(text(bobs, "state") == (scope == "lab" ? "completed" : "pending"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_hit_and_a_join_across_two_instances_on_redis) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1", "--cache-scope", "owner"};
  NoxdProcess a(flags), b(flags);
  HttpClient client_a(a.port()), client_b(b.port());
  const std::string spec = job_spec_json("xtb", "optimize", water, R"("outputs":["molden"])");
  const std::string first = text(accepted(client_a, spec), "job_id");
  BOOST_TEST(json_string(wait_until_finished(client_a, first), "state") == "completed");
  // Submitted to the other instance: answered from the first's result and files.
  const auto hit = accepted(client_b, spec);
  BOOST_TEST(text(hit, "state") == "completed");
  const auto cached = job(client_b, text(hit, "job_id"));
  BOOST_TEST(text(cached, "cached_from") == first);
  BOOST_TEST(cached.at("result") == job(client_a, first).at("result"));
  BOOST_TEST(client_b.get("/jobs/" + text(hit, "job_id") + "/artifacts/molden.input").body ==
             client_a.get("/jobs/" + first + "/artifacts/molden.input").body);

  // Both instances busy: a job queued through one is joined through the other, and the
  // joiner completes when it does (settled by whichever instance reads its end first).
  const std::string block_a = text(accepted(client_a, blocker_spec), "job_id");
  const std::string block_b = text(accepted(client_b, blocker_spec), "job_id");
  wait_for_state(client_a, block_a, "running");
  wait_for_state(client_a, block_b, "running");
  const std::string gradient = job_spec_json("xtb", "gradient", water);
  const std::string leader = text(accepted(client_a, gradient), "job_id");
  const auto follower = accepted(client_b, gradient);
  BOOST_TEST(text(follower, "state") == "waiting");
  BOOST_TEST(client_a.request("POST", "/jobs/" + block_a + "/cancel").status == 200);
  BOOST_TEST(client_a.request("POST", "/jobs/" + block_b + "/cancel").status == 200);
  BOOST_TEST(json_string(wait_until_finished(client_b, text(follower, "job_id")), "state") == "completed");
  BOOST_TEST(text(job(client_b, text(follower, "job_id")), "cached_from") == leader);
}

BOOST_AUTO_TEST_SUITE_END()
