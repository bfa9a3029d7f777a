#include "core/job_spec.hpp"
#include "core/job.hpp"
#include "core/job_id.hpp"
#include "core/engine_vocabulary.hpp"
#include "core/json_serialize.hpp"
#include "core/quoted.hpp"
#include "core/smiles_syntax.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>

namespace nox {
namespace json = boost::json;

namespace {

// CODATA 2014, the value QCSchema producers (QCElemental) use for geometry in bohr.
constexpr double kBohrToAngstrom = 0.52917721067;
// As in parse_xyz: beyond this it is not a molecule.
constexpr double kMaxAbsCoordinate = 1e6;

constexpr std::array<std::string_view, 30> kKnownFields = {
    "engine",   "task",     "method",       "molecule", "charge",  "multiplicity",   "solvent", "keywords",
    "outputs",  "priority", "timeout_s",    "max_attempts", "max_lost", "retry", "threads", "run_at", "delay_s", "tags", "requires", "queue",
    "name",     "labels",   "depends_on",   "batch_id",     "workflow_id", "workflow_node", "continued_from", "schedule_id",
    "cache",    "calculation"};
constexpr std::array<std::string_view, 8> kOptLevels = {"crude",  "sloppy", "loose",  "lax",
                                                        "normal", "tight",  "vtight", "extreme"};

// Molecule formats given as text and converted by the server with Open Babel.
constexpr std::array<std::string_view, 5> kTextFormats = {"smiles", "sdf", "mol", "mol2", "pdb"};

// Other spellings xtb (or its documentation) uses, mapped to the one name Nox stores.
struct Alias {
  std::string_view from, to;
};
constexpr std::array<Alias, 4> kSolventAliases = {
    {{"h2o", "water"}, {"n-hexan", "hexane"}, {"n-hexane", "hexane"}, {"hexandecane", "hexadecane"}}};

constexpr std::size_t kMaxTags = 16;
constexpr std::size_t kMaxDependencies = 64;
constexpr double kMaxDelaySeconds = 366.0 * 24 * 3600;
constexpr std::size_t kMaxTagLength = 64;
constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxLabels = 64;
constexpr std::size_t kMaxLabelKeyLength = 64;
constexpr std::size_t kMaxLabelValueLength = 1024;

template <class List>
bool contains(const List& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// "a, b, c" from strings, or from the names of solvents, solvent models or engines.
std::string_view name_of(std::string_view s) { return s; }
std::string_view name_of(const NamedSolvent& s) { return s.name; }
std::string_view name_of(const SolventModel& m) { return m.name; }
std::string_view name_of(const EngineVocabulary& e) { return e.engine; }

template <class List>
std::string join(const List& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ", ";
    out.append(name_of(item));
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}


std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// How a JSON value's type is named in "expected X, got Y" messages.
std::string_view kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string expected(std::string_view what, const json::value& got) {
  return "expected " + std::string(what) + ", got " + std::string(kind_of(got));
}

// Integral doubles ("2.0", what some JSON writers emit for integers) count as integers.
std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();  // out of every range we check
    }
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

// Integral values are written as JSON integers ("timeout_s": 3600 rather than 3.6E3, which is how
// Boost.JSON prints the double); parse_job_spec reads either back as the same double.
json::value number_value(double v) {
  if (std::trunc(v) == v && std::fabs(v) < 9.0e15) return static_cast<std::int64_t>(v);
  return v;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_tag_char(char c);

}  // namespace

bool is_compute_tag(std::string_view tag) {
  return !tag.empty() && tag.size() <= kMaxTagLength && std::all_of(tag.begin(), tag.end(), is_tag_char);
}

bool is_queue_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

namespace {

bool is_tag_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

class SpecParser {
 public:
  SpecParser(const json::object& body, const SpecLimits& limits) : body_(body), limits_(limits) {}

  std::variant<JobSpec, FieldErrors> run() {
    parse_engine();
    // With an unknown engine the other fields are still checked as far as they can be.
    spec_.task = parse_choice("task", words().tasks, "energy");
    // With an unknown engine a method can only be checked for its type.
    spec_.method = parse_choice("method", words().methods, words().default_method, vocabulary_ != nullptr);
    const bool molecule_ok = parse_molecule();
    const bool charge_ok = parse_int("charge", -1'000'000, 1'000'000, 0, spec_.charge);
    const bool multiplicity_ok = parse_int("multiplicity", 1, 1'000'000, 1, spec_.multiplicity);
    spec_.charge_given = field("charge") != nullptr;
    spec_.multiplicity_given = field("multiplicity") != nullptr;
    // A molecule still to be converted is checked once the server has its atoms.
    if (molecule_ok && charge_ok && multiplicity_ok && !spec_.molecule.atoms.empty()) {
      for (FieldError& e : nox::check_electrons(spec_)) errors_.push_back(std::move(e));
    }
    parse_solvent();
    parse_keywords();
    parse_outputs();
    parse_int("priority", -1000, 1000, 0, spec_.priority);
    parse_timeout();
    parse_int("max_attempts", 1, limits_.max_attempts, 1, spec_.max_attempts);
    parse_int("max_lost", 0, limits_.max_lost, 3, spec_.max_lost);
    parse_retry();
    parse_int("threads", 1, limits_.max_threads, 1, spec_.threads);
    parse_run_at();
    parse_tags();
    parse_requires();
    parse_queue();
    parse_name();
    parse_labels();
    parse_depends_on();
    parse_server_id("batch_id", spec_.batch_id);
    parse_server_id("workflow_id", spec_.workflow_id);
    parse_workflow_node();
    parse_server_id("continued_from", spec_.continued_from);
    parse_server_id("schedule_id", spec_.schedule_id);
    parse_cache();
    parse_calculation();
    report_unknown_fields();
    if (!errors_.empty()) return std::move(errors_);
    return std::move(spec_);
  }

