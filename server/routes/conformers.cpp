// Conformer screening: POST /workflows/conformers generates N conformers of a SMILES (RDKit's
// ETKDG with MMFF94, engines/rdkit_embedding.hpp), submits each as an xtb optimization in one
// workflow, and GET /workflows/{id}/conformers ranks what completed (core/conformer_ranking.hpp:
// duplicates by RMSD and energy, an energy window, Boltzmann weights); a failed conformer only
// leaves the ranking. GET /workflows/{id}/conformers.sdf offers the survivors as one SDF.
#include <boost/json.hpp>
#include <cstdio>

#include "core/conformer_ranking.hpp"
#include "core/json_serialize.hpp"
#include "core/json_text.hpp"
#include "engines/molecule_conversion.hpp"
#include "engines/rdkit_embedding.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/request_body.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int default_conformers = 10;
constexpr int max_conformers = 50;
// The label every job of a screen carries: the ranking's options, as JSON text.
constexpr std::string_view screen_label = "conformer_screen";
// What a screen's job spec may set besides its molecule (the rest is the screen's own).
constexpr std::array<std::string_view, 11> template_fields = {"method",   "charge",    "multiplicity", "solvent",
                                                              "keywords", "priority",  "timeout_s",    "threads",
                                                              "tags",     "requires", "queue"};

HttpResponse refused(std::string field, std::string message) {
  return field_errors_response({{std::move(field), std::move(message)}}, "invalid_screen", "the screen");
}

// The ranking options a screen was made with, from the label of one of its jobs.
std::optional<RankingOptions> options_of(const Job& job) {
  const json::value* labels = job.spec.if_contains("labels");
  if (!labels || !labels->is_object()) return std::nullopt;
  const std::string text = text_of(labels->get_object(), screen_label);
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  RankingOptions options;
  const json::object& o = parsed.get_object();
  options.energy_window_kcal = number_of(o, "energy_window_kcal").value_or(options.energy_window_kcal);
  options.rmsd_threshold_a = number_of(o, "rmsd_threshold_a").value_or(options.rmsd_threshold_a);
  options.energy_threshold_kcal = number_of(o, "energy_threshold_kcal").value_or(options.energy_threshold_kcal);
  options.temperature_k = number_of(o, "temperature_k").value_or(options.temperature_k);
  return options;
}

json::object options_json(const RankingOptions& options) {
  return {{"energy_window_kcal", options.energy_window_kcal},
          {"rmsd_threshold_a", options.rmsd_threshold_a},
          {"energy_threshold_kcal", options.energy_threshold_kcal},
          {"temperature_k", options.temperature_k}};
}

// A screen's jobs ranked: the survivors, the dropped, the failed, and whether all finished.
struct Screen {
  RankingOptions options;
  ConformerRanking ranking;
  std::map<std::string, std::string> job_of;  // node name -> job id
  json::array failed;
  std::size_t finished = 0, total = 0;
};

std::variant<Screen, HttpResponse> rank_screen(const std::string& id, const std::vector<Job>& jobs) {
  Screen screen;
  std::optional<RankingOptions> options = options_of(jobs.front());
  if (!options) return error_response(404, "workflow_not_found", "workflow " + id + " is not a conformer screen");
  screen.options = *options;
  std::vector<ConformerCandidate> candidates;
  for (const Job& job : jobs) {
    const std::string node = text_of(job.spec, "workflow_node");
    screen.job_of[node] = job.id;
    ++screen.total;
    if (is_terminal(job.state)) ++screen.finished;
    if (job.state == JobState::failed || job.state == JobState::cancelled) {
      screen.failed.push_back(json::object{{"label", node}, {"job_id", job.id}, {"state", to_string(job.state)},
                                           {"error", job.error}});
      continue;
    }
    if (job.state != JobState::completed || !job.result.is_object()) continue;
    const json::object& result = job.result.get_object();
    const std::optional<double> energy = number_of(result, "energy_eh");
    auto molecule = parse_xyz(text_of(result, "optimized_xyz"));
    if (!energy || !std::holds_alternative<Molecule>(molecule)) {
      screen.failed.push_back(json::object{
          {"label", node}, {"job_id", job.id}, {"state", "completed"},
          {"error", json::object{{"code", "no_geometry"}, {"message", "its result has no energy or optimized geometry"}}}});
      continue;
    }
    candidates.push_back({node, std::get<Molecule>(std::move(molecule)), *energy});
  }
  try {
    screen.ranking = rank_conformers(std::move(candidates), screen.options);
  } catch (const std::invalid_argument& e) {
    return error_response(409, "invalid_state", std::string("the conformers cannot be compared: ") + e.what());
  }
  return screen;
}

