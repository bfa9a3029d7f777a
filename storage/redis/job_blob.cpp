#define ZSTD_STATIC_LINKING_ONLY  // magicless frames: 4 bytes less per value (exported by libzstd.so.1)
#include "storage/redis/job_blob.hpp"

#include <zstd.h>

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <stdexcept>

#include "core/job_id.hpp"
#include "core/job_spec.hpp"
#include "core/json_serialize.hpp"
#include "storage/redis/msgpack.hpp"

namespace nox::job_blob {

namespace json = boost::json;

namespace {

// Text that specs and results are made of, as a zstd dictionary (raw content: the compressor
// refers back into it). NEVER change it: stored records are read with it. A new dictionary
// needs a new tag byte beside 'D' and 'S'. The most common text comes last (nearer is cheaper).
constexpr std::string_view builtin_dictionary =
    R"({"engine":{"name":"xtb","version":"6.5.1"},"wall_time_s":,"energy":,"gradient":[[)"
    R"(],"dipole":[,"homo_lumo_gap_ev":,"total_energy_hartree":,"frequencies_cm1":[,"converged":true)"
    R"(,"optimized_xyz":"","cycles":,"charges":[,"wbo":,"thermo":{"zpe":,"enthalpy":,"free_energy":)"
    R"({"code":"engine_failed","message":"","solvent":{"model":"alpb","name":"water"},"keywords":{"acc":)"
    R"(,"method":"gfn1","method":"gfnff","task":"optimize","task":"hessian","task":"gradient","outputs":["molden"])"
    R"(C       -0.0000000000 N       1.0000000000 O       2.0000000000 S       3.0000000000 )"
    R"(H       0.0000000000      0.0000000000      0.0000000000\n)"
    R"({"engine":"xtb","task":"energy","method":"gfn2","molecule":{"xyz":"3\nwater\nO       0.0000000000)"
    R"(      0.0000000000      0.1170000000\nH       0.0000000000      0.7570000000     -0.4670000000\n"},)"
    R"("charge":0,"multiplicity":1,"solvent":null,"keywords":{},"outputs":[],"priority":0,"timeout_s":3600,)"
    R"("max_attempts":1,"max_lost":3,"run_at":null,"tags":[],"name":""})";

constexpr char plain_tag = 'P';
constexpr char builtin_tag = 'D';   // zstd, the built-in dictionary
constexpr char with_spec_tag = 'S';  // zstd, the job's spec as the dictionary
constexpr int level = 3;            // a few microseconds for these sizes; 19 gains a few bytes only

