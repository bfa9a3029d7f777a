// Workflows (issue 10): depends_on and molecule.from_job on POST /jobs, POST /workflows with
// local names, GET /workflows/{id}; a waiting child runs once its parents completed, on the
// geometry its parent optimized, and fails with dependency_failed when a parent did not.
#include <cmath>

#include "core/molecule.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace nox::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string workflow_body(const std::string& jobs) { return R"({"name":"test chain","jobs":{)" + jobs + "}}"; }

std::string spec_with(const std::string& engine, const std::string& task, const std::string& method,
                      const std::string& molecule_json, const std::string& extra = {}) {
  std::string s = R"({"engine":")" + engine + R"(","task":")" + task + R"(","method":")" + method +
                  R"(","molecule":)" + molecule_json;
  if (!extra.empty()) s += "," + extra;
  return s + "}";
}

std::string xyz_molecule(const std::string& name) {
  return json::serialize(json::object{{"xyz", molecule_xyz(name)}});
}

// Same atoms at the same places (to 1e-8 Å): the stored XYZ is rewritten with 10 decimals.
bool same_geometry(std::string_view a, std::string_view b) {
  auto first = nox::parse_xyz(a);
  auto second = nox::parse_xyz(b);
  if (first.index() != 0 || second.index() != 0) return false;
  const auto& x = std::get<nox::Molecule>(first).atoms;
  const auto& y = std::get<nox::Molecule>(second).atoms;
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i].symbol != y[i].symbol) return false;
    if (std::abs(x[i].x - y[i].x) > 1e-8 || std::abs(x[i].y - y[i].y) > 1e-8 || std::abs(x[i].z - y[i].z) > 1e-8)
      return false;
  }
  return true;
}

// The job ids of a POST /workflows answer, by name.
std::map<std::string, std::string> ids_by_name(const json::value& answer) {
  std::map<std::string, std::string> ids;
  for (const auto& job : answer.at("jobs").as_array())
    ids[std::string(job.at("name").as_string())] = std::string(job.at("job_id").as_string());
  return ids;
}

std::string wait_for_workflow(HttpClient& client, const std::string& id, const std::string& wanted,
                              std::chrono::seconds limit = 120s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = json_string(client.get("/workflows/" + id).json(), "state");
    if (state == wanted || state == "completed" || state == "failed" || state == "cancelled") return state;
    std::this_thread::sleep_for(50ms);
  }
  return state;
}

