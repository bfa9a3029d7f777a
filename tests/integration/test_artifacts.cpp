// Artifacts streamed, hashed and ranged (issue 7): a store hands out bounded chunks (files on
// the memory store's file thread, GETRANGE on the Redis store's own connection), the SHA-256
// computed once when stored is the ETag, and the route honours Range, If-None-Match, If-Range
// and HEAD, through a real noxd on both stores. Orphan artifact directories of the memory
// store are removed at start-up and by remove_orphan_artifacts (the retention sweep's).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/job_id.hpp"
#include "core/sha256.hpp"
#include "storage/memory_store.hpp"
#include "storage/redis/redis_store.hpp"
#include "tests/integration/api_fixture.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace nox;
using nox::test::run_task;

namespace {

fs::path fresh_dir(const char* what) {
  std::string pattern = (fs::temp_directory_path() / (std::string(what) + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string random_bytes(std::size_t n) {
  std::mt19937_64 rng(42);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

Job make_job() {
  Job job;
  job.id = new_job_id();
  job.spec = {{"engine", "echo"}, {"task", "energy"}, {"method", "gfn2"}, {"name", "water"}};
  job.created_at = now_ms();
  return job;
}

// Every byte of an artifact, read the way a download reads it: chunk by chunk.
asio::awaitable<std::string> read_in_chunks(Store& store, std::string id, std::string name, std::size_t* reads) {
  std::string out;
  while (true) {
    Result<std::string> chunk = co_await store.read_artifact(id, name, out.size(), artifact_chunk_bytes);
    if (!chunk || chunk->empty()) break;
    BOOST_TEST(chunk->size() <= artifact_chunk_bytes);
    out += *chunk;
    ++*reads;
  }
  co_return out;
}

// A big file (several chunks, and several Redis upload commands) stored and read back whole
// and in ranges; its hash computed by the store when the producer gave none.
asio::awaitable<std::string> big_artifact_round_trip(Store& store) {
  const std::string bytes = random_bytes(3 * 1024 * 1024 + 17);
  Result<Job> job = co_await store.create(make_job());
  if (!job) co_return "create: " + job.error().message;
  std::vector<Artifact> files = {{"density.cub", "chemical/x-cube", bytes, {}}};
  Result<Done> put = co_await store.put_artifacts(job->id, files);
  if (!put) co_return "put: " + put.error().message;
  // A producer's hash is kept as given (the runner hashes on its pool thread).
  std::vector<Artifact> hashed = {{"given.log", "text/plain", "abc", std::string(64, 'a')}};
  BOOST_TEST((co_await store.put_artifacts(job->id, hashed)).ok());
  BOOST_TEST((co_await store.artifact_info(job->id, "given.log"))->sha256 == std::string(64, 'a'));
  Result<ArtifactInfo> info = co_await store.artifact_info(job->id, "density.cub");
  if (!info) co_return "info: " + info.error().message;
  BOOST_TEST(info->size == bytes.size());
  BOOST_TEST(info->sha256 == sha256_hex(bytes));
  BOOST_TEST(info->media_type == "chemical/x-cube");
  std::size_t reads = 0;
  const std::string back = co_await read_in_chunks(store, job->id, "density.cub", &reads);
  BOOST_TEST((back == bytes));
  BOOST_TEST(reads == (bytes.size() + artifact_chunk_bytes - 1) / artifact_chunk_bytes);
  // A read never hands out more than one chunk, however much is asked for.
  Result<std::string> capped = co_await store.read_artifact(job->id, "density.cub", 5, 10 * artifact_chunk_bytes);
  BOOST_TEST((capped && *capped == bytes.substr(5, artifact_chunk_bytes)));
  Result<std::string> tail = co_await store.read_artifact(job->id, "density.cub", bytes.size() - 3, 100);
  BOOST_TEST((tail && *tail == bytes.substr(bytes.size() - 3)));
  co_return std::string();
}

asio::awaitable<std::string> start_redis(RedisStore* store) {
  Result<Done> started = co_await store->start(5s);
  co_return started ? std::string() : started.error().message;
}

// The name= and cmd= of each client Redis lists.
std::map<std::string, std::string> last_command_by_client(const test::RedisServer& redis) {
  std::map<std::string, std::string> out;
  std::istringstream lines(redis.cli("CLIENT LIST"));
  for (std::string line; std::getline(lines, line);) {
    std::string name, cmd;
    std::istringstream fields(line);
    for (std::string field; fields >> field;) {
      if (field.starts_with("name=")) name = field.substr(5);
      if (field.starts_with("cmd=")) cmd = field.substr(4);
    }
    if (!name.empty()) out[name] = cmd;
  }
  return out;
}

asio::awaitable<std::size_t> sweep_orphans(MemoryStore* store) { co_return co_await store->remove_orphan_artifacts(); }

asio::awaitable<std::string> put_log(Store* store, std::string* id) {
  Result<Job> job = co_await store->create(make_job());
  if (!job) co_return job.error().message;
  *id = job->id;
  std::vector<Artifact> files = {{"out.log", "text/plain", "x", {}}};
  Result<Done> put = co_await store->put_artifacts(job->id, files);
  co_return put ? std::string() : put.error().message;
}

// --- through noxd ---

// A stand-in for xtb: the real one, then a `density.cub` of `bytes` random bytes (an artifact
// the xtb engine keeps), so a job leaves a big file through the ordinary runner path.
fs::path fake_xtb(const fs::path& dir, std::size_t bytes) {
  const fs::path script = dir / "xtb";
  std::ofstream out(script);
  out << "#!/bin/sh\n"
      << "if [ \"$1\" = \"--version\" ]; then exec /usr/bin/xtb --version; fi\n"
      << "/usr/bin/xtb \"$@\"\nrc=$?\n"
      << "head -c " << bytes << " /dev/urandom > density.cub\n"
      << "exit $rc\n";
  out.close();
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

// HEAD over a raw socket (the test client would wait for a body): the status line and headers.
std::string raw_head(std::uint16_t port, const std::string& target) {
  return test::raw_exchange(port, "HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
      .received;
}

// The whole HTTP contract of one artifact download, on a finished xtb job of `noxd`.
void check_download_contract(test::NoxdProcess& noxd, bool big) {
  test::HttpClient client(noxd.port());
  const auto id = test::submit(client, test::job_spec_json("xtb", "energy", test::molecule_xyz("water")));
  const auto status = test::wait_until_finished(client, id);
  BOOST_REQUIRE_MESSAGE(test::json_string(status, "state") == "completed", client.get("/jobs/" + id).body);
  const std::string name = big ? "density.cub" : "xtb.log";
  const std::string url = "/jobs/" + id + "/artifacts/" + name;

  auto whole = client.get(url);
  BOOST_REQUIRE_EQUAL(whole.status, 200);
  const std::string etag = "\"" + sha256_hex(whole.body) + "\"";
  BOOST_TEST(whole.header("etag") == etag);  // the SHA-256 of exactly the bytes served
  BOOST_TEST(whole.header("accept-ranges") == "bytes");
  BOOST_TEST(whole.header("content-length") == std::to_string(whole.body.size()));
  const std::uint64_t size = whole.body.size();
  BOOST_REQUIRE(size > 100u);
  if (big) BOOST_TEST(size == 3u * 1024 * 1024 + 5);

  // The listing carries the same hash.
  bool listed = false;
  const json::value listing = client.get("/jobs/" + id + "/artifacts").json();
  for (const auto& a : listing.at("artifacts").as_array())
    if (a.at("name").as_string() == name) {
      listed = true;
      BOOST_TEST(a.at("sha256").as_string() == sha256_hex(whole.body));
      BOOST_TEST(a.at("size").to_number<std::uint64_t>() == size);
    }
  BOOST_TEST(listed);

  auto not_modified = client.request("GET", url, {}, {{"If-None-Match", "\"other\", " + etag}});
  BOOST_TEST(not_modified.status == 304);
  BOOST_TEST(not_modified.body.empty());
  BOOST_TEST(not_modified.header("etag") == etag);
  BOOST_TEST(client.request("GET", url, {}, {{"If-None-Match", "\"other\""}}).status == 200);

  // Ranges; the big file's cross chunk boundaries (256 KiB).
  const std::uint64_t a = big ? 262000 : 10, b = big ? 800000 : 49;
  auto part = client.request("GET", url, {}, {{"Range", "bytes=" + std::to_string(a) + "-" + std::to_string(b)}});
  BOOST_TEST(part.status == 206);
  BOOST_TEST((part.body == whole.body.substr(a, b - a + 1)));
  BOOST_TEST(part.header("content-range") ==
             "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(size));
  BOOST_TEST(part.header("etag") == etag);
  auto from = client.request("GET", url, {}, {{"Range", "bytes=" + std::to_string(a) + "-"}});
  BOOST_TEST(from.status == 206);
  BOOST_TEST((from.body == whole.body.substr(a)));
  auto last = client.request("GET", url, {}, {{"Range", "bytes=-7"}});
  BOOST_TEST(last.status == 206);
  BOOST_TEST((last.body == whole.body.substr(size - 7)));
  BOOST_TEST(last.header("content-range") ==
             "bytes " + std::to_string(size - 7) + "-" + std::to_string(size - 1) + "/" + std::to_string(size));
  auto past = client.request("GET", url, {}, {{"Range", "bytes=" + std::to_string(size) + "-"}});
  BOOST_TEST(past.status == 416);
  BOOST_TEST(past.header("content-range") == "bytes */" + std::to_string(size));
  // Several ranges are answered whole; so is a range whose If-Range names another version.
  auto several = client.request("GET", url, {}, {{"Range", "bytes=0-1,5-6"}});
  BOOST_TEST(several.status == 200);
  BOOST_TEST((several.body == whole.body));
  auto stale = client.request("GET", url, {}, {{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}});
  BOOST_TEST(stale.status == 200);
  BOOST_TEST(stale.body.size() == size);
  auto fresh = client.request("GET", url, {}, {{"Range", "bytes=0-9"}, {"If-Range", etag}});
  BOOST_TEST(fresh.status == 206);
  BOOST_TEST((fresh.body == whole.body.substr(0, 10)));

  // HEAD: the GET's headers, no body.
  const std::string head = raw_head(noxd.port(), url);
  BOOST_TEST(head.starts_with("HTTP/1.1 200"));
  BOOST_TEST(head.find("Content-Length: " + std::to_string(size) + "\r\n") != std::string::npos);
  BOOST_TEST(head.find("ETag: " + etag + "\r\n") != std::string::npos);
  BOOST_TEST(head.ends_with("\r\n\r\n"), head.substr(head.size() > 200 ? head.size() - 200 : 0));

  // The connection is still good after all that (kept alive through sized bodies).
  BOOST_TEST(client.get(url).body.size() == size);
  BOOST_TEST(client.get("/jobs/" + id + "/artifacts/nothing.log").status == 404);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(artifacts)

BOOST_AUTO_TEST_CASE(memory_store_streams_big_files_in_chunks) {
  const fs::path dir = fresh_dir("nox-artifacts");
  {
    asio::io_context ioc;
    MemoryStore store(ioc.get_executor(), MemoryStoreOptions{dir});
    BOOST_TEST(run_task(ioc, big_artifact_round_trip(store)) == "");
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(redis_store_streams_big_files_on_its_own_connection) {
  test::RedisServer redis;
  asio::io_context ioc;
  RedisStoreOptions options;
  options.url = redis.url();
  RedisStore store(ioc.get_executor(), options);
  BOOST_REQUIRE(run_task(ioc, start_redis(&store)) == "");
  BOOST_TEST(run_task(ioc, big_artifact_round_trip(store)) == "");
  // Bytes came over the artifact connection, so the job commands never queued behind them.
  const auto clients = last_command_by_client(redis);
  BOOST_TEST(clients.at("nox-artifacts") == "getrange");
  BOOST_TEST(clients.at("nox-commands") != "getrange");
  // No upload key is left behind, and no key holds a whole file twice.
  BOOST_TEST(redis.cli("--scan --pattern *upload:*").find("upload:") == std::string::npos);
  store.stop();
  ioc.restart();
  ioc.run_for(1s);
}

BOOST_AUTO_TEST_CASE(memory_store_removes_orphan_directories) {
  const fs::path dir = fresh_dir("nox-artifacts");
  // Left by a previous run: a job's directory, and a half-deleted tree moved aside by it.
  fs::create_directories(dir / "artifacts" / "0123456789abcdef0123456789abcdef");
  std::ofstream(dir / "artifacts" / "0123456789abcdef0123456789abcdef" / "xtb.log") << "old";
  fs::create_directories(dir / "artifacts.orphaned-1-1" / "x");
  {
    asio::io_context ioc;
    MemoryStore store(ioc.get_executor(), MemoryStoreOptions{dir});
    // At once: the old tree is out of the way before the store serves anything.
    BOOST_TEST(!fs::exists(dir / "artifacts" / "0123456789abcdef0123456789abcdef"));
    std::string id;
    BOOST_TEST(run_task(ioc, put_log(&store, &id)) == "");
    // One orphan made during this run (a job removed while its files were written, say).
    fs::create_directories(dir / "artifacts" / "fedcba9876543210fedcba9876543210");
    BOOST_TEST(run_task(ioc, sweep_orphans(&store)) == 1u);
    BOOST_TEST(!fs::exists(dir / "artifacts" / "fedcba9876543210fedcba9876543210"));
    BOOST_TEST(fs::exists(dir / "artifacts" / id / "out.log"));  // a held job's files stay
    // The tree moved aside at start was deleted on the file thread (before the sweep ran there).
    for (const auto& entry : fs::directory_iterator(dir))
      BOOST_TEST(!entry.path().filename().string().starts_with("artifacts.orphaned-"), entry.path());
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(download_contract_memory) {
  test::NoxdProcess noxd;
  check_download_contract(noxd, false);
}

BOOST_AUTO_TEST_CASE(download_contract_redis) {
  test::RedisServer redis;
  test::NoxdProcess noxd({"--redis-url", redis.url()});
  check_download_contract(noxd, false);
}

BOOST_AUTO_TEST_CASE(big_download_contract_memory) {
  const fs::path dir = fresh_dir("nox-fake-xtb");
  {
    test::NoxdProcess noxd({"--xtb", fake_xtb(dir, 3 * 1024 * 1024 + 5).string()});
    check_download_contract(noxd, true);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(big_download_contract_redis) {
  const fs::path dir = fresh_dir("nox-fake-xtb");
  {
    test::RedisServer redis;
    test::NoxdProcess noxd({"--redis-url", redis.url(), "--xtb", fake_xtb(dir, 3 * 1024 * 1024 + 5).string()});
    check_download_contract(noxd, true);
  }
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
