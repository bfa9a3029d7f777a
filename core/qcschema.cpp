#include "core/qcschema.hpp"

#include <boost/json.hpp>
#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include "core/json_serialize.hpp"
#include "core/molecule.hpp"
#include "core/quoted.hpp"

namespace nox {
namespace json = boost::json;

namespace {

// CODATA 2014, as parse_job_spec reads QCSchema geometry (QCElemental's value).
constexpr double kBohrToAngstrom = 0.52917721067;
constexpr double kDebyePerAu = 2.541746;  // 1 e*bohr in Debye

struct MethodName {
  std::string_view qcschema;  // as QCSchema users write it (matched case-insensitively)
  std::string_view engine;
  std::string_view method;
};
// The first spelling per (engine, method) is the one the output uses.
constexpr std::array<MethodName, 11> kMethods = {{{"GFN2-xTB", "xtb", "gfn2"},
                                                  {"GFN2", "xtb", "gfn2"},
                                                  {"GFN1-xTB", "xtb", "gfn1"},
                                                  {"GFN1", "xtb", "gfn1"},
                                                  {"GFN-FF", "xtb", "gfnff"},
                                                  {"GFNFF", "xtb", "gfnff"},
                                                  {"PM7", "mopac", "pm7"},
                                                  {"PM6", "mopac", "pm6"},
                                                  {"PM6-D3H4", "mopac", "pm6-d3h4"},
                                                  {"AM1", "mopac", "am1"},
                                                  {"RM1", "mopac", "rm1"}}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string method_names() {
  std::string out;
  for (const MethodName& m : kMethods) out += (out.empty() ? "" : ", ") + std::string(m.qcschema);
  return out;
}

std::string_view qcschema_method(std::string_view engine, std::string_view method) {
  for (const MethodName& m : kMethods) {
    if (m.engine == engine && m.method == method) return m.qcschema;
  }
  return method;
}

std::string spec_text(const json::object& spec, std::string_view key) {
  const json::value* v = spec.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The job's molecule as QCSchema's: symbols, geometry in bohr, charge and multiplicity.
json::object molecule_of(const json::object& spec) {
  json::array symbols, geometry;
  const json::value* molecule = spec.if_contains("molecule");
  const json::value* xyz = molecule && molecule->is_object() ? molecule->get_object().if_contains("xyz") : nullptr;
  if (xyz && xyz->is_string()) {
    if (auto parsed = parse_xyz(xyz->get_string()); std::holds_alternative<Molecule>(parsed)) {
      for (const Atom& a : std::get<Molecule>(parsed).atoms) {
        symbols.emplace_back(a.symbol);
        for (double c : {a.x, a.y, a.z}) geometry.emplace_back(c / kBohrToAngstrom);
      }
    }
  }
  json::object out{{"schema_name", "qcschema_molecule"}, {"schema_version", 2}, {"symbols", std::move(symbols)},
                   {"geometry", std::move(geometry)}};
  if (const json::value* c = spec.if_contains("charge")) out["molecular_charge"] = *c;
  if (const json::value* m = spec.if_contains("multiplicity")) out["molecular_multiplicity"] = *m;
  return out;
}

std::string driver_of(const json::object& spec) {
  const std::string task = spec_text(spec, "task");
  return task == "gradient" || task == "hessian" ? task : std::string("energy");
}

// The AtomicInput this job answers (for a job submitted natively, the one it would have been).
json::object input_of(const Job& job) {
  json::object keywords;
  if (const json::value* k = job.spec.if_contains("keywords"); k && k->is_object()) keywords = k->get_object();
  return json::object{{"schema_name", "qc_schema_input"},
                      {"schema_version", 1},
                      {"molecule", molecule_of(job.spec)},
                      {"driver", driver_of(job.spec)},
                      {"model", json::object{{"method", qcschema_method(spec_text(job.spec, "engine"),
                                                                        spec_text(job.spec, "method"))},
                                             // Semi-empirical and tight-binding methods have no basis set;
                                             // QCSchema v1 wants a string.
                                             {"basis", ""}}},
                      {"keywords", std::move(keywords)}};
}

const json::value* result_field(const Job& job, std::string_view key) {
  return job.result.is_object() ? job.result.get_object().if_contains(key) : nullptr;
}

// QCElemental's error types: a convergence failure, an input the engine refused, else unknown.
std::string_view error_type(std::string_view code) {
  if (code == "scf_not_converged" || code == "optimization_not_converged") return "convergence_error";
  if (code == "input_rejected") return "input_error";
  return "unknown_error";
}

}  // namespace

bool is_qcschema_input(const json::value& body) {
  const json::object* o = body.if_object();
  const json::value* name = o ? o->if_contains("schema_name") : nullptr;
  return name && name->is_string() && (name->get_string() == "qcschema_input" || name->get_string() == "qc_schema_input");
}

std::variant<json::object, FieldErrors> qcschema_input_to_spec(const json::object& input) {
  FieldErrors errors;
  json::object spec;
  for (const auto& [key, value] : input) {
    if (key != "schema_name" && key != "schema_version" && key != "molecule" && key != "driver" && key != "model" &&
        key != "keywords" && key != "extras" && key != "id" && key != "protocols" && key != "provenance") {
      errors.push_back({std::string(key), "unknown AtomicInput field"});
    }
  }
  // driver -> task ("properties": one energy evaluation, whose result carries the properties)
  const json::value* driver = input.if_contains("driver");
  const std::string d = driver && driver->is_string() ? std::string(driver->get_string()) : "";
  if (d == "energy" || d == "properties") {
    spec["task"] = "energy";
  } else if (d == "gradient" || d == "hessian") {
    spec["task"] = d;
  } else {
    errors.push_back({"driver", "required: energy, gradient, hessian or properties" +
                                    (driver ? ", got " + serialize_json(*driver) : std::string())});
  }
  // model.method -> engine + method
  const json::value* model = input.if_contains("model");
  const json::value* method = model && model->is_object() ? model->get_object().if_contains("method") : nullptr;
  if (!method || !method->is_string()) {
    errors.push_back({"model.method", "required: one of " + method_names()});
  } else {
    const std::string wanted = lower(method->get_string());
    const MethodName* found = nullptr;
    for (const MethodName& m : kMethods) {
      if (lower(m.qcschema) == wanted) found = &m;
    }
    if (!found) {
      errors.push_back({"model.method", "unknown method " + quoted(method->get_string()) + "; one of " + method_names()});
    } else {
      spec["engine"] = found->engine;
      spec["method"] = found->method;
      const json::value* k = input.if_contains("keywords");
      if (found->engine == "mopac" && k && k->is_object() && k->get_object().contains("solvent")) {
        errors.push_back({"keywords.solvent", "a MOPAC job with a solvent gives a heat of formation, not the energy "
                                              "in Eh a QCSchema result returns: submit a Nox spec for it"});
      }
      if (found->engine == "mopac" && d == "hessian") {
        errors.push_back({"driver", "MOPAC's FORCE gives frequencies, not the Cartesian Hessian a QCSchema hessian "
                                    "returns: use an xtb method, or submit a Nox spec with task hessian"});
      }
    }
    const json::value* basis = model->get_object().if_contains("basis");
    if (basis && !basis->is_null() && !(basis->is_string() && basis->get_string().empty())) {
      errors.push_back({"model.basis", "xtb and MOPAC methods have no basis set: leave basis out, null or \"\""});
    }
  }
  // molecule -> molecule, charge, multiplicity
  const json::value* molecule = input.if_contains("molecule");
  if (!molecule || !molecule->is_object()) {
    errors.push_back({"molecule", "required: a QCSchema molecule (symbols, geometry in bohr)"});
  } else {
    const json::object& m = molecule->get_object();
    json::object nox_molecule;
    if (const json::value* v = m.if_contains("symbols")) nox_molecule["symbols"] = *v;
    if (const json::value* v = m.if_contains("geometry")) nox_molecule["geometry"] = *v;
    spec["molecule"] = std::move(nox_molecule);
    if (const json::value* c = m.if_contains("molecular_charge")) spec["charge"] = *c;
    if (const json::value* mult = m.if_contains("molecular_multiplicity")) spec["multiplicity"] = *mult;
    if (const json::value* real = m.if_contains("real"); real && real->is_array()) {
      for (const json::value& r : real->get_array()) {
        if (r.is_bool() && !r.get_bool()) {
          errors.push_back({"molecule.real", "ghost atoms are not supported by xtb or MOPAC"});
          break;
        }
      }
    }
  }
  // keywords: the engine's own; QCEngine's xtb harness names the solvent in keywords too.
  if (const json::value* k = input.if_contains("keywords"); k && k->is_object()) {
    json::object keywords = k->get_object();
    json::object solvent;
    if (const json::value* name = keywords.if_contains("solvent")) solvent["name"] = *name;
    if (const json::value* model_name = keywords.if_contains("solvent_model")) solvent["model"] = *model_name;
    keywords.erase("solvent");
    keywords.erase("solvent_model");
    if (!solvent.empty()) spec["solvent"] = std::move(solvent);
    spec["keywords"] = std::move(keywords);
  }
  // extras.nox: Nox's own fields (priority, timeout_s, tags, name, ...).
  if (const json::value* extras = input.if_contains("extras"); extras && extras->is_object()) {
    if (const json::value* nox = extras->get_object().if_contains("nox")) {
      if (!nox->is_object()) {
        errors.push_back({"extras.nox", "expected an object of Nox job fields (priority, timeout_s, tags, name, ...)"});
      } else {
        for (const auto& [key, value] : nox->get_object()) {
          if (spec.contains(key)) {
            errors.push_back({"extras.nox." + std::string(key), "comes from the AtomicInput itself"});
          } else {
            spec[key] = value;
          }
        }
      }
    }
  }
  if (!errors.empty()) return errors;
  return spec;
}

std::variant<json::object, std::string> qcschema_result(const Job& job, const std::vector<double>* hessian) {
  const std::string task = spec_text(job.spec, "task");
  if (task != "energy" && task != "gradient" && task != "hessian") {
    return "a " + task + " job has no QCSchema AtomicResult (QCSchema's drivers are energy, gradient and hessian)";
  }
  json::object input = input_of(job);
  const std::string engine = spec_text(job.spec, "engine");
  json::object extras{{"nox", json::object{{"job_id", job.id}, {"state", to_string(job.state)}}}};
  if (job.state != JobState::completed) {
    // QCElemental's FailedOperation: what was asked, and why it failed.
    json::object error{{"error_type", error_type(job.error.is_object() && job.error.get_object().contains("code")
                                                     ? std::string_view(job.error.at("code").as_string())
                                                     : std::string_view())},
                       {"error_message", job.error.is_object() && job.error.get_object().contains("message")
                                             ? job.error.at("message")
                                             : json::value("the job did not complete")}};
    extras["nox"].as_object()["error"] = job.error;
    return json::object{{"id", job.id},     {"success", false},          {"input_data", std::move(input)},
                        {"error", std::move(error)}, {"extras", std::move(extras)}};
  }
  json::object out = std::move(input);
  out["schema_name"] = "qc_schema_output";
  const json::value* version = result_field(job, "engine");
  out["provenance"] = json::object{
      {"creator", engine},
      {"version", version && version->is_object() && version->get_object().contains("version")
                      ? version->at("version")
                      : json::value("")},
      {"routine", "nox " + std::string(NOX_VERSION)}};
  json::object properties;
  const json::value* count = out["molecule"].as_object().if_contains("symbols");
  properties["calcinfo_natom"] = count ? static_cast<std::int64_t>(count->as_array().size()) : 0;
  const json::value* energy = result_field(job, "energy_eh");
  if (energy) {
    properties["return_energy"] = *energy;
    properties["scf_total_energy"] = *energy;
  }
  if (const json::value* dipole = result_field(job, "dipole_debye"); dipole && dipole->is_object()) {
    json::array au;
    for (const char* axis : {"x", "y", "z"}) {
      const json::value* c = dipole->get_object().if_contains(axis);
      au.emplace_back(c ? c->to_number<double>() / kDebyePerAu : 0.0);
    }
    properties["scf_dipole_moment"] = std::move(au);
  }
  out["properties"] = std::move(properties);
  const std::string driver(out["driver"].as_string());
  json::value result;
  if (driver == "energy" && energy) {
    result = *energy;
  } else if (driver == "gradient") {
    if (const json::value* rows = result_field(job, "gradient_eh_bohr"); rows && rows->is_array()) {
      json::array flat;
      for (const json::value& row : rows->get_array()) {
        for (const json::value& c : row.as_array()) flat.push_back(c);
      }
      result = std::move(flat);
    }
  } else if (driver == "hessian" && hessian) {
    json::array flat;
    for (double h : *hessian) flat.push_back(h);
    result = std::move(flat);
  }
  if (result.is_null()) {
    return driver == "energy" ? "this job's result has no energy in Eh (a MOPAC job with a solvent gives its heat of "
                                "formation only)"
                              : "this job's result has no " + driver + " to return";
  }
  out["success"] = true;
  out["return_result"] = std::move(result);
  out["extras"] = std::move(extras);
  return out;
}

std::optional<std::vector<double>> parse_turbomole_hessian(std::string_view text) {
  const std::size_t start = text.find("$hessian");
  if (start == std::string_view::npos) return std::nullopt;
  std::size_t at = text.find('\n', start);
  std::vector<double> values;
  while (at != std::string_view::npos && at < text.size()) {
    const std::size_t end = text.find('\n', at + 1);
    std::string_view line = text.substr(at + 1, end == std::string_view::npos ? std::string_view::npos : end - at - 1);
    at = end;
    if (line.starts_with("$")) break;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) {
        double v = 0;
        auto [ptr, ec] = std::from_chars(line.data() + i, line.data() + j, v);
        if (ec != std::errc() || ptr != line.data() + j) return std::nullopt;
        values.push_back(v);
      }
      i = j;
    }
  }
  if (values.empty()) return std::nullopt;
  return values;
}

}  // namespace nox