// GFN-FF optimization -> GFN2 optimization + Hessian from its geometry (the issue's chain).
void a_chain_runs_on_its_parents_geometry(HttpClient& client) {
  const auto reply = client.post_json(
      "/workflows", workflow_body(R"("ff":)" + spec_with("xtb", "optimize", "gfnff", xyz_molecule("water"), R"("cache":false)") +
                                  R"(,"hess":)" +
                                  spec_with("xtb", "optimize_hessian", "gfn2", R"({"from_job":"ff","geometry":"optimized"})",
                                            R"("cache":false)")));
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const auto answer = reply.json();
  const std::string workflow = json_string(answer, "workflow_id");
  auto ids = ids_by_name(answer);
  BOOST_TEST_REQUIRE(ids.size() == 2u);
  BOOST_TEST(answer.at("jobs").at(0).at("name").as_string() == "ff");  // parents first
  BOOST_TEST(answer.at("jobs").at(1).at("state").as_string() == "waiting");
  BOOST_TEST(answer.at("jobs").at(1).at("waiting_on").as_string() == ids["ff"]);
  BOOST_TEST(wait_for_workflow(client, workflow, "completed") == "completed");

  const auto ff = client.get("/jobs/" + ids["ff"]).json();
  const auto hess = client.get("/jobs/" + ids["hess"]).json();
  BOOST_TEST(json_string(hess, "state") == "completed");
  // The child ran on the geometry its parent optimized, and says where it came from.
  const auto& molecule = hess.at("spec").at("molecule");
  BOOST_TEST(molecule.at("from_job").as_string() == ids["ff"]);
  BOOST_TEST(same_geometry(molecule.at("xyz").as_string(), ff.at("result").at("optimized_xyz").as_string()));
  BOOST_TEST(!same_geometry(molecule.at("xyz").as_string(), molecule_xyz("water")));
  BOOST_TEST(hess.at("spec").at("workflow_id").as_string() == workflow);
  BOOST_TEST(hess.at("spec").at("workflow_node").as_string() == "hess");
  BOOST_TEST(hess.at("result").at("frequencies_cm1").as_array().size() == 3u);
  // Its started event comes after the parent's end.
  const auto types = event_types(client, ids["hess"]);
  BOOST_TEST((std::vector<std::string>(types.begin(), types.begin() + 3) ==
              std::vector<std::string>{"submitted", "queued", "started"}));

  const auto graph = client.get("/workflows/" + workflow).json();
  BOOST_TEST(graph.at("name").as_string() == "test chain");
  BOOST_TEST(graph.at("counts").at("completed").as_int64() == 2);
  BOOST_TEST_REQUIRE(graph.at("edges").as_array().size() == 1u);
  const auto& edge = graph.at("edges").at(0);
  BOOST_TEST(edge.at("from").as_string() == "ff");
  BOOST_TEST(edge.at("to").as_string() == "hess");
  BOOST_TEST(edge.at("geometry").as_bool());
  BOOST_TEST(graph.at("jobs").at(1).at("from_job").as_string() == "ff");
  BOOST_TEST(client.get("/jobs?tag=workflow:" + workflow).json().at("jobs").as_array().size() == 2u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(workflows)

BOOST_AUTO_TEST_CASE(an_xtb_chain_on_the_memory_store) {
  NoxdProcess noxd{{"--slots", "2"}};
  HttpClient client(noxd.port());
  a_chain_runs_on_its_parents_geometry(client);
}

BOOST_AUTO_TEST_CASE(an_xtb_chain_across_two_instances_on_redis) {
  RedisServer redis;
  redis.start();
  const std::vector<std::string> flags{"--redis-url", redis.url(), "--slots", "1"};
  NoxdProcess a(flags), b(flags);
  HttpClient client(a.port());
  a_chain_runs_on_its_parents_geometry(client);
}

// Several parents: the child waits on each in turn (a progress event names the next), then runs.
BOOST_AUTO_TEST_CASE(a_job_waits_for_all_its_parents) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  const auto first = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":0.3)"));
  const auto second = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":0.8)"));
  const auto reply = client.post_json(
      "/jobs", job_spec_json("echo", "energy", molecule_xyz("water"),
                             R"("depends_on":[")" + first + R"(",")" + second + R"("])"));
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const std::string child = json_string(reply.json(), "job_id");
  BOOST_TEST(json_string(reply.json(), "state") == "waiting");
  BOOST_TEST(json_string(client.get("/jobs/" + child).json(), "waiting_on") == first);
  BOOST_TEST(json_string(wait_until_finished(client, child, 30s), "state") == "completed");
  const auto types = event_types(client, child);
  BOOST_TEST((types == std::vector<std::string>{"submitted", "progress", "queued", "started", "completed"}));
  const auto parent = client.get("/jobs/" + second).json();
  const auto done = client.get("/jobs/" + child).json();
  BOOST_TEST(done.at("started_at").as_string() >= parent.at("finished_at").as_string());
  // A parent already completed is no reason to wait.
  const auto after = client.post_json(
      "/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), R"("depends_on":[")" + first + R"("])"));
  BOOST_TEST(json_string(after.json(), "state") == "pending");
}

// A failed or cancelled parent fails its children, and theirs, with dependency_failed.
BOOST_AUTO_TEST_CASE(a_failed_parent_fails_its_descendants) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  const auto reply = client.post_json(
      "/workflows",
      workflow_body(R"("root":)" + spec_with("xtb", "optimize_hessian", "gfn2", xyz_molecule("triacontane"),
                                            R"("timeout_s":0.5,"cache":false)") +
                    R"(,"child":)" + spec_with("xtb", "hessian", "gfn2", R"({"from_job":"root"})") +
                    R"(,"grandchild":)" + spec_with("xtb", "energy", "gfn2", R"({"from_job":"child","geometry":"input"})") +
                    R"(,"sibling":)" + spec_with("echo", "energy", "gfn2", xyz_molecule("water"), R"("depends_on":["root"])")));
  BOOST_TEST_REQUIRE(reply.status == 202, reply.body);
  const std::string workflow = json_string(reply.json(), "workflow_id");
  auto ids = ids_by_name(reply.json());
  BOOST_TEST(wait_for_workflow(client, workflow, "failed") == "failed");
  const auto root = client.get("/jobs/" + ids["root"]).json();
  BOOST_TEST(root.at("error").at("code").as_string() == "timeout");
  for (const char* name : {"child", "sibling"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto job = client.get("/jobs/" + ids[name]).json();
      BOOST_TEST(json_string(job, "state") == "failed");
      BOOST_TEST(job.at("error").at("code").as_string() == "dependency_failed");
      BOOST_TEST(job.at("error").at("dependency").as_string() == ids["root"]);
      BOOST_TEST(job.at("error").at("message").as_string().find("timeout") != std::string::npos);
    }
  }
  const auto grandchild = client.get("/jobs/" + ids["grandchild"]).json();
  BOOST_TEST(grandchild.at("error").at("code").as_string() == "dependency_failed");
  BOOST_TEST(grandchild.at("error").at("dependency").as_string() == ids["child"]);
  const auto graph = client.get("/workflows/" + workflow).json();
  BOOST_TEST(graph.at("counts").at("failed").as_int64() == 4);

  // Cancelling a parent fails its waiting child the same way.
  const auto parent = submit(client, job_spec_json("echo", "energy", molecule_xyz("water"), R"("delay_s":60)"));
  const auto child = client.post_json(
      "/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), R"("depends_on":[")" + parent + R"("])"));
  const std::string child_id = json_string(child.json(), "job_id");
  BOOST_TEST(json_string(child.json(), "state") == "waiting");
  BOOST_TEST(client.request("POST", "/jobs/" + parent + "/cancel").status == 200);
  const auto ended = wait_until_finished(client, child_id, 10s);
  BOOST_TEST(json_string(ended, "state") == "failed");
  BOOST_TEST(client.get("/jobs/" + child_id).json().at("error").at("code").as_string() == "dependency_failed");
}

