// Routes of a job's files: the listing (with result scalars) and one file's bytes, streamed.
#include <algorithm>
#include <functional>

#include "server/api_error.hpp"
#include "core/log.hpp"
#include "server/app.hpp"
#include "server/byte_range.hpp"
#include "server/request_body.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<HttpResponse> list_artifacts(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  if (!is_terminal(job->state))
    co_return error_response(409, "not_finished",
                             "job " + job->id + " is " + std::string(to_string(job->state)) +
                                 "; its files are listed once it has finished",
                             json::array{json::object{{"state", to_string(job->state)}}});
  auto files = co_await app.store.list_artifacts(job->id);
  if (!files) co_return store_error_response(files.error());
  json::object scalars;
  if (auto* result = job->result.if_object())
    for (const auto& [key, value] : *result)
      if (value.is_number() || value.is_bool()) scalars[key] = value;
  json::array artifacts;
  for (const auto& file : *files)
    artifacts.push_back(json::object{{"name", file.name},
                                     {"size", file.size},
                                     {"media_type", file.media_type},
                                     {"sha256", file.sha256},
                                     {"url", "/jobs/" + job->id + "/artifacts/" + file.name}});
  co_return json_response(200, json::object{{"job_id", job->id},
                                            {"state", to_string(job->state)},
                                            {"scalars", std::move(scalars)},
                                            {"artifacts", std::move(artifacts)}});
}

namespace {

// An artifact's bytes first..first+size-1, read from the store a chunk at a time as the
// connection sends them.
class ArtifactBody final : public SizedBody {
 public:
  ArtifactBody(Store& store, std::string id, std::string name, std::uint64_t first, std::uint64_t size)
      : store_(store), id_(std::move(id)), name_(std::move(name)), first_(first), size_(size) {}

  std::uint64_t size() const override { return size_; }

  asio::awaitable<std::optional<std::string>> next() override {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(artifact_chunk_bytes, size_ - sent_));
    Result<std::string> chunk = co_await store_.read_artifact(id_, name_, first_ + sent_, want);
    if (!chunk || chunk->empty()) {
      log_warn("download of artifact " + name_ + " of job " + id_ + " cut short at byte " +
               std::to_string(first_ + sent_) + ": " + (chunk ? "the file is shorter" : chunk.error().message));
      co_return std::nullopt;
    }
    sent_ += chunk->size();
    co_return std::move(*chunk);
  }

 private:
  Store& store_;
  std::string id_;
  std::string name_;
  std::uint64_t first_;
  std::uint64_t size_;
  std::uint64_t sent_ = 0;
};

}  // namespace

// One file of a job, streamed from the store in bounded chunks. Its SHA-256 (computed once
// when stored) is the ETag; If-None-Match, Range (one range; several are answered whole),
// If-Range and HEAD are honoured.
asio::awaitable<HttpResponse> get_artifact(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  const std::string name(params.get("name"));
  if (!is_valid_artifact_name(name))
    co_return error_response(404, "artifact_not_found", "'" + name.substr(0, 64) + "' is not an artifact name");
  if (auto hidden = co_await hide_unless_visible(app, request, std::string(id))) co_return std::move(*hidden);
  Result<ArtifactInfo> info = co_await app.store.artifact_info(std::string(id), name);
  if (!info) co_return store_error_response(info.error(), "artifact_not_found");
  // Files stored before hashes were kept have none: they are served without a validator.
  const std::string etag = info->sha256.empty() ? std::string() : "\"" + info->sha256 + "\"";
  HttpResponse response;
  if (!etag.empty()) response.headers.emplace_back("ETag", etag);
  response.headers.emplace_back("Accept-Ranges", "bytes");
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  if (if_none_match_matches(request.header("if-none-match"), etag)) {
    response.status = 304;
    response.content_type.clear();
    co_return response;
  }
  RangeRequest range = parse_range(request.header("range"), info->size);
  // If-Range: a range of a representation the client no longer has would be garbage.
  if (range.kind != RangeRequest::Kind::whole && !request.header("if-range").empty() &&
      !if_range_matches(request.header("if-range"), etag))
    range = RangeRequest{};
  if (range.kind == RangeRequest::Kind::unsatisfiable) {
    HttpResponse refused = error_response(416, "range_not_satisfiable",
                                          "artifact " + name + " has " + std::to_string(info->size) +
                                              " bytes; the requested range starts past its end");
    refused.headers = std::move(response.headers);
    refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(info->size));
    co_return refused;
  }
  std::uint64_t first = 0;
  std::uint64_t length = info->size;
  if (range.kind == RangeRequest::Kind::partial) {
    first = range.first;
    length = range.last - range.first + 1;
    response.status = 206;
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                       std::to_string(range.last) + "/" + std::to_string(info->size));
  }
  response.content_type = info->media_type;
  if (length <= artifact_chunk_bytes && request.method != "HEAD") {
    // Small (most xtb outputs): one read, one write, and a vanished file is still a clean 404.
    Result<std::string> bytes = co_await app.store.read_artifact(std::string(id), name, first, length);
    if (!bytes) co_return store_error_response(bytes.error(), "artifact_not_found");
    if (bytes->size() != length)
      co_return error_response(503, "artifact_unavailable", "artifact " + name + " could not be read whole");
    response.body = std::move(*bytes);
    co_return response;
  }
  response.sized = std::make_shared<ArtifactBody>(app.store, std::string(id), name, first, length);
  co_return response;
}

}  // namespace nox::routes
