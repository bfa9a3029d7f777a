// Access control (issue 8): API keys made with `noxd keys`, scopes per route, owner isolation,
// SIGHUP reload, open mode only on loopback, rate limits. The route checks are driven by the
// router's own table, so a route added without being covered here fails this suite.
#include <jwt.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "server/app.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/command.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/temp_dir.hpp"

using namespace nox;
using namespace nox::test;
namespace json = boost::json;

namespace {

// noxd with these arguments; its stdout, and stderr when `with_stderr`.
CommandResult run_noxd(const std::string& args, bool with_stderr = false) {
  return run_command(noxd_path() + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

// `noxd keys add`: the key is the one line it prints on stdout.
std::string add_key(const std::filesystem::path& file, const std::string& name, const std::string& options) {
  CommandResult added = run_noxd("keys add " + name + " " + options + " --keys-file " + file.string());
  BOOST_REQUIRE_MESSAGE(added.status == 0, "noxd keys add " << name << " exited " << added.status);
  std::string key = added.out.substr(0, added.out.find('\n'));
  BOOST_REQUIRE(key.starts_with("nox_"));
  return key;
}

std::map<std::string, std::string> with_key(const std::string& key) { return {{"x-api-key", key}}; }

struct Lab {
  TempDir dir;
  std::filesystem::path keys_file = dir.path() / "keys";
  std::string alice = add_key(keys_file, "alice", "--scopes compute:read,compute:write");
  std::string bob = add_key(keys_file, "bob", "--scopes compute:read,compute:write");
  std::string reader = add_key(keys_file, "reader", "--scopes compute:read");
  std::string writer = add_key(keys_file, "writer", "--scopes compute:write");
  std::string root = add_key(keys_file, "root", "--scopes admin");
};

HttpReply as(HttpClient& client, const std::string& key, const std::string& method, const std::string& target,
             const std::string& body = {}) {
  auto headers = with_key(key);
  if (!body.empty()) headers["content-type"] = "application/json";
  return client.request(method, target, body, headers);
}

// A request for this row of the router's table, with its captures filled in.
std::string target_of(const RouteInfo& route, const std::string& job_id) {
  std::string target = route.pattern;
  auto fill = [&](const std::string& capture, const std::string& value) {
    if (auto at = target.find(capture); at != std::string::npos) target.replace(at, capture.size(), value);
  };
  fill("{id}", job_id);
  fill("{name}", "xtb.log");
  fill("{file}", "app.js");
  return target;
}

std::string body_of(const RouteInfo& route) {
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  if (route.method != "POST") return {};
  if (route.pattern == "/jobs/batch") return "[" + spec + "]";
  if (route.pattern == "/jobs") return spec;
  return "{}";
}

// An HS256 token as the lab's identity provider would issue it.
std::string hs256_token(const std::string& secret, const std::string& sub, const std::string& scope,
                        std::int64_t exp_from_now_s) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grant(jwt, "sub", sub.c_str());
  jwt_add_grant(jwt, "scope", scope.c_str());
  jwt_add_grant(jwt, "iss", "https://id.lab.example");
  jwt_add_grant(jwt, "aud", "nox");
  jwt_add_grant_int(jwt, "exp", static_cast<long>(std::time(nullptr) + exp_from_now_s));
  jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  char* text = jwt_encode_str(jwt);
  std::string token(text);
  std::free(text);
  jwt_free(jwt);
  return token;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(access_control)

// Bearer tokens from an identity provider: the subject owns the jobs (the same owner as an API
// key of that name), scopes come from `scope`, an expired or foreign token is a 401.
BOOST_AUTO_TEST_CASE(jwt_bearer_tokens_identify_their_subject) {
  Lab lab;
  const std::string secret = "a-lab-wide-secret-of-more-than-32-bytes";
  const auto secret_file = lab.dir.path() / "jwt.secret";
  std::ofstream(secret_file) << secret << "\n";
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string(), "--jwt-secret-file", secret_file.string(),
                    "--jwt-issuer", "https://id.lab.example", "--jwt-audience", "nox"}};
  HttpClient client{noxd.port()};
  const std::string token = hs256_token(secret, "alice", "compute:read compute:write", 600);
  auto bearer = [&](const std::string& t) { return std::map<std::string, std::string>{{"authorization", "Bearer " + t}}; };
  auto headers = bearer(token);
  headers["content-type"] = "application/json";
  auto submitted = client.request("POST", "/jobs", job_spec_json("echo", "energy", molecule_xyz("water")), headers);
  BOOST_TEST_REQUIRE(submitted.status == 202, submitted.body);
  const std::string id = json_string(submitted.json(), "job_id");
  auto read = client.request("GET", "/jobs/" + id, {}, bearer(token));
  BOOST_TEST(json_string(read.json(), "owner") == "alice");
  BOOST_TEST(as(client, lab.alice, "GET", "/jobs/" + id).status == 200);  // her API key: the same owner
  BOOST_TEST(as(client, lab.bob, "GET", "/jobs/" + id).status == 404);

  auto expired = client.request("GET", "/jobs", {}, bearer(hs256_token(secret, "alice", "compute:read", -120)));
  BOOST_TEST(expired.status == 401);
  BOOST_TEST(expired.body.find("expired") != std::string::npos);
  auto forged = client.request("GET", "/jobs", {}, bearer(hs256_token(secret + "!", "alice", "compute:read", 600)));
  BOOST_TEST(forged.status == 401);
  auto reader = bearer(hs256_token(secret, "carol", "compute:read", 600));
  BOOST_TEST(client.request("POST", "/jobs/" + id + "/cancel", "{}", reader).status == 403);
}

// Every route that needs a scope, tried with no credential, a wrong key, a key without the
// scope, and another owner's key: none answers anything but the refusal, and another owner's
// job is 404 exactly as a job that does not exist.
BOOST_AUTO_TEST_CASE(every_route_refuses_the_wrong_caller) {
  Lab lab;
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string()}};
  HttpClient client{noxd.port()};
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  auto submitted = as(client, lab.alice, "POST", "/jobs", spec);
  BOOST_REQUIRE_EQUAL(submitted.status, 202);
  const std::string alices = json_string(submitted.json(), "job_id");
  // Alice waits for it with her key (a status poll needs one now).
  for (int i = 0; i < 500; ++i) {
    auto status = as(client, lab.alice, "GET", "/jobs/" + alices + "/status");
    BOOST_REQUIRE_EQUAL(status.status, 200);
    if (json_string(status.json(), "state") == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  Router router;
  add_routes(router);
  // What anyone may fetch. A new public route must be added here on purpose.
  const std::set<std::string> public_routes = {"GET /health", "GET /ready", "GET /engines", "GET /openapi.json", "GET /docs", "GET /", "GET /vendor/{file}",
                                               "GET /{file}"};
  std::size_t guarded = 0;
  for (const RouteInfo& route : router.table()) {
    const std::string row = route.method + " " + route.pattern;
    if (route.needs == Scope::none) {
      BOOST_TEST(public_routes.contains(row), row << " is public but not listed as such");
      continue;
    }
    ++guarded;
    const std::string target = target_of(route, alices);
    const std::string body = body_of(route);
    std::map<std::string, std::string> json_body;
    if (!body.empty()) json_body["content-type"] = "application/json";

    HttpReply none = client.request(route.method, target, body, json_body);
    BOOST_TEST(none.status == 401, row << " without a key: " << none.status);
    BOOST_TEST(none.header("www-authenticate").starts_with("Bearer"), row);
    BOOST_TEST(error_code(none) == "unauthenticated", row);

    HttpReply wrong = as(client, "nox_" + std::string(43, 'A'), route.method, target, body);
    BOOST_TEST(wrong.status == 401, row << " with a wrong key: " << wrong.status);
    BOOST_TEST(error_code(wrong) == "invalid_credentials", row);

    const std::string& lacking = route.needs == Scope::read    ? lab.writer
                                 : route.needs == Scope::write ? lab.reader
                                                               : lab.alice;
    HttpReply unscoped = as(client, lacking, route.method, target, body);
    BOOST_TEST(unscoped.status == 403, row << " without its scope: " << unscoped.status);
    BOOST_TEST(error_code(unscoped) == "insufficient_scope", row);
    BOOST_TEST(unscoped.body.find(alices) == std::string::npos, row);

    if (route.pattern.find("{id}") != std::string::npos && route.needs != Scope::admin) {
      // Bob's answer for Alice's job is the answer for a job that does not exist.
      HttpReply others = as(client, lab.bob, route.method, target, body);
      HttpReply absent = as(client, lab.bob, route.method, target_of(route, std::string(32, '0')), body);
      BOOST_TEST(others.status == 404, row << " for another owner's job: " << others.status << " " << others.body);
      BOOST_TEST(error_code(others) == error_code(absent), row);
      BOOST_TEST(others.body.find("alice") == std::string::npos, row);
    }
  }
  BOOST_TEST(guarded >= 13u);  // every job route, the streams and /workers

  // Nothing of Alice's reached Bob: her job is still there, untouched, for her.
  auto mine = as(client, lab.alice, "GET", "/jobs/" + alices);
  BOOST_TEST_REQUIRE(mine.status == 200);
  BOOST_TEST(json_string(mine.json(), "owner") == "alice");
  BOOST_TEST(json_string(mine.json(), "state") == "completed");
  auto bobs_list = as(client, lab.bob, "GET", "/jobs");
  BOOST_TEST(bobs_list.status == 200);
  BOOST_TEST(bobs_list.body.find(alices) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(owners_see_their_own_jobs_and_an_administrator_sees_all) {
  Lab lab;
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string()}};
  HttpClient client{noxd.port()};
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  std::set<std::string> alices, bobs;
  for (int i = 0; i < 2; ++i) alices.insert(json_string(as(client, lab.alice, "POST", "/jobs", spec).json(), "job_id"));
  auto batch = as(client, lab.bob, "POST", "/jobs/batch", "[" + spec + "," + spec + "]");
  BOOST_REQUIRE_EQUAL(batch.status, 202);
  const json::value batch_answer = batch.json();  // (a range-for over a temporary's member dangles)
  for (const auto& job : batch_answer.at("jobs").as_array()) bobs.insert(json_string(job, "job_id"));

  auto ids_in = [](const HttpReply& reply) {
    std::set<std::string> ids;
    const json::value page = reply.json();
    for (const auto& job : page.at("jobs").as_array()) ids.insert(json_string(job, "job_id"));
    return ids;
  };
  BOOST_TEST((ids_in(as(client, lab.alice, "GET", "/jobs")) == alices));
  BOOST_TEST((ids_in(as(client, lab.bob, "GET", "/jobs?state=pending&limit=1000")).size() <= 2u));
  BOOST_TEST((ids_in(as(client, lab.bob, "GET", "/jobs")) == bobs));
  // ?owner= is an administrator's filter. Regression: for anyone else it was ignored, so bob
  // asking for alice's jobs silently got his own; now he may name only himself.
  HttpReply someone_else = as(client, lab.bob, "GET", "/jobs?owner=alice");
  BOOST_TEST(someone_else.status == 403);
  BOOST_TEST(error_code(someone_else) == "insufficient_scope");
  BOOST_TEST((ids_in(as(client, lab.bob, "GET", "/jobs?owner=bob")) == bobs));
  BOOST_TEST((ids_in(as(client, lab.root, "GET", "/jobs?owner=bob")) == bobs));
  BOOST_TEST(ids_in(as(client, lab.root, "GET", "/jobs")).size() == 4u);
  for (const auto& id : bobs) BOOST_TEST(json_string(as(client, lab.root, "GET", "/jobs/" + id).json(), "owner") == "bob");

  // One Idempotency-Key used by two owners names two submissions, not one shared answer.
  auto keyed = [&](const std::string& key) {
    auto headers = with_key(key);
    headers["content-type"] = "application/json";
    headers["idempotency-key"] = "same-key";
    return client.request("POST", "/jobs", spec, headers);
  };
  const std::string alice_keyed = json_string(keyed(lab.alice).json(), "job_id");
  const std::string bob_keyed = json_string(keyed(lab.bob).json(), "job_id");
  BOOST_TEST(alice_keyed != bob_keyed);
  BOOST_TEST(json_string(keyed(lab.alice).json(), "job_id") == alice_keyed);
  BOOST_TEST(as(client, lab.bob, "GET", "/jobs/" + alice_keyed).status == 404);

  // Bob may not cancel or delete Alice's job; she may.
  const std::string target = *alices.begin();
  BOOST_TEST(as(client, lab.bob, "POST", "/jobs/" + target + "/cancel", "{}").status == 404);
  BOOST_TEST(as(client, lab.bob, "DELETE", "/jobs/" + target).status == 404);
  BOOST_TEST(as(client, lab.alice, "GET", "/jobs/" + target).status == 200);

  // /health: public, but the operator's details only for an administrator.
  auto anonymous = client.get("/health");
  BOOST_TEST(anonymous.status == 200);
  BOOST_TEST(!anonymous.json().as_object().contains("queue"));
  BOOST_TEST(as(client, lab.root, "GET", "/health").json().as_object().contains("queue"));
  BOOST_TEST(as(client, lab.alice, "GET", "/workers").status == 403);
  BOOST_TEST(as(client, lab.root, "GET", "/workers").status == 200);
}

// A subscriber of /events sees its own jobs' events only; a browser's EventSource sends the key
// as ?access_token= (it cannot set headers).
BOOST_AUTO_TEST_CASE(an_event_stream_carries_only_its_owners_jobs) {
  Lab lab;
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string()}};
  HttpClient client{noxd.port()};
  SseClient bobs_stream{noxd.port(), "/events?access_token=" + lab.bob};
  SseClient roots_stream{noxd.port(), "/events", with_key(lab.root)};
  BOOST_TEST_REQUIRE(bobs_stream.status() == 200);
  BOOST_TEST_REQUIRE(roots_stream.status() == 200);
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  const std::string alices = json_string(as(client, lab.alice, "POST", "/jobs", spec).json(), "job_id");
  const std::string bobs = json_string(as(client, lab.bob, "POST", "/jobs", spec).json(), "job_id");
  // Bob's stream until his own job completes: nothing of Alice's on the way.
  std::set<std::string> seen_by_bob;
  bool bob_done = false;
  while (!bob_done) {
    auto event = bobs_stream.next(std::chrono::seconds(20));
    BOOST_REQUIRE(event);
    const auto data = json::parse(event->data);
    seen_by_bob.insert(json_string(data, "job_id"));
    bob_done = json_string(data, "job_id") == bobs && event->type == "completed";
  }
  BOOST_TEST(!seen_by_bob.contains(alices));
  // The administrator sees both.
  std::set<std::string> seen_by_root;
  while (!(seen_by_root.contains(alices) && seen_by_root.contains(bobs))) {
    auto event = roots_stream.next(std::chrono::seconds(20));
    BOOST_REQUIRE(event);
    seen_by_root.insert(json_string(json::parse(event->data), "job_id"));
  }
  // A key in the query is taken on GET only, and a wrong one is refused.
  SseClient wrong{noxd.port(), "/events?access_token=nox_wrong"};
  BOOST_TEST(wrong.status() == 401);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_keys_file_without_a_restart) {
  Lab lab;
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string()}};
  HttpClient client{noxd.port()};
  const std::string carol = add_key(lab.keys_file, "carol", "--scopes compute:read");
  BOOST_TEST(as(client, carol, "GET", "/jobs").status == 401);  // not loaded yet
  BOOST_REQUIRE_EQUAL(run_noxd("keys revoke alice --keys-file " + lab.keys_file.string()).status, 0);
  auto listed = run_noxd("keys list --keys-file " + lab.keys_file.string());
  BOOST_TEST(listed.out.find("carol\tcompute:read") != std::string::npos);
  BOOST_TEST(listed.out.find("alice") == std::string::npos);
  BOOST_TEST(listed.out.find("nox_") == std::string::npos);  // keys are never shown again
  BOOST_TEST(as(client, lab.alice, "GET", "/jobs").status == 200);

  ::kill(noxd.pid(), SIGHUP);
  int carol_status = 0;
  for (int i = 0; i < 500 && carol_status != 200; ++i) {
    carol_status = as(client, carol, "GET", "/jobs").status;
    if (carol_status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(carol_status == 200);
  BOOST_TEST(as(client, lab.alice, "GET", "/jobs").status == 401);  // revoked

  // A broken file keeps the keys in use, and says why.
  {
    std::ofstream broken(lab.keys_file, std::ios::app);
    broken << "{not json\n";
  }
  ::kill(noxd.pid(), SIGHUP);
  for (int i = 0; i < 500 && noxd.log().find("SIGHUP: keys file") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(noxd.log().find("not a JSON object") != std::string::npos);
  BOOST_TEST(as(client, carol, "GET", "/jobs").status == 200);
}

BOOST_AUTO_TEST_CASE(open_mode_is_refused_beyond_loopback_unless_insecure_open) {
  TempDir dir;
  const std::string data = " --data-dir " + (dir.path() / "data").string();
  CommandResult refused = run_noxd("--listen 0.0.0.0:0" + data, /*with_stderr=*/true);
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.out.find("refusing to serve 0.0.0.0:0 in open mode") != std::string::npos, refused.out);
  BOOST_TEST(std::count(refused.out.begin(), refused.out.end(), '\n') == 1);  // one line

  NoxdProcess insecure{{"--listen", "0.0.0.0:0", "--insecure-open"}};
  HttpClient client{insecure.port()};
  BOOST_TEST(client.get("/jobs").status == 200);  // open: everyone is an administrator

  const std::string key = add_key(dir.path() / "keys", "alice", "--scopes compute:read");
  NoxdProcess keyed{{"--listen", "0.0.0.0:0", "--keys-file", (dir.path() / "keys").string()}};
  HttpClient keyed_client{keyed.port()};
  BOOST_TEST(keyed_client.get("/jobs").status == 401);
  BOOST_TEST(as(keyed_client, key, "GET", "/jobs").status == 200);

  // --check-config tells the same before anything starts.
  CommandResult checked = run_noxd("--check-config --listen 0.0.0.0:8080", /*with_stderr=*/true);
  BOOST_TEST(checked.status == 2);
  BOOST_TEST(checked.out.find("listen = 0.0.0.0:8080    # option --listen") != std::string::npos, checked.out);
  BOOST_TEST(checked.out.find("open mode") != std::string::npos);
  BOOST_TEST(run_noxd("--check-config --listen 0.0.0.0:8080 --keys-file " + (dir.path() / "keys").string()).status == 0);
  BOOST_TEST(run_noxd("--check-config --keys-file " + (dir.path() / "missing").string()).status == 2);

  // Bad keys commands say what is wrong and change nothing.
  const std::string file = " --keys-file " + (dir.path() / "keys").string();
  BOOST_TEST(run_noxd("keys add alice --scopes compute:read" + file).status == 1);  // exists
  BOOST_TEST(run_noxd("keys add bob --scopes root" + file).status == 2);
  BOOST_TEST(run_noxd("keys add bob" + file).status == 2);
  BOOST_TEST(run_noxd("keys add 'b b' --scopes admin" + file).status == 2);
  BOOST_TEST(run_noxd("keys add bob --scopes admin --max-queued lots" + file).status == 2);
  BOOST_TEST(run_noxd("keys list" + file).out.find("bob") == std::string::npos);
  BOOST_TEST(run_noxd("keys revoke nobody" + file).status == 1);
  BOOST_TEST(run_noxd("keys list").status == 2);  // no file named
}

BOOST_AUTO_TEST_CASE(past_its_limits_an_identity_gets_429_with_retry_after) {
  TempDir dir;
  const auto file = dir.path() / "keys";
  const std::string chatty = add_key(file, "chatty", "--scopes compute:read,compute:write --rate 5/s --max-streams 1");
  const std::string eager = add_key(file, "eager", "--scopes compute:read,compute:write --submit-rate 2/min");
  NoxdProcess noxd{{"--slots", "1", "--keys-file", file.string()}};
  HttpClient client{noxd.port()};

  int limited = 0;
  HttpReply last;
  for (int i = 0; i < 12; ++i) {
    HttpReply reply = as(client, chatty, "GET", "/jobs");
    if (reply.status == 429) ++limited, last = reply;
  }
  BOOST_TEST(limited >= 5);  // 5/s with a burst of 5; 12 requests take far less than a second
  BOOST_TEST(error_code(last) == "rate_limited");
  BOOST_TEST(!last.header("retry-after").empty());
  BOOST_TEST(as(client, eager, "GET", "/jobs").status == 200);  // another identity is not held up

  // Submissions: a batch of 3 from a full bucket of 2 goes through, leaving it in debt.
  const std::string spec = job_spec_json("echo", "energy", molecule_xyz("water"));
  BOOST_TEST(as(client, eager, "POST", "/jobs/batch", "[" + spec + "," + spec + "," + spec + "]").status == 202);
  HttpReply refused = as(client, eager, "POST", "/jobs", spec);
  BOOST_TEST(refused.status == 429);
  BOOST_TEST(std::stoi(refused.header("retry-after")) >= 30);

  // Streams: one open at a time for chatty.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // its request bucket refills
  SseClient first{noxd.port(), "/events", with_key(chatty)};
  BOOST_TEST(first.status() == 200);
  SseClient second{noxd.port(), "/events", with_key(chatty)};
  BOOST_TEST(second.status() == 429);
}

// Queued jobs per owner: a key's max_queued (else the server's max_queued_per_owner) bounds
// its unfinished jobs, 429 too_many_queued beyond, across every instance of one Redis. The
// jobs run on an xtb that sleeps, so they stay running and pending while the test submits.
std::filesystem::path sleeping_xtb(const std::filesystem::path& dir) {
  const auto script = dir / "xtb";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "if [ \"$1\" = \"--version\" ]; then exec /usr/bin/xtb --version; fi\n"
                        << "exec sleep 60\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return script;
}

void unfinished_jobs_are_bounded_per_owner(const std::vector<std::string>& extra_flags, int instances) {
  TempDir dir;
  const auto file = dir.path() / "keys";
  const std::string busy = add_key(file, "busy", "--scopes compute:read,compute:write --max-queued 2");
  const std::string other = add_key(file, "other", "--scopes compute:read,compute:write");
  BOOST_TEST(run_noxd("keys list --keys-file " + file.string()).out.find("max-queued 2") != std::string::npos);
  std::vector<std::string> flags{"--slots", "1", "--keys-file", file.string(), "--xtb",
                                 sleeping_xtb(dir.path()).string(), "--max-queued-per-owner", "1"};
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  std::vector<std::unique_ptr<NoxdProcess>> servers;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < instances; ++i) {
    servers.push_back(std::make_unique<NoxdProcess>(flags));
    clients.push_back(std::make_unique<HttpClient>(servers.back()->port()));
  }
  auto client = [&](int i) -> HttpClient& { return *clients[static_cast<std::size_t>(i % instances)]; };
  const std::string spec = job_spec_json("xtb", "energy", molecule_xyz("water"));

  HttpReply first = as(client(0), busy, "POST", "/jobs", spec);
  BOOST_TEST_REQUIRE(first.status == 202);
  BOOST_TEST(as(client(1), busy, "POST", "/jobs", spec).status == 202);
  HttpReply third = as(client(0), busy, "POST", "/jobs", spec);
  BOOST_TEST(third.status == 429);
  BOOST_TEST(error_code(third) == "too_many_queued");
  BOOST_TEST(!third.header("retry-after").empty());
  BOOST_TEST(third.body.find("busy has 2 unfinished") != std::string::npos, third.body);
  // A batch that does not fit is refused whole: nothing of it is created.
  HttpReply batch = as(client(1), busy, "POST", "/jobs/batch", "[" + spec + "]");
  BOOST_TEST(batch.status == 429);
  BOOST_TEST(error_code(batch) == "too_many_queued");
  BOOST_TEST(as(client(0), busy, "GET", "/jobs").json().at("jobs").as_array().size() == 2u);

  // A key without max_queued has the server's max_queued_per_owner (1); busy's cap is its own.
  BOOST_TEST(as(client(1), other, "POST", "/jobs", spec).status == 202);
  BOOST_TEST(error_code(as(client(0), other, "POST", "/jobs", spec)) == "too_many_queued");
  HttpReply other_batch = as(client(0), other, "POST", "/jobs/batch", "[" + spec + "," + spec + "]");
  BOOST_TEST(error_code(other_batch) == "too_many_queued");

  // A job that ends (here: cancelled) makes room again.
  const std::string id(first.json().at("job_id").as_string());
  BOOST_TEST(as(client(1), busy, "POST", "/jobs/" + id + "/cancel").status == 200);
  BOOST_TEST(as(client(0), busy, "POST", "/jobs", spec).status == 202);
  BOOST_TEST(error_code(as(client(1), busy, "POST", "/jobs", spec)) == "too_many_queued");
}

