// The Redis record (layout 2): MessagePack as Redis's cmsgpack writes it, the short-key map,
// compression with the built-in dictionary and with the spec, and the history encoding.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "core/job_id.hpp"
#include "storage/redis/job_blob.hpp"
#include "storage/redis/msgpack.hpp"

namespace json = boost::json;
using namespace nox;

namespace {

Job water_job() {
  Job job;
  job.id = "0123456789abcdef0123456789abcdef";
  job.spec = json::parse(
                 R"({"engine":"echo","task":"energy","method":"gfn2","molecule":{"xyz":"3\nwater\nO       0.0000000000      0.0000000000      0.1170000000\nH       0.0000000000      0.7570000000     -0.4670000000\nH       0.0000000000     -0.7570000000     -0.4670000000\n"},"charge":0,"multiplicity":1,"solvent":null,"keywords":{},"outputs":[],"priority":0,"timeout_s":3600,"max_attempts":1,"max_lost":3,"run_at":null,"tags":["screen"],"name":""})")
                 .as_object();
  job.created_at = 1796059732400;
  return job;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_blob_record)

BOOST_AUTO_TEST_CASE(a_record_reads_back_as_it_was_written) {
  Job job = water_job();
  job.state = JobState::failed;
  job.started_at = job.created_at + 5;
  job.finished_at = job.created_at + 900;
  job.attempts = 2;
  job.max_attempts = 4;
  job.lost = 1;
  job.max_lost = 7;
  job.priority = -3;
  job.worker_id = "host-1-abc";
  job.owner = "alice@lab";
  job.result = json::object{{"echo", job.spec}, {"wall_time_s", 0.5}};
  job.error = json::object{{"code", "engine_failed"}, {"message", "x"}};
  job.progress = json::object{{"step", 3}};
  const std::string blob = job_blob::encode(job);
  const Job back = job_blob::decode(blob, job.id);
  BOOST_TEST(back.id == job.id);
  BOOST_TEST((back.state == job.state));
  BOOST_TEST(back.spec == job.spec);
  BOOST_TEST(back.created_at == job.created_at);
  BOOST_TEST(back.started_at == job.started_at);
  BOOST_TEST(back.finished_at == job.finished_at);
  BOOST_TEST(back.attempts == 2);
  BOOST_TEST(back.max_attempts == 4);
  BOOST_TEST(back.lost == 1);
  BOOST_TEST(back.max_lost == 7);
  BOOST_TEST(back.priority == -3);
  BOOST_TEST(back.worker_id == job.worker_id);
  BOOST_TEST(back.owner == "alice@lab");
  BOOST_TEST(back.result == job.result);
  BOOST_TEST(back.error == job.error);
  BOOST_TEST(back.progress == job.progress);
  const Job without_result = job_blob::decode(blob, job.id, job_blob::Unpack::spec);
  BOOST_TEST(without_result.result.is_null());
  BOOST_TEST(without_result.spec == job.spec);
  // A finish's answer: the record's own fields, neither packed value.
  std::string spec_json = "untouched";
  const Job bare = job_blob::decode(blob, job.id, job_blob::Unpack::nothing, &spec_json);
  BOOST_TEST(bare.spec.empty());
  BOOST_TEST(bare.result.is_null());
  BOOST_TEST(spec_json.empty());
  BOOST_TEST(bare.attempts == 2);
  BOOST_TEST(bare.error == job.error);
}

BOOST_AUTO_TEST_CASE(a_decoded_spec_outlives_its_blob_when_copied_and_moved) {
  Job copy;
  {
    const Job job = water_job();
    const std::string blob = job_blob::encode(job);
    Job back = job_blob::decode(blob, job.id);
    BOOST_TEST(back.spec == job.spec);
    copy = back;  // assigned into copy's own storage
    Job moved = std::move(back);
    BOOST_TEST(moved.spec == job.spec);
  }
  BOOST_TEST(copy.spec.at("engine").as_string() == "echo");
}

BOOST_AUTO_TEST_CASE(defaults_are_not_stored_and_bodies_are_compressed) {
  const Job job = water_job();
  const std::string spec_json = json::serialize(job.spec);
  const std::string blob = job_blob::encode(job);
  msgpack::Reader in(blob);
  std::vector<std::string> keys;
  for (std::size_t n = in.map(); n > 0; --n) {
    keys.emplace_back(in.text());
    in.skip();
  }
  BOOST_TEST(keys == (std::vector<std::string>{"s", "e", "t", "c", "sp"}), boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("record of a new water job: " << blob.size() << " bytes (spec JSON " << spec_json.size() << ")");
  BOOST_TEST(blob.size() < 120u);
  // An echo result repeats the spec: compressed against it, it costs a few dozen bytes.
  const std::string result = R"({"echo":)" + spec_json + R"(,"engine":{"name":"echo","version":"0.1.0"},"wall_time_s":0E0})";
  const std::string packed = job_blob::pack_result(result, spec_json);
  BOOST_TEST(packed.size() < 80u, packed.size());
  BOOST_TEST(job_blob::unpack(packed, spec_json) == result);
  // Without the spec at hand (the instance restarted), the built-in dictionary still helps.
  const std::string alone = job_blob::pack_result(result, "");
  BOOST_TEST(alone.size() < result.size() / 2);
  BOOST_TEST(job_blob::unpack(alone) == result);
  // Tiny values that do not shrink are kept plain.
  BOOST_TEST(job_blob::pack_result("{}", spec_json) == "P{}");
  BOOST_TEST(job_blob::unpack("P{}") == "{}");
}

BOOST_AUTO_TEST_CASE(what_the_scripts_write_reads_too) {
  // cmsgpack writes whole Lua numbers as integers of the smallest width, others as doubles,
  // strings of 32+ bytes as str8, and maps in any order; a number may also come as text.
  msgpack::Writer out;
  out.map(5);
  out.entry("f", std::string_view("1796059733300"));  // a number as text
  out.text("a");
  out.bytes().append("\xcb\x40\x00\x00\x00\x00\x00\x00\x00", 9);  // 2.0 as a double
  out.entry("s", std::string_view("completed"));
  out.entry("w", std::string(40, 'w'));  // str8
  out.text("h");
  out.array(6);
  for (std::int64_t v : {1796059732401LL, 0LL, 1LL, 3LL, 250LL, 0LL}) out.integer(v);
  const std::string blob = out.bytes();
  const Job job = job_blob::decode(blob, "id");
  BOOST_TEST((job.state == JobState::completed));
  BOOST_TEST(job.finished_at == 1796059733300);
  BOOST_TEST(job.attempts == 2);
  BOOST_TEST(job.worker_id == std::string(40, 'w'));
  BOOST_TEST(job_blob::history(blob) ==
                 (std::vector<std::string>{"1796059732401-0", "1796059732402-3", "1796059732652-0"}),
             boost::test_tools::per_element());
}

// A batch's job whose id was made from the batch's id stores neither the batch's id nor its tag
// (bench/RESULTS.md run 18: 81 B more per job before, in two places), under "sb", and reads
// back whole. Its result's echo names the batch: a reference into the result's dictionary (the
// spec with its batch_id) whose coded length depends on the id's random digits, so a few bytes
// over the job alone at most (128 B alone, 128-133 B over many random ids when measured).
BOOST_AUTO_TEST_CASE(a_batchs_job_stores_neither_its_batch_id_nor_its_tag) {
  Job alone = water_job();
  alone.state = JobState::completed;
  alone.result = json::object{{"echo", alone.spec}, {"wall_time_s", 0.5}};
  const std::size_t alone_size = job_blob::encode(alone).size();
  auto member_of = [](const std::string& batch_id) {
    Job member = water_job();
    member.id = batch_job_id(batch_id, 417);
    member.spec["batch_id"] = batch_id;
    member.state = JobState::completed;
    member.result = json::object{{"echo", member.spec}, {"wall_time_s", 0.5}};  // names the batch too
    return member;
  };
  std::size_t largest = 0;
  for (int i = 0; i < 500; ++i) largest = std::max(largest, job_blob::encode(member_of(new_batch_id(1000))).size());
  BOOST_TEST(largest <= alone_size + 8);

  const std::string batch_id = new_batch_id(1000);
  const Job member = member_of(batch_id);
  const std::string blob = job_blob::encode(member);
  BOOST_TEST(blob.find(batch_id) == std::string::npos);
  BOOST_TEST(blob.find("batch:") == std::string::npos);
  std::string spec_json;
  const Job back = job_blob::decode(blob, member.id, job_blob::Unpack::spec_and_result, &spec_json);
  BOOST_TEST(back.spec == member.spec);
  BOOST_TEST(back.result == member.result);
  BOOST_TEST((back.index_tags() == std::vector<std::string>{"screen", batch_tag(batch_id)}));
  // The spec text handed out is the dictionary of the job's result: the whole spec.
  BOOST_TEST(spec_json.find(batch_id) != std::string::npos);
  BOOST_TEST(job_blob::unpack(job_blob::pack_result("{\"x\":1}", spec_json), spec_json) == "{\"x\":1}");

  // A spec whose batch_id is not the one its id was made from keeps it (a job copied from a batch).
  Job copied = water_job();
  copied.spec["batch_id"] = batch_id;
  const std::string whole = job_blob::encode(copied);
  BOOST_TEST(whole.find("batch:" + batch_id) != std::string::npos);
  BOOST_TEST(job_blob::decode(whole, copied.id).spec == copied.spec);
}

// A retry's next spec is stored by a script as "sp" beside the first spec's "sb", in either
// order (cmsgpack writes a Lua table in any order): the whole "sp" is the job's spec.
BOOST_AUTO_TEST_CASE(a_spec_a_script_stored_comes_before_a_batchs_stripped_one) {
  const std::string batch_id = new_batch_id(3);
  const std::string id = batch_job_id(batch_id, 2);
  const std::string stripped = job_blob::pack_spec(R"({"engine":"echo","task":"energy"})");
  const std::string next = job_blob::pack_spec(R"({"engine":"echo","task":"gradient","batch_id":")" + batch_id + "\"}");
  for (const bool sb_first : {true, false}) {
    msgpack::Writer out;
    out.map(3);
    out.entry("s", std::string_view("pending"));
    if (sb_first) out.entry("sb", stripped);
    out.entry("sp", next);
    if (!sb_first) out.entry("sb", stripped);
    const Job job = job_blob::decode(out.bytes(), id);
    BOOST_TEST(job.spec.at("task") == json::value("gradient"));
    BOOST_TEST(job.spec.at("batch_id") == json::value(batch_id));
  }
  msgpack::Writer only;
  only.map(2);
  only.entry("s", std::string_view("pending"));
  only.entry("sb", stripped);
  const Job job = job_blob::decode(only.bytes(), id);
  BOOST_TEST(job.spec.at("task") == json::value("energy"));
  BOOST_TEST(job.spec.at("batch_id") == json::value(batch_id));
}

BOOST_AUTO_TEST_CASE(bytes_that_are_no_record_are_an_error_not_a_crash) {
  const std::string good = job_blob::encode(water_job());
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    BOOST_CHECK_THROW(job_blob::decode(good.substr(0, cut), "id"), std::runtime_error);
  BOOST_CHECK_THROW(job_blob::decode("\x81\xa1s\xa3odd", "id"), std::runtime_error);  // unknown state
  BOOST_CHECK_THROW(job_blob::decode("\x80", "id"), std::runtime_error);              // no state
  BOOST_CHECK_THROW(job_blob::unpack("Sgarbage", "{}"), std::runtime_error);
  BOOST_CHECK_THROW(job_blob::unpack("Xabc"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(integers_take_the_smallest_form_and_round_trip) {
  for (const std::int64_t v : std::initializer_list<std::int64_t>{0LL, 1LL, 127LL, 128LL, 255LL, 256LL, 65535LL, 65536LL, 4294967295LL, 4294967296LL,
                         -1LL, -32LL, -33LL, -128LL, -129LL, -32768LL, -32769LL, -2147483648LL, -2147483649LL,
                         INT64_MIN, INT64_MAX}) {
    msgpack::Writer out;
    out.integer(v);
    msgpack::Reader in(out.bytes());
    BOOST_TEST(in.integer() == v);
    BOOST_TEST(in.done());
  }
  msgpack::Writer small;
  small.integer(5);
  BOOST_TEST(small.bytes().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
