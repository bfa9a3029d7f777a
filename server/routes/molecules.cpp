// POST /molecules: a molecule converted as a job would get it, without a job: the dashboard's
// preview of a SMILES string or a file before it is submitted. The same parser (the spec's
// "molecule" field), the same conversion on the chemistry thread, the same errors.
#include <boost/json/value.hpp>

#include "core/job_spec.hpp"
#include "engines/molecule_conversion.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/request_body.hpp"
#include "server/routes/job_admission.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<HttpResponse> convert_molecule_preview(App& app, const HttpRequest& request, const PathParams&) {
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  json::value& molecule = std::get<json::value>(body);
  if (!molecule.is_object())
    co_return error_response(422, "invalid_spec",
                             "the body is a molecule object, e.g. {\"smiles\": \"CCO\"} or {\"sdf\": \"...\"}");
  // Checked as a job's "molecule" would be (xtb only supplies a valid rest of the spec).
  json::object spec{{"engine", "xtb"}, {"molecule", std::move(molecule)}};
  auto parsed = parse_job_spec(spec, spec_limits(app.settings));
  if (auto* errors = std::get_if<FieldErrors>(&parsed)) co_return field_errors_response(*errors);
  JobSpec converted = std::move(std::get<JobSpec>(parsed));
  const std::size_t max_atoms = app.settings.max_atoms;
  FieldErrors problems =
      co_await app.chemistry.run([&converted, max_atoms] { return complete_molecule(converted, max_atoms); });
  if (!problems.empty()) co_return field_errors_response(problems);
  json::object answer{{"xyz", converted.molecule.to_xyz()},
                      {"atoms", converted.molecule.atoms.size()},
                      {"charge", converted.charge},
                      {"multiplicity", converted.multiplicity}};
  if (converted.identifiers) {
    answer["identifiers"] = json::object{{"canonical_smiles", converted.identifiers->canonical_smiles},
                                         {"inchi", converted.identifiers->inchi},
                                         {"inchikey", converted.identifiers->inchikey},
                                         {"formula", converted.identifiers->formula}};
  }
  co_return json_response(200, answer);
}

}  // namespace nox::routes