 private:
  void error(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }

  // The field's value, or nullptr when it is absent or null (both mean "use the default").
  const json::value* field(std::string_view name) const {
    const json::value* v = body_.if_contains(name);
    return v && !v->is_null() ? v : nullptr;
  }

  void parse_engine() {
    const std::string engines = join(engine_vocabularies());
    const json::value* v = field("engine");
    if (!v) return error("engine", "required: one of " + engines);
    if (!v->is_string()) return error("engine", expected("a string (one of " + engines + ")", *v));
    const std::string engine = lower(v->get_string());
    vocabulary_ = engine_vocabulary(engine);
    if (!vocabulary_) return error("engine", "unknown engine " + quoted(v->get_string()) + "; one of " + engines);
    spec_.engine = engine;
  }

  // A string from a fixed list; "" on error so later checks can tell it is not usable.
  std::string parse_choice(std::string_view name, std::span<const std::string_view> choices,
                           std::string_view fallback, bool judge_value = true) {
    const json::value* v = field(name);
    if (!v) return std::string(fallback);
    if (!v->is_string()) {
      error(std::string(name), expected("a string (one of " + join(choices) + ")", *v));
      return {};
    }
    std::string value = lower(v->get_string());
    if (!contains(choices, value)) {
      if (!judge_value) return {};
      // Tasks are the same for every engine; methods are not.
      const std::string engine = name == "method" ? " for " + spec_.engine : "";
      error(std::string(name),
            "unknown " + std::string(name) + " " + quoted(v->get_string()) + engine + "; one of " + join(choices));
      return {};
    }
    return value;
  }

  bool parse_int(std::string_view name, std::int64_t min, std::int64_t max, int fallback, int& out) {
    const json::value* v = field(name);
    if (!v) {
      out = fallback;
      return true;
    }
    const std::optional<std::int64_t> n = as_integer(*v);
    if (!n) {
      error(std::string(name),
            v->is_number() ? "expected an integer, got " + serialize_json(*v) : expected("an integer", *v));
      return false;
    }
    if (*n < min || *n > max) {
      error(std::string(name), "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                   ", got " + std::to_string(*n));
      return false;
    }
    out = static_cast<int>(*n);
    return true;
  }

  bool parse_molecule() {
    static constexpr std::string_view kForms = "one of xyz, symbols + geometry, smiles, sdf, mol, mol2 or pdb";
    const json::value* v = field("molecule");
    if (!v) {
      error("molecule", "required: an object with " + std::string(kForms));
      return false;
    }
    if (!v->is_object()) {
      error("molecule", expected("an object with " + std::string(kForms), *v));
      return false;
    }
    const json::object& m = v->get_object();
    if (m.contains("from_job")) return parse_molecule_from_job(m);
    bool unknown = false;
    for (const auto& [key, value] : m) {
      // "from" and "identifiers" are what the server stores beside a converted molecule's xyz.
      if (!contains(kTextFormats, key) && key != "xyz" && key != "symbols" && key != "geometry" && key != "from" &&
          key != "identifiers") {
        error("molecule." + std::string(key), "unknown field; molecule takes " + std::string(kForms));
        unknown = true;
      }
    }
    std::vector<std::string> forms;
    if (m.contains("xyz")) forms.push_back("xyz");
    if (m.contains("symbols") || m.contains("geometry")) forms.push_back("symbols + geometry");
    for (std::string_view f : kTextFormats) {
      if (m.contains(f)) forms.emplace_back(f);
    }
    if (forms.empty()) {
      if (!unknown) error("molecule", "give " + std::string(kForms));
      return false;
    }
    if (forms.size() > 1) {
      std::string found;
      for (std::size_t i = 0; i < forms.size(); ++i) found += (i == 0 ? "" : " and ") + forms[i];
      error("molecule", "give exactly " + std::string(kForms) + "; found " + found);
      return false;
    }
    if ((m.contains("from") || m.contains("identifiers")) && forms[0] != "xyz") {
      error("molecule", "from and identifiers only come with xyz (as the server stores a converted molecule)");
      return false;
    }
    bool ok = false;
    if (forms[0] == "xyz") {
      ok = parse_xyz_text(m.at("xyz")) && parse_stored_conversion(m);
    } else if (forms[0] == "symbols + geometry") {
      ok = parse_symbols_geometry(m);
    } else {
      ok = parse_molecule_text(forms[0], m.at(forms[0]));
    }
    return ok && !unknown;
  }

  // {"from_job": id, "geometry": "optimized" | "input"}: the molecule of another job, filled in
  // (as "xyz" beside from_job, with its identifiers) once that job has completed.
  bool parse_molecule_from_job(const json::object& m) {
    bool ok = true;
    for (const auto& [key, value] : m) {
      if (key != "from_job" && key != "geometry" && key != "xyz" && key != "identifiers") {
        error("molecule." + std::string(key), "unknown field; a molecule from another job takes from_job and geometry");
        ok = false;
      }
    }
    MoleculeFromJob from;
    const json::value& job = m.at("from_job");
    if (!job.is_string() || !is_valid_job_id(job.get_string())) {
      error("molecule.from_job", "expected the id of a job (32 lowercase hex digits)");
      ok = false;
    } else {
      from.job = std::string(job.get_string());
    }
    if (const json::value* g = m.if_contains("geometry"); g && !g->is_null()) {
      const std::string geometry = g->is_string() ? lower(g->get_string()) : std::string();
      if (geometry != "optimized" && geometry != "input") {
        error("molecule.geometry", "with from_job: \"optimized\" (the geometry that job optimized) or \"input\" (the one it "
                                   "started from), got " + serialize_json(*g));
        ok = false;
      } else {
        from.geometry = geometry;
      }
    }
    if (!ok) return false;
    spec_.molecule_from_job = std::move(from);
    // The stored form once the parent completed: its geometry, and who the molecule is.
    if (m.contains("xyz")) return parse_xyz_text(m.at("xyz")) && parse_stored_conversion(m);
    return true;
  }

  // SMILES, SDF/MOL, MOL2, PDB: the form is checked here, the server converts it to atoms.
  bool parse_molecule_text(const std::string& format, const json::value& v) {
    const std::string where = "molecule." + format;
    if (!v.is_string()) {
      error(where, expected("a string", v));
      return false;
    }
    std::string_view text = v.get_string();
    if (format == "smiles") {
      // Surrounding blanks are harmless; anything after the SMILES on its line is a title.
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
      if (auto problem = smiles_syntax_error(text)) {
        error(where, *problem);
        return false;
      }
    } else if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      error(where, "is empty");
      return false;
    }
    spec_.molecule_source = MoleculeSource{format, std::string(text)};
    return true;
  }

