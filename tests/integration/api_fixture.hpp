#pragma once
// Shared by the API integration tests: a running noxd and helpers to drive it.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/molecules.hpp"
#include "tests/support/noxd_process.hpp"

namespace nox::test {

inline std::string json_string(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

// Polls GET /jobs/{id}/status until the job is in a terminal state or the time is up.
inline boost::json::value wait_until_finished(HttpClient& client, const std::string& id,
                                              std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto reply = client.get("/jobs/" + id + "/status");
    BOOST_REQUIRE_EQUAL(reply.status, 200);
    auto status = reply.json();
    const auto state = json_string(status, "state");
    if (state == "completed" || state == "failed" || state == "cancelled") return status;
    if (std::chrono::steady_clock::now() > deadline) {
      BOOST_FAIL("job " << id << " still " << state << " after the time limit");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline std::string wait_for_state(HttpClient& client, const std::string& id, const std::string& wanted,
                                  std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = json_string(client.get("/jobs/" + id + "/status").json(), "state");
    if (state == wanted) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return state;
}

// Submits a spec and returns its job id, checking the 202 contract.
inline std::string submit(HttpClient& client, const std::string& spec) {
  auto reply = client.post_json("/jobs", spec);
  BOOST_REQUIRE_MESSAGE(reply.status == 202, "submit answered " << reply.status << ": " << reply.body);
  return json_string(reply.json(), "job_id");
}

// The error code of an error answer.
inline std::string error_code(const HttpReply& reply) {
  return std::string(reply.json().at("error").at("code").as_string());
}

// The types of a finished job's events, oldest first, from its replayed event stream;
// `with_progress` false leaves the engine's progress events out.
inline std::vector<std::string> event_types(HttpClient& client, const std::string& id, bool with_progress = true) {
  std::vector<std::string> types;
  std::istringstream lines(client.get("/jobs/" + id + "/events").body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("event: ", 0) == 0 && (with_progress || line != "event: progress")) types.push_back(line.substr(7));
  return types;
}

// The instance that started a job (its first `started` event's worker), "" if none did.
inline std::string started_on(HttpClient& client, const std::string& id) {
  const std::string history = client.get("/jobs/" + id + "/events").body;
  const auto at = history.find(R"("worker":")");
  if (at == std::string::npos) return {};
  const auto from = at + 10;
  return history.substr(from, history.find('"', from) - from);
}

}  // namespace nox::test