struct Contexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  Contexts() {
    ZSTD_CCtx_setParameter(compress, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(compress, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(compress, ZSTD_c_dictIDFlag, 0);
    ZSTD_DCtx_setParameter(decompress, ZSTD_d_format, ZSTD_f_zstd1_magicless);
  }
  ~Contexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
  Contexts(const Contexts&) = delete;
  Contexts& operator=(const Contexts&) = delete;
};

Contexts& contexts() {
  thread_local Contexts c;
  return c;
}

// The built-in dictionary digested once (loading it as a prefix hashed 1.5 KB per value).
struct Builtin {
  ZSTD_CDict* compress = ZSTD_createCDict(builtin_dictionary.data(), builtin_dictionary.size(), level);
  ZSTD_DDict* decompress = ZSTD_createDDict(builtin_dictionary.data(), builtin_dictionary.size());
  ~Builtin() {
    ZSTD_freeCDict(compress);
    ZSTD_freeDDict(decompress);
  }
};

const Builtin& builtin() {
  static const Builtin b;
  return b;
}

// With the built-in dictionary (tag 'D'), or `prefix` as the dictionary (raw content, for one frame).
std::string compress(char tag, std::string_view text, std::string_view prefix) {
  Contexts& c = contexts();
  std::string out(1 + ZSTD_compressBound(text.size()), tag);
  if (tag == builtin_tag) ZSTD_CCtx_refCDict(c.compress, builtin().compress);
  else ZSTD_CCtx_refPrefix(c.compress, prefix.data(), prefix.size());
  const std::size_t n = ZSTD_compress2(c.compress, out.data() + 1, out.size() - 1, text.data(), text.size());
  if (ZSTD_isError(n) || n >= text.size()) {
    ZSTD_CCtx_reset(c.compress, ZSTD_reset_session_only);
    std::string plain(1, plain_tag);
    return plain.append(text);
  }
  out.resize(n + 1);
  return out;
}

std::string decompress(char tag, std::string_view frame, std::string_view prefix) {
  ZSTD_frameHeader header;
  if (ZSTD_getFrameHeader_advanced(&header, frame.data(), frame.size(), ZSTD_f_zstd1_magicless) != 0 ||
      header.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN || header.frameContentSize > (1ull << 30))
    throw std::runtime_error("job record: a compressed value has no readable header");
  Contexts& c = contexts();
  std::string out(header.frameContentSize, '\0');
  if (tag == builtin_tag) ZSTD_DCtx_refDDict(c.decompress, builtin().decompress);
  else ZSTD_DCtx_refPrefix(c.decompress, prefix.data(), prefix.size());
  const std::size_t n = ZSTD_decompressDCtx(c.decompress, out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != out.size()) {
    ZSTD_DCtx_reset(c.decompress, ZSTD_reset_session_only);
    throw std::runtime_error("job record: a compressed value is corrupt");
  }
  return out;
}

// Integers are written as such; a number kept as text (by hand, or an older script) reads too.
std::int64_t integer_of(msgpack::Reader& in) {
  if (in.peek() != msgpack::Reader::Kind::text) return in.integer();
  const std::string_view text = in.text();
  std::int64_t n = 0;
  try {
    n = std::stoll(std::string(text));
  } catch (const std::exception&) {
    throw std::runtime_error("job record: \"" + std::string(text) + "\" is not a number");
  }
  return n;
}

// Each tree read from a record lives in one monotonic buffer of its own: a spec is ~20 nodes,
// and allocating and freeing them one by one (jemalloc and Boost.JSON were noxd's largest
// items in `perf` on the echo round trip) cost more than one buffer per tree. Copies of the
// tree share the buffer; it goes with the last of them.
json::value parse_json(std::string_view text, const char* field) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::make_shared_resource<json::monotonic_resource>());
  if (ec) throw std::runtime_error(std::string("job record: its ") + field + " is not JSON");
  return v;
}

}  // namespace

std::string pack_spec(std::string_view spec_json) { return compress(builtin_tag, spec_json, builtin_dictionary); }

std::string pack_result(std::string_view result_json, std::string_view spec_json) {
  if (spec_json.empty()) return compress(builtin_tag, result_json, builtin_dictionary);
  return compress(with_spec_tag, result_json, spec_json);
}

std::string unpack(std::string_view packed, std::string_view spec_json) {
  if (packed.empty()) throw std::runtime_error("job record: an empty packed value");
  const std::string_view body = packed.substr(1);
  switch (packed.front()) {
    case plain_tag: return std::string(body);
    case builtin_tag:
    case with_spec_tag: return decompress(packed.front(), body, spec_json);
    default: throw std::runtime_error("job record: a packed value of unknown kind");
  }
}

namespace {

// A batch's job whose id was made from the batch's id (core/job_id.hpp) keeps neither the
// batch's id in its spec nor its tag in `t`: the spec goes under "sb" instead of "sp", and
// decode() puts batch_id back from the job's id. The batch is listed by its jobs' ids, not
// by an index (RedisStore::list). ~260 B less per job (bench/RESULTS.md run 18).
std::optional<std::string> batch_from_id(const Job& job) {
  const json::value* batch = job.spec.if_contains("batch_id");
  if (!batch || !batch->is_string()) return std::nullopt;
  auto made_from = batch_of_job_id(job.id);
  if (!made_from || *made_from != batch->get_string()) return std::nullopt;
  return made_from;
}

}  // namespace

