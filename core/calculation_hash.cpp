#include "core/calculation_hash.hpp"

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "core/sha256.hpp"

namespace nox {
namespace json = boost::json;

namespace {

// A coordinate rounded to 1e-5 Angstrom, with -0.00000 written as 0.00000 (both are the same
// position; printf would keep the sign of a tiny negative number).
std::string rounded(double coordinate) {
  double r = std::round(coordinate * 1e5) / 1e5;
  if (r == 0) r = 0;  // -0 -> 0
  char text[48];
  std::snprintf(text, sizeof text, "%.5f", r);
  return text;
}

// Keywords with their keys in order (JSON objects keep insertion order, which depends on how
// the client wrote them), numbers as Boost.JSON serializes a double (shortest round trip).
std::string canonical_keywords(const json::object& keywords) {
  std::map<std::string, std::string> sorted;
  // Boost.JSON's own text, not serialize_json's: keys must stay the ones already stored.
  for (const auto& [key, value] : keywords) sorted[std::string(key)] = json::serialize(value);
  std::string text;
  for (const auto& [key, value] : sorted) text += key + ":" + value + ";";
  return text;
}

}  // namespace

std::string calculation_text(const JobSpec& spec, std::string_view engine_version) {
  std::string text;
  auto line = [&](std::string_view key, std::string_view value) {
    text.append(key).append("=").append(value).append("\n");
  };
  line("engine", spec.engine);
  line("version", engine_version);
  line("task", spec.task);
  line("method", spec.method);
  line("keywords", canonical_keywords(spec.keywords));
  line("charge", std::to_string(spec.charge));
  line("multiplicity", std::to_string(spec.multiplicity));
  if (spec.solvent) {
    char dielectric[48];
    std::snprintf(dielectric, sizeof dielectric, "%.6g", spec.solvent->dielectric);
    line("solvent", spec.solvent->model + ":" + spec.solvent->name + ":" + dielectric);
  } else {
    line("solvent", "");
  }
  std::vector<std::string> outputs = spec.outputs;  // a set: their order changes nothing
  std::sort(outputs.begin(), outputs.end());
  std::string joined;
  for (const auto& o : outputs) joined += o + ",";
  line("outputs", joined);
  line("atoms", std::to_string(spec.molecule.atoms.size()));
  for (const Atom& a : spec.molecule.atoms) line(a.symbol, rounded(a.x) + " " + rounded(a.y) + " " + rounded(a.z));
  return text;
}

std::string calculation_hash(const JobSpec& spec, std::string_view engine_version) {
  return sha256_hex(calculation_text(spec, engine_version));
}

std::string calculation_key(std::string_view hash, std::string_view owner_scope) {
  if (owner_scope.empty()) return std::string(hash);
  return std::string(hash) + "/" + std::string(owner_scope);
}

}  // namespace nox
