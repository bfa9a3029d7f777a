#include "server/api_error.hpp"

#include "core/json_serialize.hpp"

namespace nox {

namespace json = boost::json;

HttpResponse json_response(int status, const json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = serialize_json(body);
  return response;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message, json::array details) {
  json::object error{{"code", code}, {"message", message}, {"details", std::move(details)}};
  return json_response(status, json::object{{"error", std::move(error)}});
}

HttpResponse field_errors_response(const FieldErrors& errors, std::string_view code, std::string_view what) {
  json::array details;
  for (const auto& e : errors) details.push_back(json::object{{"field", e.field}, {"message", e.message}});
  std::string message = errors.size() == 1 ? errors.front().field + ": " + errors.front().message
                                           : std::to_string(errors.size()) + " fields of " + std::string(what) + " are invalid";
  return error_response(422, code, message, std::move(details));
}

HttpResponse store_error_response(const StoreError& error, std::string_view not_found_code) {
  switch (error.code) {
    case StoreErrc::not_found:
      return error_response(404, not_found_code, error.message);
    case StoreErrc::conflict: {
      json::array details;
      if (error.current_state) details.push_back(json::object{{"state", to_string(*error.current_state)}});
      return error_response(409, "invalid_state", error.message, std::move(details));
    }
    case StoreErrc::invalid:
      return error_response(400, "invalid_request", error.message);
    case StoreErrc::full: {
      auto response = error_response(503, "store_full", error.message);
      response.headers.emplace_back("Retry-After", "60");
      return response;
    }
    case StoreErrc::quota: {
      auto response = error_response(429, "too_many_queued", error.message);
      response.headers.emplace_back("Retry-After", "10");
      return response;
    }
    case StoreErrc::busy: {
      auto response = error_response(503, "queue_full", error.message);
      response.headers.emplace_back("Retry-After", "10");
      return response;
    }
    case StoreErrc::unavailable:
      break;
  }
  auto response = error_response(503, "store_unavailable", "the job store cannot be reached: " + error.message);
  response.headers.emplace_back("Retry-After", "2");
  return response;
}

}  // namespace nox