std::string encode(const Job& job) {
  const Job defaults;
  const std::optional<std::string> batch = batch_from_id(job);
  std::string spec_json;
  std::string dictionary;  // a result's: the spec as decode() gives it back
  std::vector<std::string> tags = job.index_tags();
  if (batch) {
    json::object stripped = job.spec;
    stripped.erase("batch_id");
    spec_json = serialize_json(stripped);
    stripped["batch_id"] = *batch;  // where decode() puts it back: last
    dictionary = serialize_json(stripped);
    std::erase(tags, batch_tag(*batch));
  } else {
    spec_json = serialize_json(job.spec);
    dictionary = spec_json;
  }
  const std::vector<std::string> needs = job.requires_tags();
  const std::string queue = job.queue();
  const bool named_queue = queue != kDefaultQueue;
  msgpack::Writer out;
  std::size_t entries = 3;  // s, e, sp
  auto count = [&](bool present) { entries += present ? 1 : 0; };
  count(!tags.empty());
  count(job.created_at != 0);
  count(job.started_at != 0);
  count(job.finished_at != 0);
  count(job.attempts != defaults.attempts);
  count(job.max_attempts != defaults.max_attempts);
  count(job.lost != defaults.lost);
  count(job.max_lost != defaults.max_lost);
  count(job.priority != defaults.priority);
  count(!job.worker_id.empty());
  count(!job.owner.empty());
  count(job.threads() != 1);
  count(!needs.empty());
  count(named_queue);
  count(!job.waiting_on.empty());
  count(!job.cached_from.empty());
  count(!job.result.is_null());
  count(!job.error.is_null());
  count(!job.progress.is_null());
  out.map(entries);
  out.entry("s", to_string(job.state));
  out.entry("e", job.engine());
  if (!tags.empty()) {
    out.text("t");
    out.array(tags.size());
    for (const std::string& tag : tags) out.text(tag);
  }
  if (job.created_at != 0) out.entry("c", job.created_at);
  if (job.started_at != 0) out.entry("b", job.started_at);
  if (job.finished_at != 0) out.entry("f", job.finished_at);
  if (job.attempts != defaults.attempts) out.entry("a", job.attempts);
  if (job.max_attempts != defaults.max_attempts) out.entry("ma", job.max_attempts);
  if (job.lost != defaults.lost) out.entry("l", job.lost);
  if (job.max_lost != defaults.max_lost) out.entry("ml", job.max_lost);
  if (job.priority != defaults.priority) out.entry("p", job.priority);
  if (!job.worker_id.empty()) out.entry("w", job.worker_id);
  if (!job.owner.empty()) out.entry("o", job.owner);
  if (job.threads() != 1) out.entry("th", job.threads());
  if (!needs.empty()) {
    out.text("rq");
    out.array(needs.size());
    for (const std::string& tag : needs) out.text(tag);
  }
  if (named_queue) out.entry("qn", queue);
  if (!job.waiting_on.empty()) out.entry("wo", job.waiting_on);
  if (!job.cached_from.empty()) out.entry("cf", job.cached_from);
  out.entry(batch ? "sb" : "sp", pack_spec(spec_json));
  if (!job.result.is_null()) out.entry("r", pack_result(serialize_json(job.result), dictionary));
  if (!job.error.is_null()) out.entry("x", serialize_json(job.error));
  if (!job.progress.is_null()) out.entry("g", serialize_json(job.progress));
  return std::move(out.bytes());
}