  // The stored form of a converted molecule: where it came from, and who it is.
  bool parse_stored_conversion(const json::object& m) {
    if (const json::value* from = m.if_contains("from")) {
      const json::object* o = from->if_object();
      const json::value* format = o ? o->if_contains("format") : nullptr;
      const json::value* text = o ? o->if_contains("text") : nullptr;
      if (!format || !text || !format->is_string() || !text->is_string() || !contains(kTextFormats, format->get_string())) {
        error("molecule.from", "expected {\"format\": " + join(kTextFormats) + ", \"text\": ...}");
        return false;
      }
      spec_.molecule_source = MoleculeSource{std::string(format->get_string()), std::string(text->get_string())};
    }
    if (const json::value* ids = m.if_contains("identifiers")) {
      const json::object* o = ids->if_object();
      MoleculeIdentifiers identifiers;
      bool ok = o != nullptr;
      for (auto [name, out] : {std::pair{"canonical_smiles", &identifiers.canonical_smiles},
                               std::pair{"inchi", &identifiers.inchi}, std::pair{"inchikey", &identifiers.inchikey},
                               std::pair{"formula", &identifiers.formula}}) {
        const json::value* value = o ? o->if_contains(name) : nullptr;
        if (value && value->is_string()) *out = std::string(value->get_string());
        else ok = false;
      }
      if (!ok) {
        error("molecule.identifiers", "expected the strings canonical_smiles, inchi, inchikey and formula");
        return false;
      }
      spec_.identifiers = std::move(identifiers);
    }
    return true;
  }

  bool parse_xyz_text(const json::value& v) {
    if (!v.is_string()) {
      error("molecule.xyz", expected("a string (XYZ text)", v));
      return false;
    }
    XyzLimits xyz_limits;
    xyz_limits.max_atoms = limits_.max_atoms;
    auto parsed = parse_xyz(v.get_string(), xyz_limits);
    if (auto* e = std::get_if<XyzError>(&parsed)) {
      error("molecule.xyz", e->message);
      return false;
    }
    spec_.molecule = std::move(std::get<Molecule>(parsed));
    return true;
  }

  // QCSchema style: "symbols" and a flat "geometry" array in bohr (x1, y1, z1, x2, ...). A list of
  // [x, y, z] triples is read too, as QCElemental does.
  bool parse_symbols_geometry(const json::object& m) {
    const json::value* symbols = m.if_contains("symbols");
    const json::value* geometry = m.if_contains("geometry");
    bool ok = true;
    if (!symbols) {
      error("molecule.symbols", "required together with molecule.geometry");
      ok = false;
    }
    if (!geometry) {
      error("molecule.geometry", "required together with molecule.symbols (coordinates in bohr)");
      ok = false;
    }
    if (!ok) return false;

    std::vector<Atom> atoms;
    if (!symbols->is_array()) {
      error("molecule.symbols", expected("an array of element symbols", *symbols));
      ok = false;
    } else if (symbols->get_array().empty()) {
      error("molecule.symbols", "must list at least one atom");
      ok = false;
    } else if (symbols->get_array().size() > limits_.max_atoms) {
      error("molecule.symbols", std::to_string(symbols->get_array().size()) +
                                    " atoms is more than the limit of " + std::to_string(limits_.max_atoms));
      ok = false;
    } else {
      const json::array& list = symbols->get_array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        const int z = list[i].is_string() ? atomic_number(list[i].get_string()) : 0;
        if (z == 0) {
          error("molecule.symbols",
                "item " + std::to_string(i) + " is " +
                    (list[i].is_string() ? "the unknown element " + quoted(list[i].get_string())
                                         : std::string(kind_of(list[i])) + ", not an element symbol"));
          ok = false;
          break;
        }
        atoms.push_back(Atom{std::string(element_symbol(z)), 0, 0, 0});
      }
    }

