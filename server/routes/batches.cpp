// Batches: POST /jobs/batch with a molecule file (multi-record SDF, multi-frame XYZ, SMILES one
// per line; the spec's other fields as query parameters), and GET /batches/{id}. The jobs of a
// batch carry its id (spec.batch_id), indexed as the reserved tag "batch:<id>".
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <charconv>

#include "core/job_id.hpp"
#include "server/api_error.hpp"
#include "server/request_body.hpp"
#include "server/routes/job_admission.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t max_file_records = max_batch_size;  // core/job_id.hpp: a batch's size is in its id
constexpr std::size_t creates_between_yields = 16;
constexpr std::size_t batch_page = 1000;

// One record of a molecule file: its own text, or why it could not be cut out.
struct Record {
  std::string text;
  std::string problem;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// SDF: records end with "$$$$". SMILES: one per non-blank line ('#' starts a comment line).
// XYZ: frames of an atom-count line, a comment line and that many atom lines.
std::vector<Record> split_records(const std::string& format, std::string_view text) {
  std::vector<Record> records;
  const auto lines = lines_of(text);
  if (format == "sdf") {
    std::string current;
    for (std::string_view line : lines) {
      if (trimmed(line) == "$$$$") {
        if (!trimmed(current).empty()) records.push_back({current + "$$$$\n", {}});
        current.clear();
      } else {
        current.append(line).push_back('\n');
      }
    }
    if (!trimmed(current).empty()) records.push_back({current, {}});
  } else if (format == "smiles") {
    for (std::string_view line : lines) {
      const std::string_view t = trimmed(line);
      if (!t.empty() && !t.starts_with('#')) records.push_back({std::string(t), {}});
    }
  } else {
    for (std::size_t i = 0; i < lines.size();) {
      const std::string_view count_line = trimmed(lines[i]);
      if (count_line.empty()) {
        ++i;
        continue;
      }
      std::size_t atoms = 0;
      const auto [end, ec] = std::from_chars(count_line.data(), count_line.data() + count_line.size(), atoms);
      if (ec != std::errc() || end != count_line.data() + count_line.size() || atoms == 0) {
        records.push_back({{}, "line " + std::to_string(i + 1) + ": expected the number of atoms of a frame; the rest "
                                                                  "of the file cannot be read"});
        break;
      }
      if (i + 2 + atoms > lines.size()) {
        records.push_back({{}, "the frame at line " + std::to_string(i + 1) + " announces " + std::to_string(atoms) +
                                   " atoms but the file ends first"});
        break;
      }
      std::string frame;
      for (std::size_t k = i; k < i + 2 + atoms; ++k) frame.append(lines[k]).push_back('\n');
      records.push_back({std::move(frame), {}});
      i += 2 + atoms;
    }
  }
  return records;
}

// The spec's fields from the query: numbers and booleans as JSON, lists comma-separated,
// keywords as keywords.<name>, the solvent as solvent (name), solvent_model, dielectric.
std::variant<json::object, HttpResponse> spec_from_query(const HttpRequest& request) {
  json::object spec;
  json::object keywords, solvent;
  for (const auto& [key, value] : query_params(request.query())) {
    auto number = [&value = value]() -> json::value {
      json::error_code ec;
      json::value v = json::parse(value, ec);
      return !ec && (v.is_number() || v.is_bool()) ? v : json::value(value);
    };
    if (key == "tags" || key == "outputs") {
      json::array list;
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        if (const auto item = trimmed(rest.substr(0, comma)); !item.empty()) list.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      spec[key] = std::move(list);
    } else if (key.starts_with("keywords.")) {
      keywords[key.substr(9)] = number();
    } else if (key == "solvent") {
      solvent["name"] = value;
    } else if (key == "solvent_model") {
      solvent["model"] = value;
    } else if (key == "dielectric") {
      solvent["dielectric"] = number();
    } else if (key == "molecule" || key == "labels" || key == "batch_id" || key == "continued_from" ||
               key == "calculation" || key == "depends_on" || key == "workflow_id" || key == "workflow_node") {
      return error_response(400, "invalid_parameter", key + " cannot be a query parameter of a molecule-file batch");
    } else {
      spec[key] = number();
    }
  }
  if (!keywords.empty()) spec["keywords"] = std::move(keywords);
  if (!solvent.empty()) spec["solvent"] = std::move(solvent);
  return spec;
}

}  // namespace

