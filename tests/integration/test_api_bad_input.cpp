// Every bad-input row of the API contract: the right status, a machine-readable code,
// a message that names the problem, and never a 500.
#include "tests/integration/api_fixture.hpp"

using namespace nox::test;
namespace json = boost::json;

namespace {

struct SmallServer {
  NoxdProcess noxd{{"--slots", "1", "--max-body-bytes", "4096", "--max-atoms", "5"}};
  HttpClient client{noxd.port()};

  // Posts a spec and expects a 422 whose details name `field` with a message containing `words`.
  void expect_invalid(const std::string& spec, const std::string& field, const std::string& words) {
    auto reply = client.post_json("/jobs", spec);
    BOOST_REQUIRE_MESSAGE(reply.status == 422, "expected 422 for " << spec << ", got " << reply.status << " "
                                                                    << reply.body);
    BOOST_TEST(error_code(reply) == "invalid_spec");
    bool found = false;
    const auto body = reply.json();
    for (const auto& d : body.at("error").at("details").as_array()) {
      if (d.at("field").as_string() != field) continue;
      found = true;
      const std::string message(d.at("message").as_string());
      BOOST_TEST(message.find(words) != std::string::npos, "'" << message << "' should mention '" << words << "'");
    }
    BOOST_TEST(found, "no detail for field " << field << " in " << reply.body);
  }
};

const std::string water = "3\n\nO 0 0 0.12\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n";

std::string xtb_with_xyz(const std::string& xyz) { return job_spec_json("xtb", "energy", xyz); }

}  // namespace

BOOST_AUTO_TEST_SUITE(api_bad_input)

BOOST_FIXTURE_TEST_CASE(malformed_json_names_the_offset, SmallServer) {
  auto reply = client.post_json("/jobs", "{\"engine\": \"xtb\", oops}");
  BOOST_REQUIRE_EQUAL(reply.status, 400);
  BOOST_TEST(error_code(reply) == "invalid_json");
  auto details = reply.json().at("error").at("details").at(0);
  BOOST_TEST(details.at("offset").as_int64() == 18);
  BOOST_TEST(reply.json().at("error").at("message").as_string().find("offset 18") != json::string::npos);
  BOOST_TEST(client.post_json("/jobs", "").status == 400);
}

BOOST_FIXTURE_TEST_CASE(wrong_content_type_is_415, SmallServer) {
  auto reply = client.request("POST", "/jobs", job_spec_json("echo", "energy", water), {{"content-type", "text/plain"}});
  BOOST_TEST(reply.status == 415);
  BOOST_TEST(error_code(reply) == "unsupported_media_type");
  auto missing = client.request("POST", "/jobs", job_spec_json("echo", "energy", water));
  BOOST_TEST(missing.status == 415);
}

BOOST_FIXTURE_TEST_CASE(unknown_names_are_422_one_detail_each, SmallServer) {
  expect_invalid(job_spec_json("quantum", "energy", water), "engine", "quantum");
  expect_invalid(job_spec_json("xtb", "dance", water), "task", "dance");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"method\":\"gfn9\""), "method", "gfn9");
  // gfn0 is a real method, but the xtb 6.5.1 of Debian 12 crashes with it: refused up front.
  expect_invalid(job_spec_json("xtb", "energy", water, "\"method\":\"gfn0\""), "method", "crashes");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"solvent\":{\"model\":\"alpb\",\"name\":\"lava\"}"),
                 "solvent.name", "lava");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"colour\":\"blue\""), "colour", "unknown");
  // Several bad fields at once: one detail per field.
  auto reply = client.post_json("/jobs", job_spec_json("quantum", "dance", water, "\"colour\":1"));
  BOOST_TEST(reply.json().at("error").at("details").as_array().size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(charge_and_multiplicity_must_fit, SmallServer) {
  // Water has 10 electrons: a doublet is impossible, and so is multiplicity 0.
  expect_invalid(job_spec_json("xtb", "energy", water, "\"multiplicity\":2"), "multiplicity", "electrons");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"multiplicity\":0"), "multiplicity", "");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"charge\":1"), "multiplicity", "electrons");
  expect_invalid(job_spec_json("xtb", "energy", water, "\"charge\":\"minus one\""), "charge", "");
}

