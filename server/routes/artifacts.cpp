// Routes of a job's files: the listing (with result scalars) and one file's bytes.
#include <functional>

#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/request_body.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<HttpResponse> list_artifacts(App& app, const HttpRequest&, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  auto job = co_await app.store.get(std::string(id));
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
                                     {"url", "/jobs/" + job->id + "/artifacts/" + file.name}});
  co_return json_response(200, json::object{{"job_id", job->id},
                                            {"state", to_string(job->state)},
                                            {"scalars", std::move(scalars)},
                                            {"artifacts", std::move(artifacts)}});
}

asio::awaitable<HttpResponse> get_artifact(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  const std::string name(params.get("name"));
  if (!is_valid_artifact_name(name))
    co_return error_response(404, "artifact_not_found", "'" + name.substr(0, 64) + "' is not an artifact name");
  auto artifact = co_await app.store.get_artifact(std::string(id), name);
  if (!artifact) co_return store_error_response(artifact.error(), "artifact_not_found");
  // Artifacts never change once written, so a hash of the bytes is a strong validator.
  const std::string etag = "\"" + std::to_string(std::hash<std::string>{}(artifact->bytes)) + "\"";
  HttpResponse response;
  response.headers.emplace_back("ETag", etag);
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  if (request.header("if-none-match") == etag) {
    response.status = 304;
    response.content_type.clear();
    co_return response;
  }
  response.content_type = artifact->media_type;
  response.body = std::move(artifact->bytes);
  co_return response;
}

}  // namespace nox::routes
