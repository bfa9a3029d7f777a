#include "server/request_body.hpp"

#include <boost/json/stream_parser.hpp>

#include "core/job_id.hpp"
#include "server/api_error.hpp"
#include "server/large_json.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

bool is_json_media_type(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

std::optional<std::string> molecule_file_format(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type == "chemical/x-mdl-sdfile") return "sdf";
  if (type == "chemical/x-xyz") return "xyz";
  if (type == "chemical/x-daylight-smiles") return "smiles";
  return std::nullopt;
}

namespace {

std::optional<HttpResponse> reject_non_json(const HttpRequest& request) {
  const auto content_type = request.header("content-type");
  if (is_json_media_type(content_type)) return std::nullopt;
  return error_response(415, "unsupported_media_type",
                        content_type.empty() ? "send the job as JSON with Content-Type: application/json"
                                             : "expected Content-Type: application/json, got " +
                                                   std::string(content_type));
}

HttpResponse malformed_json(const std::string& body, std::size_t consumed, boost::system::error_code ec) {
  if (body.empty()) consumed = 0;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < consumed && i < body.size(); ++i) {
    if (body[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  std::string message = body.empty() ? "the request body is empty; expected a JSON object"
                                     : "malformed JSON at offset " + std::to_string(consumed) + " (line " +
                                           std::to_string(line) + ", column " + std::to_string(column) +
                                           "): " + ec.message();
  return error_response(400, "invalid_json", message,
                        json::array{json::object{{"offset", consumed}, {"line", line}, {"column", column}}});
}

}  // namespace

std::variant<json::value, HttpResponse> read_json_body(const HttpRequest& request) {
  if (auto refused = reject_non_json(request)) return std::move(*refused);
  const std::string& body = request.body;
  json::stream_parser parser;
  boost::system::error_code ec;
  std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (!ec) return parser.release();
  return malformed_json(body, consumed, ec);
}

asio::awaitable<std::variant<json::value, HttpResponse>> read_json_body_yielding(const HttpRequest& request,
                                                                                  json::storage_ptr storage) {
  if (auto refused = reject_non_json(request)) co_return std::move(*refused);
  ParsedJson parsed = co_await parse_yielding(request.body, std::move(storage));
  if (parsed.error) co_return malformed_json(request.body, parsed.consumed, parsed.error);
  co_return std::move(parsed.value);
}

std::optional<HttpResponse> reject_malformed_job_id(std::string_view id) {
  if (is_valid_job_id(id)) return std::nullopt;
  return error_response(404, "job_not_found",
                        "no job '" + std::string(id.substr(0, 64)) +
                            "': job ids are 32 lowercase hexadecimal characters");
}

}  // namespace nox