BOOST_FIXTURE_TEST_CASE(bad_xyz_names_the_line, SmallServer) {
  expect_invalid(xtb_with_xyz("4\n\nO 0 0 0.12\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line");
  expect_invalid(xtb_with_xyz("2\n\nO 0 0 0.12\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line");
  expect_invalid(xtb_with_xyz("3\n\nO 0 0 0.12\nXq 0 0.76 -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line 4");
  expect_invalid(xtb_with_xyz("3\n\nO 0 0 0.12\nH 0 zero -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line 4");
  expect_invalid(xtb_with_xyz("3\n\nO 0 0 nan\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line 3");
  expect_invalid(xtb_with_xyz("3\n\nO 0 0 inf\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n"), "molecule.xyz", "line 3");
  expect_invalid(xtb_with_xyz("3\n\nO 0 0 0.12\nH 0 0.76 -0.47\nH 0 0.76 -0.46\n"), "molecule.xyz", "line 5");
  // The server runs with --max-atoms 5.
  expect_invalid(xtb_with_xyz("6\n\nC 0 0 0\nC 0 0 1.5\nH 1 0 0\nH -1 0 0\nH 1 0 1.5\nH -1 0 1.5\n"), "molecule.xyz",
                 "line 1");
}

BOOST_FIXTURE_TEST_CASE(body_over_the_limit_is_413, SmallServer) {
  std::string big = job_spec_json("echo", "energy", water, "\"name\":\"" + std::string(5000, 'x') + "\"");
  auto reply = client.post_json("/jobs", big);
  BOOST_TEST(reply.status == 413);
  BOOST_TEST(error_code(reply) == "body_too_large");
  BOOST_TEST(client.get("/health").status == 200);  // a new connection works
}

BOOST_FIXTURE_TEST_CASE(unknown_or_malformed_ids_are_404, SmallServer) {
  auto unknown = client.get("/jobs/0123456789abcdef0123456789abcdef");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(error_code(unknown) == "job_not_found");
  for (const char* path : {"/jobs/xyz", "/jobs/0123456789ABCDEF0123456789ABCDEF/status", "/jobs/..%2F..%2Fetc"}) {
    auto reply = client.get(path);
    BOOST_TEST(reply.status == 404, path);
    BOOST_TEST(error_code(reply) == "job_not_found", path);
  }
  BOOST_TEST(client.request("POST", "/jobs/nothex/cancel").status == 404);
}

BOOST_FIXTURE_TEST_CASE(finished_jobs_cannot_be_cancelled, SmallServer) {
  const auto id = submit(client, job_spec_json("echo", "energy", water));
  wait_until_finished(client, id);
  auto reply = client.request("POST", "/jobs/" + id + "/cancel");
  BOOST_TEST(reply.status == 409);
  BOOST_TEST(error_code(reply) == "invalid_state");
  BOOST_TEST(client.get("/jobs/" + id + "/result").status == 200);
}

BOOST_FIXTURE_TEST_CASE(routes_404_and_405, SmallServer) {
  auto unknown = client.get("/nowhere");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(error_code(unknown) == "route_not_found");
  auto wrong = client.request("PUT", "/jobs");
  BOOST_TEST(wrong.status == 405);
  BOOST_TEST(wrong.header("allow") == "POST, GET");
  BOOST_TEST(error_code(wrong) == "method_not_allowed");
  auto wrong_job = client.request("PATCH", "/jobs/0123456789abcdef0123456789abcdef");
  BOOST_TEST(wrong_job.status == 405);
  BOOST_TEST(wrong_job.header("allow") == "GET, DELETE");
}

// A bad percent-escape in the query is a 400, not a filter on the literal text.
BOOST_FIXTURE_TEST_CASE(a_bad_percent_escape_in_the_query_is_refused, SmallServer) {
  auto bad = client.get("/jobs?tag=%zz");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(error_code(bad) == "invalid_parameter");
  BOOST_TEST(client.get("/jobs?tag=screen%2D42").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