    std::vector<double> coords;
    if (!geometry->is_array()) {
      error("molecule.geometry", expected("an array of numbers in bohr (x1, y1, z1, x2, ...)", *geometry));
      return false;
    }
    for (std::size_t i = 0; i < geometry->get_array().size(); ++i) {
      const json::value& item = geometry->get_array()[i];
      if (item.is_array()) {
        // One [x, y, z] per atom.
        const json::array& triple = item.get_array();
        if (triple.size() != 3) {
          error("molecule.geometry", "item " + std::to_string(i) + " has " + std::to_string(triple.size()) +
                                         " numbers; a nested geometry needs [x, y, z] per atom");
          return false;
        }
        for (const json::value& c : triple) {
          if (!push_coordinate(c, coords)) return false;
        }
      } else if (!push_coordinate(item, coords)) {
        return false;
      }
    }
    if (!ok) return false;
    if (coords.size() != 3 * atoms.size()) {
      error("molecule.geometry", "expected 3 numbers per atom (" + std::to_string(3 * atoms.size()) +
                                     " for " + std::to_string(atoms.size()) + " atoms), found " +
                                     std::to_string(coords.size()));
      return false;
    }
    for (std::size_t i = 0; i < atoms.size(); ++i) {
      atoms[i].x = coords[3 * i] * kBohrToAngstrom;
      atoms[i].y = coords[3 * i + 1] * kBohrToAngstrom;
      atoms[i].z = coords[3 * i + 2] * kBohrToAngstrom;
    }
    if (const auto pair = find_close_atoms(atoms, XyzLimits{}.min_distance_angstrom)) {
      error("molecule.geometry",
            "atoms " + std::to_string(pair->first + 1) + " (" + atoms[pair->first].symbol + ") and " +
                std::to_string(pair->second + 1) + " (" + atoms[pair->second].symbol + ") are " +
                format_number(pair->distance) + " Angstrom apart; atoms closer than " +
                format_number(XyzLimits{}.min_distance_angstrom) + " Angstrom overlap (geometry is in bohr)");
      return false;
    }
    spec_.molecule.atoms = std::move(atoms);
    spec_.molecule.comment.clear();
    return true;
  }

  bool push_coordinate(const json::value& v, std::vector<double>& coords) {
    const std::optional<double> n = as_number(v);
    const std::string where = "item " + std::to_string(coords.size());
    if (!n) {
      error("molecule.geometry", where + " is " + std::string(kind_of(v)) + ", not a number");
      return false;
    }
    if (!std::isfinite(*n) || std::fabs(*n * kBohrToAngstrom) > kMaxAbsCoordinate) {
      error("molecule.geometry", where + " (" + serialize_json(v) + ") is out of range");
      return false;
    }
    coords.push_back(*n);
    return true;
  }

  void parse_solvent() {
    const json::value* v = field("solvent");
    if (!v) return;
    const std::span<const SolventModel> models = words().solvent_models;
    const bool any_dielectric =
        std::any_of(models.begin(), models.end(), [](const SolventModel& m) { return m.takes_dielectric; });
    const std::string shape = "an object {\"model\": " + join(models) + ", \"name\": ...}" +
                              (any_dielectric ? " (or \"dielectric\": a constant)" : "") + " or null";
    if (!v->is_object()) return error("solvent", expected(shape, *v));
    if (!vocabulary_) return;  // which solvents exist depends on the engine
    const json::object& s = v->get_object();
    bool ok = true;
    for (const auto& [key, value] : s) {
      if (key != "model" && key != "name" && !(any_dielectric && key == "dielectric")) {
        error("solvent." + std::string(key),
              std::string("unknown field; solvent takes model and name") + (any_dielectric ? " or dielectric" : ""));
        ok = false;
      }
    }
    const SolventModel* model = &models.front();  // the engine's recommended model when none is named
    if (const json::value* m = s.if_contains("model"); m && !m->is_null()) {
      if (!m->is_string()) {
        error("solvent.model", expected("a string (" + join(models) + ")", *m));
        ok = false;
      } else {
        const std::string wanted = lower(m->get_string());
        auto it = std::find_if(models.begin(), models.end(), [&](const SolventModel& x) { return x.name == wanted; });
        if (it == models.end()) {
          error("solvent.model", "unknown solvation model " + quoted(m->get_string()) + " for " + spec_.engine +
                                     "; one of " + join(models));
          ok = false;
        } else {
          model = &*it;
        }
      }
    }
    Solvent solvent;
    solvent.model = std::string(model->name);
    const json::value* dielectric = s.if_contains("dielectric");
    if (dielectric && dielectric->is_null()) dielectric = nullptr;
    if (dielectric && ok && !model->takes_dielectric) {
      error("solvent.dielectric", "the " + solvent.model + " model takes a solvent name, not a dielectric constant");
      ok = false;
    } else if (dielectric) {
      if (const auto eps = number_in("solvent.dielectric", *dielectric, 1, 1000)) {
        solvent.dielectric = *eps;
      } else {
        ok = false;
      }
    }
    const json::value* name = s.if_contains("name");
    if (name && name->is_null()) name = nullptr;
    if (!name && !dielectric) {
      return error("solvent.name", std::string("required: the solvent, e.g. \"water\"") +
                                       (model->takes_dielectric ? ", or a dielectric constant" : ""));
    }
    if (name && !name->is_string()) return error("solvent.name", expected("a string, e.g. \"water\"", *name));
    if (!ok) return;

    const std::span<const NamedSolvent> known = solvents_for(*model, spec_.method);
    if (known.empty()) {
      return error("solvent", spec_.engine + " has no implicit solvation for " + spec_.method +
                                  "; use another method, or no solvent");
    }
    if (name) {
      solvent.name = lower(name->get_string());
      for (const Alias& a : kSolventAliases) {
        if (solvent.name == a.from) solvent.name = a.to;
      }
      const NamedSolvent* found = find_solvent(known, solvent.name);
      if (!found && find_solvent(model->solvents, solvent.name)) {
        return error("solvent.name", spec_.engine + " has no " + upper(solvent.model) + " parameters for " +
                                         solvent.name + " with " + spec_.method + "; known: " + join(known));
      }
      if (!found && !dielectric) {
        return error("solvent.name", "unknown " + upper(solvent.model) + " solvent " + quoted(name->get_string()) +
                                         "; known: " + join(known) +
                                         (model->takes_dielectric ? " (or give its dielectric constant)" : ""));
      }
      // With both, the constant given is the one used and the name only labels it.
      if (found && !dielectric) solvent.dielectric = found->dielectric;
    }
    spec_.solvent = std::move(solvent);
  }

