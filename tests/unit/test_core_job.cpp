// The job record's JSON forms and the store round trip, and event payloads.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "core/job.hpp"
#include "core/job_event.hpp"

namespace json = boost::json;

namespace {

nox::Job sample_job() {
  nox::Job job;
  job.id = "0123456789abcdef0123456789abcdef";
  job.state = nox::JobState::completed;
  job.spec = json::parse(R"({"engine":"xtb","task":"optimize","method":"gfn2","name":"water opt",
      "molecule":{"xyz":"3\n\nO 0 0 0\nH 0 0.757 0.587\nH 0 -0.757 0.587\n"},
      "tags":["screening-42","b"]})")
                 .as_object();
  job.created_at = 1700000000000;
  job.started_at = 1700000000500;
  job.finished_at = 1700000001250;
  job.attempts = 2;
  job.max_attempts = 3;
  job.priority = -7;
  job.result = json::parse(R"({"energy":-5.07,"gap_ev":14.2})");
  job.error = nullptr;
  job.progress = json::parse(R"({"step":10,"of":10})");
  job.worker_id = "worker-a";
  return job;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_job)

BOOST_AUTO_TEST_CASE(engine_and_tags_come_from_the_spec) {
  const nox::Job job = sample_job();
  BOOST_TEST(job.engine() == "xtb");
  const auto tags = job.tags();
  BOOST_TEST_REQUIRE(tags.size() == 2u);
  BOOST_TEST(tags[0] == "screening-42");
  BOOST_TEST(tags[1] == "b");

  nox::Job empty;
  BOOST_TEST(empty.engine() == "");
  BOOST_TEST(empty.tags().empty());
}

BOOST_AUTO_TEST_CASE(full_json_has_every_field_with_rfc3339_times) {
  const json::object o = nox::job_to_json(sample_job());
  BOOST_TEST(o.size() == 16u);
  BOOST_TEST(o.at("lost").as_int64() == 0);
  BOOST_TEST(o.at("max_lost").as_int64() == 3);
  BOOST_TEST(o.at("job_id").as_string() == "0123456789abcdef0123456789abcdef");
  BOOST_TEST(o.at("state").as_string() == "completed");
  BOOST_TEST(o.at("spec").as_object().at("engine").as_string() == "xtb");
  BOOST_TEST(o.at("created_at").as_string() == "2023-11-14T22:13:20.000Z");
  BOOST_TEST(o.at("started_at").as_string() == "2023-11-14T22:13:20.500Z");
  BOOST_TEST(o.at("finished_at").as_string() == "2023-11-14T22:13:21.250Z");
  BOOST_TEST(o.at("attempts").as_int64() == 2);
  BOOST_TEST(o.at("max_attempts").as_int64() == 3);
  BOOST_TEST(o.at("priority").as_int64() == -7);
  BOOST_TEST(o.at("result").as_object().at("energy").as_double() == -5.07);
  BOOST_TEST(o.at("error").is_null());
  BOOST_TEST(o.at("progress").as_object().at("step").as_int64() == 10);
  // The instance running it is `worker_id`; `owner` is the identity that submitted it (null in
  // open mode).
  BOOST_TEST(o.at("owner").is_null());
  BOOST_TEST(o.at("worker_id").as_string() == "worker-a");
  nox::Job owned = sample_job();
  owned.owner = "alice";
  BOOST_TEST(nox::job_to_json(owned).at("owner").as_string() == "alice");
  BOOST_TEST(nox::job_from_record(nox::job_to_record(owned)).owner == "alice");
}

BOOST_AUTO_TEST_CASE(unset_times_are_null) {
  nox::Job job = sample_job();
  job.state = nox::JobState::pending;
  job.started_at = 0;
  job.finished_at = 0;
  const json::object o = nox::job_to_json(job);
  BOOST_TEST(o.at("started_at").is_null());
  BOOST_TEST(o.at("finished_at").is_null());
  BOOST_TEST(o.at("created_at").is_string());
  const json::object s = nox::job_status_json(job);
  BOOST_TEST(s.at("started_at").is_null());
  BOOST_TEST(s.at("finished_at").is_null());
}

BOOST_AUTO_TEST_CASE(status_is_compact) {
  nox::Job job = sample_job();
  job.state = nox::JobState::failed;
  job.error = json::parse(R"({"code":"engine_failed","message":"xtb exited with status 1"})");
  const json::object s = nox::job_status_json(job);
  BOOST_TEST(s.at("job_id").as_string() == job.id);
  BOOST_TEST(s.at("state").as_string() == "failed");
  BOOST_TEST(s.at("engine").as_string() == "xtb");
  BOOST_TEST(s.at("task").as_string() == "optimize");
  BOOST_TEST(s.at("method").as_string() == "gfn2");
  BOOST_TEST(s.at("name").as_string() == "water opt");
  BOOST_TEST(s.at("tags").as_array().size() == 2u);
  BOOST_TEST(s.at("tags").as_array()[0].as_string() == "screening-42");
  BOOST_TEST(s.at("created_at").as_string() == "2023-11-14T22:13:20.000Z");
  BOOST_TEST(s.at("attempts").as_int64() == 2);
  BOOST_TEST(s.at("progress").as_object().at("of").as_int64() == 10);
  BOOST_TEST(s.at("error").as_object().at("message").as_string() == "xtb exited with status 1");
  BOOST_TEST(!s.contains("spec"));
  BOOST_TEST(!s.contains("result"));
}

