// RedisStore's artifacts: string keys artifact:<id>:<name>, the info hash artifacts:<id>,
// bytes moved in chunks on the artifacts_ connection.
#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/json_serialize.hpp"
#include "core/random.hpp"
#include "core/sha256.hpp"
#include "storage/redis/redis_store.hpp"
#include "storage/redis/script_replies.hpp"
#include "storage/redis/scripts.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;
using redis::Command;
using redis::Reply;
using redis::ReplyArray;
using redis::item;
using redis::refusal;
using redis::status_of;
using redis::text_or;

namespace {

// Bytes per upload command: a 50 MiB file never becomes one 50 MiB command buffer.
constexpr std::size_t upload_chunk_bytes = 1024 * 1024;
// An upload that never got published (the instance died mid-way) vanishes after this.
constexpr std::string_view upload_expiry_ms = "3600000";

// An entry of the info hash artifacts:<id>: {"size", "media_type", "sha256"} as JSON text.
ArtifactInfo info_from_json(std::string name, const std::string& text) {
  ArtifactInfo info;
  info.name = std::move(name);
  boost::system::error_code ec;
  json::value meta = json::parse(text, ec);
  if (!ec && meta.is_object()) {
    const json::object& fields = meta.get_object();
    if (const json::value* size = fields.if_contains("size"); size && size->is_number())
      info.size = size->to_number<std::uint64_t>();
    if (const json::value* type = fields.if_contains("media_type"); type && type->is_string())
      info.media_type = std::string(type->get_string());
    if (const json::value* sha = fields.if_contains("sha256"); sha && sha->is_string())
      info.sha256 = std::string(sha->get_string());
  }
  if (info.media_type.empty()) info.media_type = media_type_for(info.name);
  return info;
}

// A failed exchange or an error reply on a connection -> unavailable; else the replies.
Result<std::vector<Reply>> replies_of(redis::Response response) {
  if (!response.ok()) return unavailable("Redis: " + response.message);
  for (const Reply& reply : response.replies)
    if (const std::string* error = reply.error()) return unavailable("Redis: " + *error);
  return std::move(response.replies);
}

}  // namespace

// --- artifacts ---
// Bytes live in string keys artifact:<id>:<name> (at most artifact_max_bytes each), their
// name, size, media type and SHA-256 in the hash artifacts:<id>. Bytes go in and out on the
// artifacts_ connection, in chunks (APPEND up, GETRANGE down), so neither a big upload nor a
// download holds a whole file in a buffer or queues the job commands behind it.

asio::awaitable<Result<Done>> RedisStore::put_artifacts(std::string id, std::vector<Artifact> artifacts) {
  for (const Artifact& artifact : artifacts) {
    if (!is_valid_artifact_name(artifact.name))
      co_return StoreError{StoreErrc::invalid, "invalid artifact name " + artifact.name, {}};
    if (artifact.bytes.size() > options_.artifact_max_bytes)
      co_return StoreError{StoreErrc::invalid,
                           "artifact " + artifact.name + " is " + std::to_string(artifact.bytes.size()) +
                               " bytes; the limit is " + std::to_string(options_.artifact_max_bytes),
                           {}};
  }
  std::vector<std::string> keys = {key("job:" + id), key("artifacts:" + id)};
  std::vector<std::string> infos;
  infos.reserve(artifacts.size());
  for (const Artifact& artifact : artifacts) {
    const std::string upload = key("upload:" + id + ":" + artifact.name + ":" + secure_random_hex());
    // The first chunk creates the key (with a safety expiry), the others append to it.
    std::size_t offset = 0;
    do {
      const std::size_t count = std::min(upload_chunk_bytes, artifact.bytes.size() - offset);
      const std::string_view chunk = std::string_view(artifact.bytes).substr(offset, count);
      Command command;
      if (offset == 0)
        command.push({"SET", upload, chunk, "PX", upload_expiry_ms});
      else
        command.push({"APPEND", upload, chunk});
      Result<std::vector<Reply>> written = replies_of(co_await artifacts_->exec(std::move(command)));
      if (!written) co_return written.error();
      offset += count;
    } while (offset < artifact.bytes.size());
    keys.push_back(key("artifact:" + id + ":" + artifact.name));
    keys.push_back(upload);
    // The producer hashes off the event loop (the runner does); this is only a fallback.
    const std::string sha256 = artifact.sha256.empty() ? sha256_hex(artifact.bytes) : artifact.sha256;
    infos.push_back(serialize_json(json::object{
        {"size", artifact.bytes.size()}, {"media_type", artifact.media_type}, {"sha256", sha256}}));
  }
  std::vector<std::string_view> args = {base_, id};
  for (std::size_t i = 0; i < artifacts.size(); ++i) {
    args.push_back(artifacts[i].name);
    args.push_back(infos[i]);
  }
  Result<Reply> reply = co_await eval(put_artifacts_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "cannot store artifacts");
  co_return Done{};
}