  void parse_keywords() {
    const json::value* v = field("keywords");
    if (!v) return;
    if (!v->is_object()) return error("keywords", expected("an object", *v));
    for (const auto& [key, value] : v->get_object()) {
      const std::string where = "keywords." + std::string(key);
      if (!contains(words().keywords, key)) {
        error(where, "unknown keyword" + std::string(vocabulary_ ? " for " + spec_.engine : "") +
                         "; allowed: " + join(words().keywords));
      } else if (key == "opt_level") {
        if (!value.is_string()) {
          error(where, expected("a string (one of " + join(kOptLevels) + ")", value));
          continue;
        }
        const std::string level = lower(value.get_string());
        if (!contains(kOptLevels, level)) {
          error(where,
                "unknown optimization level " + quoted(value.get_string()) + "; one of " + join(kOptLevels));
          continue;
        }
        spec_.keywords["opt_level"] = level;
      } else if (key == "accuracy") {
        if (const auto n = number_in(where, value, 0.0001, 1000)) spec_.keywords["accuracy"] = *n;
      } else if (key == "electronic_temperature") {
        if (const auto n = number_in(where, value, 1, 50000)) spec_.keywords["electronic_temperature"] = *n;
      } else if (key == "ensure_minimum") {
        if (!value.is_bool()) {
          error(where, expected("true or false", value));
        } else {
          spec_.keywords["ensure_minimum"] = value.get_bool();
        }
      } else if (key == "thermo_temperature") {
        // Kelvin for the thermochemistry of a Hessian (default 298.15).
        if (const auto n = number_in(where, value, 1, 10000)) spec_.keywords["thermo_temperature"] = *n;
      } else if (key == "max_iterations" || key == "max_opt_cycles") {
        const std::int64_t most = key == "max_iterations" ? 10000 : 100000;
        const std::optional<std::int64_t> n = as_integer(value);
        if (!n) {
          error(where, value.is_number() ? "expected an integer, got " + serialize_json(value)
                                         : expected("an integer", value));
        } else if (*n < 1 || *n > most) {
          error(where, "must be between 1 and " + std::to_string(most) + ", got " + std::to_string(*n));
        } else {
          spec_.keywords[key] = *n;
        }
      }
    }
  }

  std::optional<double> number_in(const std::string& where, const json::value& v, double min, double max) {
    const std::optional<double> n = as_number(v);
    if (!n) {
      error(where, expected("a number", v));
      return std::nullopt;
    }
    if (!(*n >= min && *n <= max)) {
      error(where, "must be between " + format_number(min) + " and " + format_number(max) + ", got " +
                       format_number(*n));
      return std::nullopt;
    }
    return n;
  }

  void parse_outputs() {
    const json::value* v = field("outputs");
    if (!v) return;
    const std::span<const std::string_view> known = words().outputs;
    if (known.empty()) {
      if (v->is_array() && v->get_array().empty()) return;
      return error("outputs", spec_.engine + " has no optional outputs (its own files are always kept)");
    }
    if (!v->is_array()) return error("outputs", expected("an array of strings (" + join(known) + ")", *v));
    const json::array& list = v->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "outputs[" + std::to_string(i) + "]";
      if (!list[i].is_string()) {
        error(where, expected("a string (one of " + join(known) + ")", list[i]));
        continue;
      }
      const std::string output = lower(list[i].get_string());
      if (!contains(known, output)) {
        error(where, "unknown output " + quoted(list[i].get_string()) + "; one of " + join(known));
        continue;
      }
      // Asking twice for the same file is harmless; store it once.
      if (std::find(spec_.outputs.begin(), spec_.outputs.end(), output) == spec_.outputs.end()) {
        spec_.outputs.push_back(output);
      }
    }
    if (spec_.method == "gfnff" && !spec_.outputs.empty()) {
      error("outputs", "gfnff is a force field and has no wavefunction, so it cannot write " +
                           spec_.outputs[0] + "; use gfn2 or gfn1");
    }
  }

  void parse_timeout() {
    const double fallback = std::min(3600.0, limits_.max_timeout_s);
    const json::value* v = field("timeout_s");
    if (!v) {
      spec_.timeout_s = fallback;
      return;
    }
    const std::optional<double> n = as_number(*v);
    if (!n) return error("timeout_s", expected("a number of seconds", *v));
    if (!(*n > 0 && *n <= limits_.max_timeout_s)) {
      return error("timeout_s", "must be more than 0 and at most " + format_number(limits_.max_timeout_s) +
                                    " seconds, got " + format_number(*n));
    }
    spec_.timeout_s = *n;
  }

