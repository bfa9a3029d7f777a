#pragma once
// Reading a JSON request body: content type (415) and syntax (400 with the offset).
#include <boost/asio/awaitable.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/http_types.hpp"

namespace nox {

// Whether a Content-Type value is application/json (parameters and case ignored).
bool is_json_media_type(std::string_view content_type);
// "sdf", "xyz" or "smiles" for the molecule-file types POST /jobs/batch takes
// (chemical/x-mdl-sdfile, chemical/x-xyz, chemical/x-daylight-smiles), nullopt otherwise. None is
// a type a web page can send across origins without a preflight.
std::optional<std::string> molecule_file_format(std::string_view content_type);

// The body as JSON, or the error response to send.
std::variant<boost::json::value, HttpResponse> read_json_body(const HttpRequest& request);
// The same for bodies that may be megabytes: parsed in pieces, yielding to the event loop
// between them, so one big batch does not hold up every other request; the value is
// allocated from `storage` (see large_json.hpp's arena()).
boost::asio::awaitable<std::variant<boost::json::value, HttpResponse>> read_json_body_yielding(
    const HttpRequest& request, boost::json::storage_ptr storage);

// 404 for a malformed job id (it cannot name a job), nullopt when well-formed.
std::optional<HttpResponse> reject_malformed_job_id(std::string_view id);

}  // namespace nox
