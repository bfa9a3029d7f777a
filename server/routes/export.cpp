// GET /jobs/export: every job matching GET /jobs's filters, with its result, in one streamed
// response: NDJSON (one full job record per line, as GET /jobs/{id}) or CSV (one row per job:
// who, what, when, and the numbers a screening table wants). Read page by page from the store's
// indexes and written chunk by chunk, so a million jobs never sit in memory at once and other
// requests run between pages.
#include <boost/json.hpp>
#include <cstdio>

#include "core/json_serialize.hpp"
#include "core/json_text.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t export_page = 500;

constexpr std::string_view csv_header =
    "job_id,state,engine,task,method,name,formula,inchikey,tags,owner,created_at,started_at,finished_at,"
    "energy_eh,homo_lumo_gap_ev,error_code\r\n";

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return {};
  char text[40];
  std::snprintf(text, sizeof text, "%.10g", v->to_number<double>());
  return text;
}

std::string time_field(TimeMs t) { return t == 0 ? std::string() : to_rfc3339(t); }

std::string csv_row(const Job& job) {
  const json::object& spec = job.spec;
  std::string formula, inchikey;
  if (const json::value* molecule = spec.if_contains("molecule"); molecule && molecule->is_object()) {
    if (const json::value* ids = molecule->get_object().if_contains("identifiers"); ids && ids->is_object()) {
      formula = text_of(ids->get_object(), "formula");
      inchikey = text_of(ids->get_object(), "inchikey");
    }
  }
  std::string tags;
  for (const std::string& tag : job.tags()) tags += (tags.empty() ? "" : " ") + tag;
  const json::object no_result;
  const json::object& result = job.result.is_object() ? job.result.get_object() : no_result;
  const std::string error_code = job.error.is_object() ? text_of(job.error.get_object(), "code") : std::string();
  const std::string fields[] = {job.id,
                                std::string(to_string(job.state)),
                                job.engine(),
                                text_of(spec, "task"),
                                text_of(spec, "method"),
                                text_of(spec, "name"),
                                formula,
                                inchikey,
                                tags,
                                job.owner,
                                time_field(job.created_at),
                                time_field(job.started_at),
                                time_field(job.finished_at),
                                number_field(result, "energy_eh"),
                                number_field(result, "homo_lumo_gap_ev"),
                                error_code};
  std::string row;
  for (const std::string& field : fields) row += (row.empty() ? "" : ",") + csv_field(field);
  return row + "\r\n";
}

class ExportBody final : public StreamBody {
 public:
  ExportBody(App& app, ListQuery query, bool csv) : app_(app), query_(std::move(query)), csv_(csv) {}

  asio::awaitable<void> run(StreamWriter& writer) override {
    if (csv_ && !co_await writer.write(std::string(csv_header))) co_return;
    query_.limit = export_page;
    while (!stopped_) {
      auto page = co_await app_.store.list(query_);
      if (!page) {
        failed_ = true;  // no final chunk: the client sees the export cut off
        co_return;
      }
      std::string chunk;
      for (Job& job : page->jobs) {
        // A list leaves results out; the export is where they are wanted.
        if (job.state == JobState::completed && job.result.is_null()) {
          auto full = co_await app_.store.get(job.id);
          if (full) job = std::move(*full);
        }
        chunk += csv_ ? csv_row(job) : serialize_json(job_to_json(job)) + "\n";
      }
      if (!chunk.empty() && !co_await writer.write(std::move(chunk))) co_return;
      if (page->next_cursor.empty()) co_return;
      query_.cursor = page->next_cursor;
    }
  }

  void stop() override { stopped_ = true; }
  bool ended_well() const override { return !failed_; }

 private:
  App& app_;
  ListQuery query_;
  bool csv_;
  bool stopped_ = false;
  bool failed_ = false;
};

}  // namespace

asio::awaitable<HttpResponse> export_jobs(App& app, const HttpRequest& request, const PathParams&) {
  auto read = read_list_query(request);
  if (auto* refused = std::get_if<HttpResponse>(&read)) co_return std::move(*refused);
  const std::string format = query_param(request.query(), "format").value_or("ndjson");
  if (format != "ndjson" && format != "csv")
    co_return error_response(400, "invalid_parameter", "format is ndjson or csv",
                             json::array{json::object{{"field", "format"}, {"message", "ndjson or csv"}}});
  const bool csv = format == "csv";
  HttpResponse response;
  response.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  response.headers.emplace_back("Content-Disposition", std::string("attachment; filename=\"nox-jobs.") + format + "\"");
  response.stream = std::make_shared<ExportBody>(app, std::move(std::get<ListQuery>(read)), csv);
  co_return response;
}

}  // namespace nox::routes