  // {"backoff_s", "max_backoff_s", "rules"}: how this job's failed attempts are retried.
  void parse_retry() {
    const json::value* v = field("retry");
    if (!v) return;
    if (!v->is_object()) return error("retry", expected("an object with backoff_s, max_backoff_s, rules", *v));
    for (const auto& [key, value] : v->get_object()) {
      const std::string where = "retry." + std::string(key);
      if (key == "backoff_s" || key == "max_backoff_s") {
        const double most = key == "backoff_s" ? 86400 : 7 * 86400;
        const std::optional<double> n = as_number(value);
        if (!n || *n < 0 || *n > most) {
          error(where, "expected seconds from 0 to " + format_number(most) + ", got " + serialize_json(value));
          continue;
        }
        spec_.retry[key] = number_value(*n);
      } else if (key == "rules") {
        if (!value.is_bool()) {
          error(where, expected("true or false", value));
          continue;
        }
        spec_.retry[key] = value.get_bool();
      } else {
        error(where, "unknown field; retry takes backoff_s, max_backoff_s and rules");
      }
    }
  }

  // When the job may start: run_at (RFC 3339, with a zone: "2026-12-01T12:00:00Z" or "+01:00")
  // or delay_s (seconds from submission; the server turns it into run_at), not both.
  void parse_run_at() {
    const json::value* at = field("run_at");
    const json::value* delay = field("delay_s");
    if (at) {
      const auto parsed = at->is_string() ? parse_rfc3339(at->get_string()) : std::nullopt;
      if (!parsed) {
        error("run_at", at->is_string() ? "not an RFC 3339 time with a zone, such as 2026-12-01T12:00:00Z: " +
                                              quoted(at->get_string())
                                        : expected("an RFC 3339 time string", *at));
      } else {
        spec_.run_at = *parsed;
      }
    }
    if (delay) {
      if (at) return error("delay_s", "give run_at or delay_s, not both");
      const std::optional<double> n = as_number(*delay);
      if (!n) return error("delay_s", expected("a number of seconds", *delay));
      if (!(*n >= 0 && *n <= kMaxDelaySeconds))
        return error("delay_s", "must be between 0 and " + format_number(kMaxDelaySeconds) + " seconds, got " +
                                    format_number(*n));
      spec_.delay_s = *n;
    }
  }

  void parse_tags() {
    const json::value* v = field("tags");
    if (!v) return;
    if (!v->is_array()) return error("tags", expected("an array of strings", *v));
    const json::array& list = v->get_array();
    if (list.size() > kMaxTags) {
      return error("tags",
                   "at most " + std::to_string(kMaxTags) + " tags, got " + std::to_string(list.size()));
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "tags[" + std::to_string(i) + "]";
      if (!list[i].is_string()) {
        error(where, expected("a string", list[i]));
        continue;
      }
      const std::string_view tag = list[i].get_string();
      if (tag.starts_with(kInchikeyTagPrefix) || tag.starts_with(kBatchTagPrefix) || tag.starts_with(kContinuesTagPrefix) ||
          tag.starts_with(kWorkflowTagPrefix) || tag.starts_with(kScheduleTagPrefix)) {
        error(where, "tags starting with \"inchikey:\", \"batch:\", \"continues:\", \"workflow:\" or \"schedule:\" are "
                     "reserved: the server indexes molecules, batches, continued jobs, workflows and schedules under them");
        continue;
      }
      if (tag.empty() || tag.size() > kMaxTagLength || !std::all_of(tag.begin(), tag.end(), is_tag_char)) {
        error(where, "tag " + quoted(tag) + " must be 1 to " + std::to_string(kMaxTagLength) +
                         " characters of A-Z a-z 0-9 . _ : -");
        continue;
      }
      spec_.tags.emplace_back(tag);
    }
  }

  // Compute tags: the same characters as tags, none reserved (they are never indexed as tags).
  void parse_requires() {
    const json::value* v = field("requires");
    if (!v) return;
    if (!v->is_array()) return error("requires", expected("an array of compute tags (strings)", *v));
    const json::array& list = v->get_array();
    if (list.size() > kMaxTags)
      return error("requires", "at most " + std::to_string(kMaxTags) + " compute tags, got " + std::to_string(list.size()));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "requires[" + std::to_string(i) + "]";
      if (!list[i].is_string()) {
        error(where, expected("a string", list[i]));
        continue;
      }
      const std::string_view tag = list[i].get_string();
      if (!is_compute_tag(tag)) {
        error(where, "compute tag " + quoted(tag) + " must be 1 to " + std::to_string(kMaxTagLength) +
                         " characters of A-Z a-z 0-9 . _ : -");
        continue;
      }
      if (std::find(spec_.requires_tags.begin(), spec_.requires_tags.end(), tag) == spec_.requires_tags.end())
        spec_.requires_tags.emplace_back(tag);
    }
    std::sort(spec_.requires_tags.begin(), spec_.requires_tags.end());
  }

  void parse_queue() {
    const json::value* v = field("queue");
    if (!v || v->is_null()) return;
    if (!v->is_string()) return error("queue", expected("a queue name (a string)", *v));
    const std::string_view name = v->get_string();
    if (!is_queue_name(name))
      return error("queue", "queue name " + quoted(name) + " must be 1 to 64 characters of a-z 0-9 _ -");
    if (name != kDefaultQueue) spec_.queue = std::string(name);
  }