BOOST_AUTO_TEST_CASE(unfinished_jobs_are_bounded_per_owner_in_memory) { unfinished_jobs_are_bounded_per_owner({}, 1); }

BOOST_AUTO_TEST_CASE(unfinished_jobs_are_bounded_per_owner_across_instances_of_one_redis) {
  RedisServer redis;
  redis.start();
  unfinished_jobs_are_bounded_per_owner({"--redis-url", redis.url()}, 2);
}

// With Redis, a key's rate holds across the instances sharing it: a client that spreads its
// requests over two instances does not get twice its rate (the buckets live in Redis).
BOOST_AUTO_TEST_CASE(rate_limits_are_shared_by_the_instances_of_one_redis) {
  TempDir dir;
  const auto file = dir.path() / "keys";
  const std::string chatty = add_key(file, "chatty", "--scopes compute:read --rate 5/s");
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--slots", "1", "--keys-file", file.string(), "--redis-url", redis.url()};
  NoxdProcess a(flags), b(flags);
  HttpClient to_a{a.port()}, to_b{b.port()};
  int limited = 0;
  for (int i = 0; i < 12; ++i) {
    HttpReply reply = as(i % 2 ? to_b : to_a, chatty, "GET", "/jobs?limit=1");
    if (reply.status == 429) ++limited;
    else BOOST_TEST(reply.status == 200);
  }
  // 5 a second with a burst of 5: of 12 requests in well under a second, at least 6 are
  // refused; with a bucket per instance (5 + 5) only about 2 would be.
  BOOST_TEST(limited >= 6, limited << " of 12 refused");
}