asio::awaitable<HttpResponse> submit_molecule_file_batch(App& app, const HttpRequest& request, const std::string& format) {
  auto base = spec_from_query(request);
  if (auto* bad = std::get_if<HttpResponse>(&base)) co_return std::move(*bad);
  const std::vector<Record> records = split_records(format, request.body);
  if (records.empty()) co_return error_response(422, "invalid_spec", "the " + format + " file holds no records");
  if (records.size() > max_file_records) {
    co_return error_response(413, "batch_too_large", "a batch holds at most " + std::to_string(max_file_records) +
                                                         " records, got " + std::to_string(records.size()));
  }
  const std::string batch_id = new_batch_id(records.size());  // its jobs' ids are made from it
  // Each record: its spec, or its errors. Valid records are accepted even when others are not.
  std::vector<FieldErrors> record_errors(records.size());
  std::vector<std::optional<JobSpec>> specs(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!records[i].problem.empty()) {
      record_errors[i].push_back({"molecule." + format, records[i].problem});
      continue;
    }
    json::object spec = std::get<json::object>(base);
    spec["molecule"] = json::object{{format, records[i].text}};
    specs[i] = parse_spec(app, json::value(std::move(spec)), "", record_errors[i]);
    if (specs[i]) specs[i]->batch_id = batch_id;
  }
  const std::size_t max_atoms = app.settings.max_atoms;
  std::vector<FieldErrors> problems = co_await app.chemistry.run([&specs, max_atoms] {
    std::vector<FieldErrors> found(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i] && needs_chemistry(*specs[i])) found[i] = complete_molecule(*specs[i], max_atoms);
    }
    return found;
  });
  std::vector<std::optional<Job>> jobs(records.size());
  std::size_t admitted = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!specs[i]) continue;
    jobs[i] = admit(app, request, *specs[i], std::move(problems[i]), "", record_errors[i]);
    if (jobs[i]) jobs[i]->id = batch_job_id(batch_id, i);
    admitted += jobs[i] ? 1 : 0;
  }
  if (admitted == 0) {
    FieldErrors all;
    for (std::size_t i = 0; i < records.size(); ++i) {
      for (auto& e : record_errors[i]) all.push_back({"records[" + std::to_string(i) + "]." + e.field, e.message});
    }
    co_return field_errors_response(all);
  }
  if (auto limited = co_await app.access.admit_submissions(request.identity, admitted)) co_return std::move(*limited);
  const CreateBounds bounds = create_bounds(app, request.identity);
  if (auto refused = co_await refuse_batch_over_quota(app, request.identity, bounds, admitted)) co_return std::move(*refused);
  auto executor = co_await asio::this_coro::executor;
  json::array answers;
  std::size_t created_count = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    json::object answer{{"record", i + 1}};
    if (jobs[i]) {
      if (created_count % creates_between_yields == creates_between_yields - 1) {
        co_await asio::post(executor, asio::use_awaitable);
      }
      auto created = co_await create_or_find(app, std::move(*jobs[i]), bounds, false);
      if (!created) co_return partial_batch_error(created.error(), created_count);
      ++created_count;
      answer["job_id"] = created->id;
      answer["name"] = created->spec.contains("name") ? created->spec.at("name") : json::value("");
    } else {
      json::array errors;
      for (const auto& e : record_errors[i]) errors.push_back(json::object{{"field", e.field}, {"message", e.message}});
      answer["errors"] = std::move(errors);
    }
    answers.push_back(std::move(answer));
  }
  co_return json_response(202, json::object{{"batch_id", batch_id},
                                            {"url", "/batches/" + batch_id},
                                            {"accepted", created_count},
                                            {"refused", records.size() - created_count},
                                            {"records", std::move(answers)}});
}

// Counts by state and progress. It reads every job of the batch (at most 10,000), a page at a
// time with a yield between pages.
asio::awaitable<HttpResponse> get_batch(App& app, const HttpRequest& request, const PathParams& params) {
  const std::string id(params.get("id"));
  if (!is_valid_job_id(id)) co_return error_response(404, "batch_not_found", "no batch " + id.substr(0, 64));
  ListQuery query;
  query.tag = batch_tag(id);
  query.owner = request.identity.confined_to();
  query.limit = batch_page;
  std::map<std::string, std::size_t> counts;
  for (JobState state : all_job_states) counts[std::string(to_string(state))] = 0;
  std::size_t total = 0;
  TimeMs first_created = 0, last_finished = 0;
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    auto page = co_await app.store.list(query);
    if (!page) co_return store_error_response(page.error());
    for (const Job& job : page->jobs) {
      ++counts[std::string(to_string(job.state))];
      ++total;
      if (first_created == 0 || job.created_at < first_created) first_created = job.created_at;
      last_finished = std::max(last_finished, job.finished_at);
    }
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
    co_await asio::post(executor, asio::use_awaitable);
  }
  if (total == 0) co_return error_response(404, "batch_not_found", "no batch " + id + " (or none of its jobs is yours)");
  const std::size_t finished = counts["completed"] + counts["failed"] + counts["cancelled"];
  json::object by_state;
  for (const auto& [state, n] : counts) by_state[state] = n;
  json::object body{{"batch_id", id},
                    {"total", total},
                    {"counts", std::move(by_state)},
                    {"finished", finished},
                    {"progress", static_cast<double>(finished) / static_cast<double>(total)},
                    {"created_at", to_rfc3339(first_created)},
                    {"finished_at", finished == total ? json::value(to_rfc3339(last_finished)) : json::value(nullptr)},
                    {"jobs_url", "/jobs?tag=" + batch_tag(id)}};
  co_return json_response(200, body);
}

}  // namespace nox::routes