asio::awaitable<std::variant<Screen, HttpResponse>> read_screen(App& app, const HttpRequest& request, const std::string& id) {
  auto found = co_await workflow_jobs(app, request, id);
  if (auto* refused_response = std::get_if<HttpResponse>(&found)) co_return std::move(*refused_response);
  std::vector<Job>& jobs = std::get<std::vector<Job>>(found);
  // A list leaves results out: the completed conformers' are read one by one (at most 50).
  for (Job& job : jobs) {
    if (job.state != JobState::completed || !job.result.is_null()) continue;
    auto full = co_await app.store.get(job.id);
    if (full) job = std::move(*full);
  }
  co_return rank_screen(id, jobs);
}

std::string number_text(double value, const char* format) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

asio::awaitable<HttpResponse> submit_conformer_screen(App& app, const HttpRequest& request, const PathParams&) {
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  const json::object* root = std::get<json::value>(body).if_object();
  if (!root) co_return refused("molecule", "a screen is {\"molecule\": {\"smiles\": \"CCCCO\"}, \"conformers\": 10, ...}");
  for (const auto& [key, value] : *root) {
    if (key != "molecule" && key != "conformers" && key != "job" && key != "ranking" && key != "name")
      co_return refused(std::string(key), "unknown field; a screen takes molecule, conformers, job, ranking and name");
  }
  const json::value* molecule = root->if_contains("molecule");
  const json::value* smiles = molecule && molecule->is_object() ? molecule->get_object().if_contains("smiles") : nullptr;
  if (!smiles || !smiles->is_string() || smiles->get_string().empty() || smiles->get_string().size() > 10000)
    co_return refused("molecule.smiles", "conformers are generated from a SMILES: {\"molecule\": {\"smiles\": \"CCCCO\"}}");
  int count = default_conformers;
  if (const json::value* n = root->if_contains("conformers")) {
    if (!n->is_int64() || n->get_int64() < 1 || n->get_int64() > max_conformers)
      co_return refused("conformers", "how many conformers to generate: a whole number from 1 to 50");
    count = static_cast<int>(n->get_int64());
  }
  RankingOptions options;
  if (const json::value* ranking = root->if_contains("ranking")) {
    if (!ranking->is_object()) co_return refused("ranking", "expected an object of ranking options");
    for (const auto& [key, value] : ranking->get_object()) {
      double* field = key == "energy_window_kcal"      ? &options.energy_window_kcal
                      : key == "rmsd_threshold_a"      ? &options.rmsd_threshold_a
                      : key == "energy_threshold_kcal" ? &options.energy_threshold_kcal
                      : key == "temperature_k"         ? &options.temperature_k
                                                       : nullptr;
      if (!field || !value.is_number())
        co_return refused("ranking." + std::string(key),
                          "ranking takes numbers energy_window_kcal, rmsd_threshold_a, energy_threshold_kcal, temperature_k");
      *field = value.to_number<double>();
    }
    FieldErrors problems = check(options);
    for (FieldError& e : problems) e.field = "ranking." + e.field;
    if (!problems.empty()) co_return field_errors_response(problems, "invalid_screen", "the screen");
  }
  json::object base{{"engine", "xtb"}, {"task", "optimize"}};
  if (const json::value* job = root->if_contains("job")) {
    if (!job->is_object()) co_return refused("job", "expected an object with the xtb settings of every conformer's job");
    for (const auto& [key, value] : job->get_object()) {
      if (std::find(template_fields.begin(), template_fields.end(), key) == template_fields.end())
        co_return refused("job." + std::string(key),
                          "a screen's jobs are xtb optimizations of its conformers; job may set method, charge, "
                          "multiplicity, solvent, keywords, priority, timeout_s, threads, tags, requires and queue");
      base[key] = value;
    }
  }
  std::string name = "conformers of " + std::string(smiles->get_string());
  if (const json::value* n = root->if_contains("name")) {
    if (!n->is_string() || n->get_string().size() > 200) co_return refused("name", "expected a text of at most 200 characters");
    name = std::string(n->get_string());
  }

  // Charge and multiplicity from the SMILES (Open Babel), unless the job says; then the conformers (RDKit).
  const std::string smiles_text(smiles->get_string());
  const std::size_t max_atoms = app.settings.max_atoms;
  auto converted = co_await app.chemistry.run(
      [&smiles_text, max_atoms] { return convert_molecule(MoleculeSource{"smiles", smiles_text}, max_atoms); });
  if (auto* problem = std::get_if<std::string>(&converted)) co_return refused("molecule.smiles", *problem);
  const ConvertedMolecule& identified = std::get<ConvertedMolecule>(converted);
  if (!base.contains("charge")) base["charge"] = identified.formal_charge;
  if (!base.contains("multiplicity")) base["multiplicity"] = identified.multiplicity;
  if (!rdkit_available())
    co_return error_response(503, "engine_unavailable", "conformer screening needs RDKit (Debian's python3-rdkit) on this instance");
  ConformerSet set = co_await app.chemistry.run(
      [&smiles_text, count] { return generate_conformers_with_rdkit(smiles_text, count, std::chrono::seconds(120)); });
  if (!set.ok) co_return refused("molecule.smiles", set.problem);

  json::object labels{{std::string(screen_label), serialize_json(options_json(options))},
                      {"smiles", smiles_text}};
  json::object jobs;
  for (std::size_t i = 0; i < set.conformers.size(); ++i) {
    json::object spec = base;
    spec["molecule"] = json::object{{"xyz", set.conformers[i].to_xyz()}};
    spec["labels"] = labels;
    char node[32];
    std::snprintf(node, sizeof node, "conformer-%02zu", i + 1);
    jobs[node] = std::move(spec);
  }
  HttpResponse response = co_await submit_graph(app, request, std::move(name), jobs);
  if (response.status != 202) co_return response;
  // The answer also says where the ranking is and how many conformers RDKit found.
  json::value answer = json::parse(response.body);
  json::object& accepted = answer.as_object();
  const std::string url = text_of(accepted, "url");
  accepted["conformers"] = set.conformers.size();
  accepted["force_field"] = set.force_field;
  accepted["ranking_url"] = url + "/conformers";
  accepted["sdf_url"] = url + "/conformers.sdf";
  response.body = serialize_json(answer);
  co_return response;
}