  void parse_name() {
    const json::value* v = field("name");
    if (!v) return;
    if (!v->is_string()) return error("name", expected("a string", *v));
    const std::size_t length = utf8_length(v->get_string());
    if (length > kMaxNameLength) {
      return error(
          "name", "at most " + std::to_string(kMaxNameLength) + " characters, got " + std::to_string(length));
    }
    spec_.name = std::string(v->get_string());
  }

  void parse_labels() {
    const json::value* v = field("labels");
    if (!v) return;
    if (!v->is_object()) return error("labels", expected("an object of strings", *v));
    if (v->get_object().size() > kMaxLabels) {
      return error("labels", "at most " + std::to_string(kMaxLabels) + " labels, got " +
                                 std::to_string(v->get_object().size()));
    }
    for (const auto& [key, value] : v->get_object()) {
      const std::string where = "labels." + std::string(key);
      if (key.empty() || utf8_length(key) > kMaxLabelKeyLength) {
        error(where, "a label's name has 1 to " + std::to_string(kMaxLabelKeyLength) + " characters");
      } else if (!value.is_string()) {
        error(where, expected("a string", value));
      } else if (utf8_length(value.get_string()) > kMaxLabelValueLength) {
        error(where, "at most " + std::to_string(kMaxLabelValueLength) + " characters");
      } else {
        spec_.labels.emplace_back(std::string(key), std::string(value.get_string()));
      }
    }
  }

  // Ids of jobs that must complete first; the job a molecule comes from is added when missing.
  void parse_depends_on() {
    const json::value* v = field("depends_on");
    if (v) {
      const json::array* ids = v->if_array();
      if (!ids) return error("depends_on", expected("an array of job ids", *v));
      if (ids->size() > kMaxDependencies)
        return error("depends_on", "at most " + std::to_string(kMaxDependencies) + " jobs, got " +
                                       std::to_string(ids->size()));
      for (std::size_t i = 0; i < ids->size(); ++i) {
        const json::value& id = (*ids)[i];
        const std::string where = "depends_on[" + std::to_string(i) + "]";
        if (!id.is_string() || !is_valid_job_id(id.get_string())) {
          error(where, "expected the id of a job (32 lowercase hex digits)");
          continue;
        }
        if (contains(spec_.depends_on, id.get_string())) {
          error(where, "job " + std::string(id.get_string()) + " is listed twice");
          continue;
        }
        spec_.depends_on.emplace_back(id.get_string());
      }
    }
    if (spec_.molecule_from_job && !contains(spec_.depends_on, spec_.molecule_from_job->job))
      spec_.depends_on.push_back(spec_.molecule_from_job->job);
  }

  // The job's name in its workflow: set by the server, read back from a stored spec.
  void parse_workflow_node() {
    const json::value* v = field("workflow_node");
    if (!v) return;
    if (!v->is_string() || v->get_string().empty() || v->get_string().size() > 64)
      return error("workflow_node", "expected a name of 1 to 64 characters");
    spec_.workflow_node = std::string(v->get_string());
  }

  // batch_id, continued_from: set by the server, read back from a stored spec (a client's own is
  // dropped at submission).
  void parse_server_id(std::string_view name, std::string& out) {
    const json::value* v = field(name);
    if (!v) return;
    if (!v->is_string() || !is_valid_job_id(v->get_string())) {
      return error(std::string(name), "expected an id of 32 lowercase hex digits");
    }
    out = std::string(v->get_string());
  }

  void parse_cache() {
    const json::value* v = field("cache");
    if (!v) return;
    if (!v->is_bool()) return error("cache", expected("true or false", *v));
    spec_.cache = v->get_bool();
  }

  // The calculation hash: set by the server, read back from a stored spec.
  void parse_calculation() {
    const json::value* v = field("calculation");
    if (!v) return;
    const bool hex = v->is_string() && v->get_string().size() == 64 &&
                     std::all_of(v->get_string().begin(), v->get_string().end(),
                                 [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!hex) return error("calculation", "expected a calculation hash of 64 lowercase hex digits");
    spec_.calculation = std::string(v->get_string());
  }

  void report_unknown_fields() {
    for (const auto& [key, value] : body_) {
      if (contains(kKnownFields, key)) continue;
      std::string message = "unknown field";
      std::size_t best = 3;  // suggest only close misspellings
      std::string_view suggestion;
      for (std::string_view known : kKnownFields) {
        const std::size_t d = edit_distance(lower(key), known);
        if (d < best) {
          best = d;
          suggestion = known;
        }
      }
      if (!suggestion.empty()) message += "; did you mean \"" + std::string(suggestion) + "\"?";
      error(std::string(key), message);
    }
  }

  // The engine's words, or the first engine's when the engine itself is unknown (so the rest of the
  // spec is still checked and reported in one answer).
  const EngineVocabulary& words() const { return vocabulary_ ? *vocabulary_ : engine_vocabularies().front(); }

  const json::object& body_;
  const SpecLimits& limits_;
  const EngineVocabulary* vocabulary_ = nullptr;
  JobSpec spec_;
  FieldErrors errors_;
};

}  // namespace