BOOST_AUTO_TEST_CASE(record_round_trips_exactly) {
  const nox::Job job = sample_job();
  const json::object record = nox::job_to_record(job);
  // Times are integers in the record, not strings.
  BOOST_TEST(record.at("created_at").as_int64() == 1700000000000);
  BOOST_TEST(record.at("worker_id").as_string() == "worker-a");
  const nox::Job back = nox::job_from_record(record);
  BOOST_TEST(back.id == job.id);
  BOOST_TEST((back.state == job.state));
  BOOST_TEST((back.spec == job.spec));
  BOOST_TEST(back.created_at == job.created_at);
  BOOST_TEST(back.started_at == job.started_at);
  BOOST_TEST(back.finished_at == job.finished_at);
  BOOST_TEST(back.attempts == job.attempts);
  BOOST_TEST(back.max_attempts == job.max_attempts);
  BOOST_TEST(back.priority == job.priority);
  BOOST_TEST((back.result == job.result));
  BOOST_TEST((back.error == job.error));
  BOOST_TEST((back.progress == job.progress));
  BOOST_TEST(back.worker_id == job.worker_id);
  // And the record of the copy is the same record.
  BOOST_TEST((nox::job_to_record(back) == record));
}

BOOST_AUTO_TEST_CASE(record_survives_serialization) {
  // What a store that keeps the record as text does.
  const nox::Job job = sample_job();
  const json::value reparsed = json::parse(json::serialize(nox::job_to_record(job)));
  const nox::Job back = nox::job_from_record(reparsed.as_object());
  BOOST_TEST((nox::job_to_record(back) == nox::job_to_record(job)));
}

BOOST_AUTO_TEST_CASE(record_with_only_required_fields_gets_defaults) {
  const json::object minimal =
      json::parse(R"({"job_id":"00000000000000000000000000000001","state":"pending"})").as_object();
  const nox::Job job = nox::job_from_record(minimal);
  BOOST_TEST(job.id == "00000000000000000000000000000001");
  BOOST_TEST((job.state == nox::JobState::pending));
  BOOST_TEST(job.spec.empty());
  BOOST_TEST(job.created_at == 0);
  BOOST_TEST(job.started_at == 0);
  BOOST_TEST(job.finished_at == 0);
  BOOST_TEST(job.attempts == 0);
  BOOST_TEST(job.max_attempts == 1);
  BOOST_TEST(job.priority == 0);
  BOOST_TEST(job.result.is_null());
  BOOST_TEST(job.error.is_null());
  BOOST_TEST(job.progress.is_null());
  BOOST_TEST(job.worker_id == "");
}

BOOST_AUTO_TEST_CASE(record_accepts_other_integer_encodings) {
  json::object r = nox::job_to_record(sample_job());
  r["created_at"] = std::uint64_t{1700000000000};
  r["attempts"] = 2.0;
  const nox::Job job = nox::job_from_record(r);
  BOOST_TEST(job.created_at == 1700000000000);
  BOOST_TEST(job.attempts == 2);
}

BOOST_AUTO_TEST_CASE(corrupt_records_throw) {
  BOOST_CHECK_THROW(nox::job_from_record(json::object{}), std::invalid_argument);
  BOOST_CHECK_THROW(nox::job_from_record(json::parse(R"({"job_id":"x"})").as_object()),
                    std::invalid_argument);
  BOOST_CHECK_THROW(nox::job_from_record(json::parse(R"({"job_id":"x","state":"queued"})").as_object()),
                    std::invalid_argument);
  BOOST_CHECK_THROW(
      nox::job_from_record(json::parse(R"({"job_id":"x","state":"pending","attempts":"two"})").as_object()),
      std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(core_job_event)

BOOST_AUTO_TEST_CASE(payload_merges_data_after_the_identity) {
  nox::JobEvent e;
  e.id = "1700000000000-0";
  e.type = nox::EventType::progress;
  e.job_id = "0123456789abcdef0123456789abcdef";
  e.state = nox::JobState::running;
  e.time = 1700000000000;
  e.data = json::parse(R"({"step":3,"energy":-5.0})").as_object();
  const json::object p = e.payload();
  BOOST_TEST(p.size() == 5u);
  BOOST_TEST(p.at("job_id").as_string() == e.job_id);
  BOOST_TEST(p.at("state").as_string() == "running");
  BOOST_TEST(p.at("time").as_string() == "2023-11-14T22:13:20.000Z");
  BOOST_TEST(p.at("step").as_int64() == 3);
  BOOST_TEST(p.at("energy").as_double() == -5.0);
  BOOST_TEST(!p.contains("id"));
  BOOST_TEST(!p.contains("event"));
}

BOOST_AUTO_TEST_CASE(data_cannot_overwrite_identity) {
  nox::JobEvent e;
  e.job_id = "0123456789abcdef0123456789abcdef";
  e.state = nox::JobState::failed;
  e.time = 0;
  e.data =
      json::parse(R"({"job_id":"evil","state":"completed","time":"never","error":{"code":"x"}})").as_object();
  const json::object p = e.payload();
  BOOST_TEST(p.at("job_id").as_string() == "0123456789abcdef0123456789abcdef");
  BOOST_TEST(p.at("state").as_string() == "failed");
  BOOST_TEST(p.at("time").as_string() == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(p.at("error").as_object().at("code").as_string() == "x");
}

BOOST_AUTO_TEST_SUITE_END()