asio::awaitable<HttpResponse> get_conformer_ranking(App& app, const HttpRequest& request, const PathParams& params) {
  const std::string id(params.get("id"));
  auto read = co_await read_screen(app, request, id);
  if (auto* refused_response = std::get_if<HttpResponse>(&read)) co_return std::move(*refused_response);
  const Screen& screen = std::get<Screen>(read);
  json::array conformers;
  for (const RankedConformer& c : screen.ranking.conformers)
    conformers.push_back(json::object{{"rank", c.rank},
                                      {"label", c.label},
                                      {"job_id", screen.job_of.at(c.label)},
                                      {"energy_eh", c.energy_eh},
                                      {"relative_energy_kcal_mol", c.relative_kcal},
                                      {"boltzmann_weight", c.weight},
                                      {"xyz", c.molecule.to_xyz()}});
  json::array dropped;
  for (const DroppedConformer& d : screen.ranking.dropped) {
    json::object one{{"label", d.label}, {"job_id", screen.job_of.at(d.label)}, {"reason", d.reason},
                     {"relative_energy_kcal_mol", d.relative_kcal}};
    if (d.reason == "duplicate") {
      one["duplicate_of"] = d.duplicate_of;
      one["rmsd_a"] = d.rmsd_a;
    }
    dropped.push_back(std::move(one));
  }
  const bool done = screen.finished == screen.total;
  co_return json_response(200, json::object{{"workflow_id", id},
                                            {"state", done ? "completed" : "running"},
                                            {"jobs", screen.total},
                                            {"finished", screen.finished},
                                            {"ranking", options_json(screen.options)},
                                            {"conformers", std::move(conformers)},
                                            {"dropped", std::move(dropped)},
                                            {"failed", screen.failed}});
}

asio::awaitable<HttpResponse> get_conformers_sdf(App& app, const HttpRequest& request, const PathParams& params) {
  const std::string id(params.get("id"));
  auto read = co_await read_screen(app, request, id);
  if (auto* refused_response = std::get_if<HttpResponse>(&read)) co_return std::move(*refused_response);
  Screen& screen = std::get<Screen>(read);
  if (screen.finished < screen.total)
    co_return error_response(409, "not_finished", std::to_string(screen.total - screen.finished) + " of its " +
                                                      std::to_string(screen.total) + " conformers are still running");
  std::vector<RankedConformer>& ranked = screen.ranking.conformers;
  std::map<std::string, std::string>& job_of = screen.job_of;
  std::optional<std::string> sdf = co_await app.chemistry.run([&ranked, &job_of]() -> std::optional<std::string> {
    std::string out;
    for (const RankedConformer& c : ranked) {
      auto record = molfile_of(c.molecule, c.label,
                               {{"rank", std::to_string(c.rank)},
                                {"energy_eh", number_text(c.energy_eh, "%.8f")},
                                {"relative_energy_kcal_mol", number_text(c.relative_kcal, "%.3f")},
                                {"boltzmann_weight", number_text(c.weight, "%.4f")},
                                {"job_id", job_of.at(c.label)}});
      if (!record) return std::nullopt;
      out += *record;
    }
    return out;
  });
  if (!sdf) co_return error_response(500, "internal_error", "Open Babel could not write a conformer as SDF");
  HttpResponse response;
  response.status = 200;
  response.content_type = "chemical/x-mdl-sdfile";
  response.body = std::move(*sdf);
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"conformers-" + id + ".sdf\"");
  co_return response;
}

}  // namespace nox::routes