// The number of electrons must be positive and fit the multiplicity: unpaired electrons are
// multiplicity - 1, and the rest must pair up.
FieldErrors check_electrons(const JobSpec& spec) {
  FieldErrors errors;
  auto error = [&](std::string field, std::string message) { errors.push_back({std::move(field), std::move(message)}); };
  const std::int64_t nuclear = spec.molecule.nuclear_charge_sum();
  const std::int64_t electrons = nuclear - spec.charge;
  const std::int64_t mult = spec.multiplicity;
  if (electrons <= 0) {
    error("charge", "a charge of " + std::to_string(spec.charge) + " leaves " + std::to_string(electrons) +
                        " electrons (the nuclei carry " + std::to_string(nuclear) + "); the charge must be below " +
                        std::to_string(nuclear));
    return errors;
  }
  if (mult - 1 > electrons) {
    error("multiplicity", "multiplicity " + std::to_string(mult) + " needs " + std::to_string(mult - 1) +
                              " unpaired electrons, but there are only " + std::to_string(electrons) + " electrons");
    return errors;
  }
  if ((electrons + mult - 1) % 2 != 0) {
    std::string use;
    if (mult - 1 >= 1) use = std::to_string(mult - 1);
    if (mult <= electrons) use += (use.empty() ? "" : " or ") + std::to_string(mult + 1);
    error("multiplicity",
          std::to_string(electrons) + " electrons cannot have multiplicity " + std::to_string(mult) + "; use " + use);
  }
  return errors;
}

json::object JobSpec::to_json() const {
  json::object o;
  o["engine"] = engine;
  o["task"] = task;
  o["method"] = method;
  json::object m;
  if (molecule_from_job) {
    m["from_job"] = molecule_from_job->job;
    m["geometry"] = molecule_from_job->geometry;
  }
  if (!molecule_from_job || !molecule.atoms.empty()) m["xyz"] = molecule.to_xyz();
  if (molecule_source) m["from"] = json::object{{"format", molecule_source->format}, {"text", molecule_source->text}};
  if (identifiers) {
    m["identifiers"] = json::object{{"canonical_smiles", identifiers->canonical_smiles},
                                    {"inchi", identifiers->inchi},
                                    {"inchikey", identifiers->inchikey},
                                    {"formula", identifiers->formula}};
  }
  o["molecule"] = std::move(m);
  o["charge"] = charge;
  o["multiplicity"] = multiplicity;
  if (solvent) {
    json::object s{{"model", solvent->model}};
    if (!solvent->name.empty()) s["name"] = solvent->name;
    if (solvent->dielectric > 0) s["dielectric"] = number_value(solvent->dielectric);
    o["solvent"] = std::move(s);
  } else {
    o["solvent"] = nullptr;
  }
  json::object kw;
  for (const auto& [key, value] : keywords) {
    const std::optional<double> n =
        value.is_double() ? std::optional<double>(value.get_double()) : std::nullopt;
    kw[key] = n ? number_value(*n) : value;
  }
  o["keywords"] = std::move(kw);
  json::array outs;
  for (const std::string& out : outputs) outs.emplace_back(out);
  o["outputs"] = std::move(outs);
  o["priority"] = priority;
  o["timeout_s"] = number_value(timeout_s);
  o["max_attempts"] = max_attempts;
  o["max_lost"] = max_lost;
  if (threads != 1) o["threads"] = threads;
  if (!retry.empty()) o["retry"] = retry;
  o["run_at"] = run_at ? json::value(to_rfc3339(*run_at)) : json::value(nullptr);
  json::array tag_list;
  for (const std::string& tag : tags) tag_list.emplace_back(tag);
  o["tags"] = std::move(tag_list);
  if (!requires_tags.empty()) {
    json::array needed;
    for (const std::string& tag : requires_tags) needed.emplace_back(tag);
    o["requires"] = std::move(needed);
  }
  if (!queue.empty()) o["queue"] = queue;
  o["name"] = name;
  // Only when present: most jobs have neither, and every stored record would carry them.
  if (!labels.empty()) {
    json::object l;
    for (const auto& [key, value] : labels) l[key] = value;
    o["labels"] = std::move(l);
  }
  if (!depends_on.empty()) {
    json::array ids;
    for (const std::string& id : depends_on) ids.emplace_back(id);
    o["depends_on"] = std::move(ids);
  }
  if (!batch_id.empty()) o["batch_id"] = batch_id;
  if (!workflow_id.empty()) o["workflow_id"] = workflow_id;
  if (!workflow_node.empty()) o["workflow_node"] = workflow_node;
  if (!continued_from.empty()) o["continued_from"] = continued_from;
  if (!schedule_id.empty()) o["schedule_id"] = schedule_id;
  if (!cache) o["cache"] = false;
  if (!calculation.empty()) o["calculation"] = calculation;
  return o;
}

std::chrono::milliseconds JobSpec::timeout() const {
  // Rounded up: 0.0004 s is 1 ms, not 0 ms, which the runner would take as "no timeout".
  const double ms = std::ceil(timeout_s * 1000.0);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(ms)));
}

std::variant<JobSpec, FieldErrors> parse_job_spec(const json::value& body, const SpecLimits& limits) {
  if (!body.is_object()) return FieldErrors{{"", "the job spec must be a JSON object"}};
  return SpecParser(body.get_object(), limits).run();
}

std::variant<JobSpec, FieldErrors> parse_stored_spec(const json::value& stored) {
  SpecLimits unlimited;
  unlimited.max_atoms = std::numeric_limits<std::size_t>::max();
  unlimited.max_timeout_s = 1e12;
  unlimited.max_attempts = 1000000;
  return parse_job_spec(stored, unlimited);
}

}  // namespace nox