// Cycles, unknown names and parents that cannot be used are refused at submission, by field,
// and nothing is created.
BOOST_AUTO_TEST_CASE(bad_graphs_are_refused_whole) {
  NoxdProcess noxd{{"--slots", "1"}};
  HttpClient client(noxd.port());
  const std::string water = xyz_molecule("water");
  auto refused = [&](const std::string& body, const std::string& code, const std::string& field) {
    const auto reply = client.post_json("/workflows", body);
    BOOST_TEST(reply.status == 422, reply.body);
    BOOST_TEST(error_code(reply) == code);
    if (!field.empty()) BOOST_TEST(reply.body.find("\"" + field + "\"") != std::string::npos, reply.body);
  };
  refused(workflow_body(R"("a":)" + spec_with("echo", "energy", "gfn2", water, R"("depends_on":["b"])") + R"(,"b":)" +
                        spec_with("echo", "energy", "gfn2", water, R"("depends_on":["a"])")),
          "invalid_workflow", "jobs.a.depends_on");
  refused(workflow_body(R"("a":)" + spec_with("echo", "energy", "gfn2", water, R"("depends_on":["a"])")), "invalid_workflow",
          "jobs.a.depends_on");
  refused(workflow_body(R"("a":)" + spec_with("echo", "energy", "gfn2", R"({"from_job":"nobody"})")), "invalid_workflow",
          "jobs.a.molecule.from_job");
  refused(workflow_body(R"("bad name!":)" + spec_with("echo", "energy", "gfn2", water)), "invalid_workflow", "jobs.bad name!");
  refused(workflow_body(R"("a":)" + spec_with("echo", "energy", "gfn2", water) + R"(,"b":)" +
                        spec_with("xtb", "energy", "gfn2", R"({"from_job":"a"})")),
          "invalid_workflow", "jobs.b.molecule.from_job");  // an energy job optimizes no geometry
  refused(workflow_body(R"("a":)" + spec_with("echo", "energy", "gfn2", water, R"("charge":"x")")), "invalid_spec",
          "jobs.a.charge");
  refused(R"({"jobs":{}})", "invalid_workflow", "");
  BOOST_TEST(client.get("/jobs").json().at("jobs").as_array().empty());  // nothing was created

  // On POST /jobs: unknown and failed parents, a parent given twice; a batch takes no depends_on.
  const std::string unknown(32, 'a');
  auto reply = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"),
                                                       R"("depends_on":[")" + unknown + R"("])"));
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("depends_on[0]") != std::string::npos, reply.body);
  const auto failed = submit(client, job_spec_json("xtb", "optimize", molecule_xyz("triacontane"), R"("timeout_s":0.001,"cache":false)"));
  BOOST_TEST(json_string(wait_until_finished(client, failed, 30s), "state") == "failed");
  reply = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"), R"("depends_on":[")" + failed + R"("])"));
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("would fail at once") != std::string::npos, reply.body);
  reply = client.post_json("/jobs", job_spec_json("echo", "energy", molecule_xyz("water"),
                                                  R"("depends_on":[")" + failed + R"(",")" + failed + R"("])"));
  BOOST_TEST(reply.body.find("listed twice") != std::string::npos, reply.body);
  reply = client.post_json("/jobs/batch", "[" + job_spec_json("echo", "energy", molecule_xyz("water"),
                                                               R"("depends_on":[")" + failed + R"("])") + "]");
  BOOST_TEST(reply.status == 422);
  BOOST_TEST(reply.body.find("POST /workflows") != std::string::npos, reply.body);
  BOOST_TEST(client.get("/workflows/" + unknown).status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
