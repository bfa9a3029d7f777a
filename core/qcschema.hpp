#pragma once
// QCSchema (MolSSI) in and out: an AtomicInput becomes a Nox job spec, and a finished job
// becomes an AtomicResult. The output follows QCSchema version 1 (v1/qc_schema_output.schema in
// ../shared/qcschema, the shape QCEngine writes); tests validate it with ajv.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/field_error.hpp"
#include "core/job.hpp"

namespace nox {

// True for a body whose schema_name is qcschema_input (or v1's qc_schema_input).
bool is_qcschema_input(const boost::json::value& body);

// The Nox job spec for an AtomicInput: driver energy/gradient/hessian/properties -> task,
// model.method ("GFN2-xTB", "PM7", ...) -> engine and method, molecule (symbols, geometry in
// bohr, molecular_charge, molecular_multiplicity) -> molecule, charge, multiplicity; keywords
// are the engine's own (checked by parse_job_spec like any spec's). Nox's own fields (priority,
// timeout_s, tags, name, ...) may be given in "extras": {"nox": {...}}.
std::variant<boost::json::object, FieldErrors> qcschema_input_to_spec(const boost::json::object& input);

// For a finished job: an AtomicResult (QCSchema v1) when it completed, QCElemental's
// FailedOperation (success false, error {error_type, error_message}, input_data) when it failed.
// A string says why the job has none (an optimization; no energy to return). `hessian`: the
// Cartesian Hessian in Eh/bohr^2, row-major, for a hessian job (the driver's return_result).
std::variant<boost::json::object, std::string> qcschema_result(const Job& job,
                                                               const std::vector<double>* hessian = nullptr);

// The Turbomole `hessian` file xtb writes ($hessian, rows of numbers, $end): every number, in order.
std::optional<std::vector<double>> parse_turbomole_hessian(std::string_view text);

}  // namespace nox
