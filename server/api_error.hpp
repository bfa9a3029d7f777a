#pragma once
// Error answers: always {"error": {"code", "message", "details"}} with the right status.
#include <boost/json/array.hpp>
#include <string>

#include "core/field_error.hpp"
#include "server/http_types.hpp"
#include "storage/store_result.hpp"

namespace nox {

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            boost::json::array details = {});
// 422 with one detail per field; `code` and `what` name the document ("the job spec").
HttpResponse field_errors_response(const FieldErrors& errors, std::string_view code = "invalid_spec",
                                   std::string_view what = "the job spec");
// not_found -> 404 job_not_found, conflict -> 409 invalid_state, unavailable -> 503 + Retry-After.
HttpResponse store_error_response(const StoreError& error, std::string_view not_found_code = "job_not_found");

HttpResponse json_response(int status, const boost::json::value& body);

}  // namespace nox