Job decode(std::string_view blob, std::string_view id, Unpack what, std::string* spec_json_out) {
  try {
    msgpack::Reader in(blob);
    Job job;
    job.id = std::string(id);
    bool has_state = false;
    std::string_view spec_packed;
    bool batch_from_id = false;  // "sb": the spec without its batch_id, which the id gives
    std::string_view result_packed;
    for (std::size_t n = in.map(); n > 0; --n) {
      const std::string_view key = in.text();
      if (key == "s") {
        const std::string_view state = in.text();
        const auto parsed = parse_job_state(state);
        if (!parsed) throw std::runtime_error("job record: unknown state \"" + std::string(state) + "\"");
        job.state = *parsed;
        has_state = true;
      } else if (key == "c") {
        job.created_at = integer_of(in);
      } else if (key == "b") {
        job.started_at = integer_of(in);
      } else if (key == "f") {
        job.finished_at = integer_of(in);
      } else if (key == "a") {
        job.attempts = static_cast<int>(integer_of(in));
      } else if (key == "ma") {
        job.max_attempts = static_cast<int>(integer_of(in));
      } else if (key == "l") {
        job.lost = static_cast<int>(integer_of(in));
      } else if (key == "ml") {
        job.max_lost = static_cast<int>(integer_of(in));
      } else if (key == "p") {
        job.priority = static_cast<int>(integer_of(in));
      } else if (key == "w") {
        job.worker_id = std::string(in.text());
      } else if (key == "o") {
        job.owner = std::string(in.text());
      } else if (key == "wo") {
        job.waiting_on = std::string(in.text());
      } else if (key == "cf") {
        job.cached_from = std::string(in.text());
      } else if (key == "sp") {
        spec_packed = in.text();
        batch_from_id = false;  // a script replaced the spec (a retry's next one): this one is whole
      } else if (key == "sb") {
        if (spec_packed.empty()) {
          spec_packed = in.text();
          batch_from_id = true;
        } else {
          in.skip();
        }
      } else if (key == "r") {
        result_packed = in.text();
      } else if (key == "x") {
        job.error = parse_json(in.text(), "error");
      } else if (key == "g") {
        job.progress = parse_json(in.text(), "progress");
      } else {
        in.skip();  // e, t, q, h, rq, qn: the store's own (the spec holds rq and qn too)
      }
    }
    if (!has_state) throw std::runtime_error("job record: no state");
    std::string spec_json;
    if (what != Unpack::nothing && !spec_packed.empty()) {
      spec_json = unpack(spec_packed);
      json::value spec = parse_json(spec_json, "spec");
      // Constructed in place, not assigned: assignment would copy the tree into job.spec's
      // default storage, node by node, and lose the buffer's gain.
      if (spec.is_object()) {
        std::destroy_at(&job.spec);
        std::construct_at(&job.spec, std::move(spec.get_object()));
        if (batch_from_id) {
          // A result names the batch too (an echo repeats its spec): its dictionary is the
          // whole spec, so that the id compresses to nothing.
          if (auto batch = batch_of_job_id(job.id)) job.spec["batch_id"] = *batch;
          spec_json = serialize_json(job.spec);
        }
      }
    }
    if (what == Unpack::spec_and_result && !result_packed.empty()) job.result = parse_json(unpack(result_packed, spec_json), "result");
    if (spec_json_out) *spec_json_out = std::move(spec_json);
    return job;
  } catch (const msgpack::Error& e) {
    throw std::runtime_error(std::string("job record: ") + e.what());
  }
}

std::vector<std::string> history(std::string_view blob) {
  std::vector<std::string> ids;
  try {
    msgpack::Reader in(blob);
    for (std::size_t n = in.map(); n > 0; --n) {
      if (in.text() != "h") {
        in.skip();
        continue;
      }
      const std::size_t items = in.array();
      std::int64_t ms = 0;
      for (std::size_t i = 0; i + 1 < items; i += 2) {
        ms += integer_of(in);
        ids.push_back(std::to_string(ms) + "-" + std::to_string(integer_of(in)));
      }
      if (items % 2) in.skip();
      break;
    }
  } catch (const msgpack::Error& e) {
    throw std::runtime_error(std::string("job record: ") + e.what());
  }
  return ids;
}

}  // namespace nox::job_blob