asio::awaitable<Result<Done>> RedisStore::copy_artifacts(std::string from, std::string to) {
  std::vector<std::string> keys = {key("job:" + from), key("job:" + to), key("artifacts:" + from),
                                   key("artifacts:" + to)};
  std::vector<std::string_view> args = {base_, from, to};  // not a braced list in co_await (g++ 12)
  Result<Reply> reply = co_await eval(copy_artifacts_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, text_or(item(*reply, 1)), "cannot copy artifacts");
  co_return Done{};
}

asio::awaitable<Result<std::vector<ArtifactInfo>>> RedisStore::list_artifacts(std::string id) {
  Command command;
  command.push({"EXISTS", key("job:" + id)}).push({"HGETALL", key("artifacts:" + id)});
  Result<std::vector<Reply>> replies = co_await exec(std::move(command));
  if (!replies) co_return replies.error();
  if ((*replies)[0].integer().value_or(0) == 0) co_return not_found("no job " + id);
  std::vector<ArtifactInfo> out;
  if (const ReplyArray* pairs = (*replies)[1].array())
    for (std::size_t i = 0; i + 1 < pairs->size(); i += 2)
      out.push_back(info_from_json(text_or((*pairs)[i]), text_or((*pairs)[i + 1])));
  // A hash has no order; by name is the stable one.
  std::sort(out.begin(), out.end(),
            [](const ArtifactInfo& a, const ArtifactInfo& b) { return a.name < b.name; });
  co_return out;
}

asio::awaitable<Result<ArtifactInfo>> RedisStore::artifact_info(std::string id, std::string name) {
  Command command;
  command.push({"EXISTS", key("job:" + id)}).push({"HGET", key("artifacts:" + id), name});
  Result<std::vector<Reply>> replies = co_await exec(std::move(command));
  if (!replies) co_return replies.error();
  if ((*replies)[0].integer().value_or(0) == 0) co_return not_found("no job " + id);
  const std::string* meta = (*replies)[1].text();
  if (!meta) co_return not_found("job " + id + " has no artifact " + name);
  co_return info_from_json(std::move(name), *meta);
}

asio::awaitable<Result<std::string>> RedisStore::read_artifact(std::string id, std::string name,
                                                               std::uint64_t offset, std::size_t length) {
  const std::size_t count = std::min(length, artifact_chunk_bytes);
  const std::string artifact = key("artifact:" + id + ":" + name);
  const std::string first = std::to_string(offset);
  const std::string last = std::to_string(offset + (count == 0 ? 0 : count - 1));
  Command command;
  command.push({"EXISTS", artifact}).push({"GETRANGE", artifact, first, last});
  Result<std::vector<Reply>> replies = replies_of(co_await artifacts_->exec(std::move(command)));
  if (!replies) co_return replies.error();
  if ((*replies)[0].integer().value_or(0) == 0) co_return not_found("job " + id + " has no artifact " + name);
  if (count == 0) co_return std::string();
  std::string* bytes = std::get_if<std::string>(&(*replies)[1].value);
  co_return bytes ? std::move(*bytes) : std::string();
}

}  // namespace nox