// GET /openapi.json documents every row of the router's table with its method and scope, so a
// route cannot be added without its documentation (tests/browser/openapi-lint.mjs lints it).
BOOST_AUTO_TEST_CASE(the_openapi_document_covers_every_route_with_its_scope) {
  Lab lab;
  NoxdProcess noxd{{"--slots", "1", "--keys-file", lab.keys_file.string()}};
  HttpClient client{noxd.port()};
  HttpReply reply = client.get("/openapi.json");  // public
  BOOST_TEST_REQUIRE(reply.status == 200);
  const json::value document = reply.json();
  const json::object& paths = document.at("paths").as_object();
  Router router;
  add_routes(router);
  for (const RouteInfo& route : router.table()) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json::value* path = paths.if_contains(route.pattern);
    BOOST_TEST_REQUIRE(path, route.pattern << " is not in /openapi.json");
    const json::value* operation = path->as_object().if_contains(method);
    BOOST_TEST_REQUIRE(operation, route.method << " " << route.pattern << " is not in /openapi.json");
    const std::string scope = route.needs == Scope::none ? "none" : std::string(scope_name(route.needs));
    BOOST_TEST(json_string(*operation, "x-nox-scope") == scope, route.method << " " << route.pattern);
  }
  BOOST_TEST(client.get("/docs").status == 200);
  BOOST_TEST(client.get("/vendor/redoc.standalone.js").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
