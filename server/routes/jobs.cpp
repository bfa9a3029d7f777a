// Routes of the job resource: submit, list, read, cancel, delete.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <charconv>
#include <deque>
#include <optional>

#include "core/job_id.hpp"
#include "core/json_serialize.hpp"
#include "core/qcschema.hpp"
#include "core/quoted.hpp"
#include "core/sha256.hpp"
#include "engines/molecule_conversion.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/large_json.hpp"
#include "server/loop_turns.hpp"
#include "server/request_body.hpp"
#include "core/status_cache.hpp"
#include "server/routes/job_admission.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t max_batch_jobs = max_batch_size;  // core/job_id.hpp: a batch's size is in its id
// The creates of a batch on a pipelining store (Redis), out at once but never more than
// `creates_in_flight`: each holds its job and a few coroutine frames until Redis answers, and
// all 10,000 of a batch at once took ~85 MB that the loop faulted in page by page (a fifth of
// its time during the batch). Each answer is kept as the batch's entry for that job.
constexpr std::size_t creates_in_flight = 256;

struct BatchCreation {
  BatchCreation(asio::any_io_executor executor, std::size_t count, json::storage_ptr storage)
      : entries(std::move(storage)), answered(executor) {
    entries.resize(count);
    answered.expires_at(asio::steady_timer::time_point::max());
  }
  json::array entries;  // each job's entry in the answer, in the answer's arena
  // The failure of the first job (in the batch's order) that could not be created; no more
  // are started after one.
  std::optional<std::pair<std::size_t, StoreError>> failure;
  std::size_t out = 0;          // creates started and not answered
  asio::steady_timer answered;  // cancelled at each answer (never expires)
};

asio::awaitable<void> create_into(App& app, Job job, CreateBounds bounds, std::shared_ptr<BatchCreation> batch,
                                  std::size_t index, bool idempotent) {
  co_await take_turn();  // each encodes its job's record: hundreds are started at once
  auto created = co_await create_or_find(app, std::move(job), bounds, idempotent);
  if (created) {
    batch->entries[index] = accepted_json(*created, batch->entries.storage());
  } else if (!batch->failure || index < batch->failure->first) {
    batch->failure.emplace(index, created.error());
  }
  --batch->out;
  batch->answered.cancel();
}

// Idempotency-Key (as in the IETF draft and Stripe's API): the first answer to a key is
// remembered for a day and given again to a retry with the same key and body; the jobs get ids
// derived from the key, so even a retry whose first answer was lost (a timeout) finds the jobs
// already created instead of creating them again.
constexpr std::chrono::hours idempotency_window{24};
constexpr std::size_t max_idempotency_key = 255;

struct Idempotency {
  std::string scope;        // "<route>:<key>": the store's key for the remembered answer
  std::string fingerprint;  // SHA-256 of the body: the same key with another body is an error
};

// nullopt without the header; an error response when the key is unusable.
// Keys are per owner: two identities that happen to pick the same key get their own answers.
std::variant<std::monostate, Idempotency, HttpResponse> idempotency_of(const HttpRequest& request,
                                                                       std::string_view route) {
  const std::string_view key = request.header("idempotency-key");
  if (key.empty()) return std::monostate{};
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (key.size() > max_idempotency_key || !printable)
    return error_response(400, "invalid_idempotency_key",
                          "an Idempotency-Key is 1 to 255 visible ASCII characters (a UUID is a good choice)");
  std::string scope(route);
  if (!request.identity.name.empty()) scope += ":owner=" + request.identity.name;
  return Idempotency{scope + ":" + std::string(key), sha256_hex(request.body)};
}

// The remembered answer to this key, as the response to send again; nullopt when there is none.
asio::awaitable<std::optional<HttpResponse>> replay(App& app, const Idempotency& idem) {
  auto recalled = co_await app.store.recall_answer(idem.scope);
  if (!recalled) co_return store_error_response(recalled.error());
  if (!*recalled) co_return std::nullopt;
  ParsedJson stored = co_await parse_yielding(**recalled, arena());
  const json::object* answer = stored.value.if_object();
  if (stored.error || !answer || !answer->contains("fingerprint") || !answer->contains("body")) co_return std::nullopt;
  if (answer->at("fingerprint") != json::value(idem.fingerprint))
    co_return error_response(422, "idempotency_key_reused",
                             "this Idempotency-Key was used for a different request in the last 24 hours");
  HttpResponse response;
  response.status = 202;
  response.body = co_await serialize_yielding(answer->at("body"));
  response.headers.emplace_back("Idempotent-Replayed", "true");
  if (const json::value* location = answer->if_contains("location"); location && location->is_string())
    response.headers.emplace_back("Location", std::string(location->get_string()));
  co_return response;
}

// The stored answer is built around the body's text: a 10,000-job answer is not copied or
// serialized again on the loop.
asio::awaitable<void> remember(App& app, const Idempotency& idem, std::string_view body_text, std::string location) {
  std::string answer = "{\"fingerprint\":" + serialize_json(json::value(idem.fingerprint));
  if (!location.empty()) answer += ",\"location\":" + serialize_json(json::value(location));
  answer += ",\"body\":";
  answer += body_text;
  answer += '}';
  // Not remembering is no loss of safety: a retry then finds its jobs by their derived ids.
  co_await app.store.remember_answer(idem.scope, std::move(answer), idempotency_window);
}

}  // namespace

asio::awaitable<HttpResponse> submit_job(App& app, const HttpRequest& request, const PathParams&) {
  auto idem = idempotency_of(request, "jobs");
  if (auto* refused = std::get_if<HttpResponse>(&idem)) co_return std::move(*refused);
  const Idempotency* key = std::get_if<Idempotency>(&idem);
  if (key) {
    if (auto again = co_await replay(app, *key)) co_return std::move(*again);
  }
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  FieldErrors errors;
  auto spec = parse_spec(app, std::get<json::value>(body), "", errors);
  if (!spec) co_return field_errors_response(errors);
  spec->clear_server_links();
  auto job = co_await admit_one(app, request, *spec, errors);
  if (!job) co_return field_errors_response(errors);
  if (auto limited = co_await app.access.admit_submissions(request.identity, 1)) co_return std::move(*limited);
  if (key) job->id = job_id_for(key->scope);
  auto created = co_await create_or_find(app, std::move(*job), create_bounds(app, request.identity),
                                        key != nullptr);
  if (!created) co_return store_error_response(created.error());
  const std::string location = "/jobs/" + created->id;
  HttpResponse response = json_response(202, accepted_json(*created));
  if (key) co_await remember(app, *key, response.body, location);
  response.headers.emplace_back("Location", location);
  co_return response;
}

asio::awaitable<HttpResponse> submit_batch(App& app, const HttpRequest& request, const PathParams&) {
  if (auto format = molecule_file_format(request.header("content-type"))) {
    co_return co_await submit_molecule_file_batch(app, request, *format);
  }
  auto idem = idempotency_of(request, "batch");
  if (auto* refused = std::get_if<HttpResponse>(&idem)) co_return std::move(*refused);
  const Idempotency* key = std::get_if<Idempotency>(&idem);
  if (key) {
    if (auto again = co_await replay(app, *key)) co_return std::move(*again);
  }
  // The specs and the answer live in arenas: each is ~200,000 nodes for 10,000 jobs
  // (large_json.hpp says what freeing them one by one cost).
  auto body = co_await read_json_body_yielding(request, arena());
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  json::value& value = std::get<json::value>(body);
  const json::array* specs = value.if_array();
  if (!specs && value.is_object()) {
    if (auto* jobs = value.as_object().if_contains("jobs")) specs = jobs->if_array();
  }
  if (!specs || specs->empty())
    co_return error_response(422, "invalid_spec", "a batch is a non-empty JSON array of job specs (or {\"jobs\": [...]})");
  if (specs->size() > max_batch_jobs)
    co_return error_response(413, "batch_too_large",
                             "a batch holds at most " + std::to_string(max_batch_jobs) + " jobs, got " +
                                 std::to_string(specs->size()));
  auto executor = co_await asio::this_coro::executor;
  // All or nothing: every spec is validated before any job is created. Validating thousands
  // takes a while: other requests run between every few.
  FieldErrors errors;
  // One id groups the batch (GET /batches/{id}); a retry with the same Idempotency-Key gets the
  // same. Its jobs' ids are made from it (core/job_id.hpp).
  const std::string batch_id =
      key ? batch_id_for(key->scope + ":batch", specs->size()) : new_batch_id(specs->size());
  // Not one vector: 10,000 specs are 10 MB, and jemalloc hands a block past 8 MB back to the
  // kernel as soon as it is freed (~1.5 ms of the loop's time, and as long again faulting
  // it in). Every loop over the batch's jobs below takes turns with the rest of the loop.
  std::deque<JobSpec> parsed;
  bool chemistry = false;
  for (std::size_t i = 0; i < specs->size(); ++i) {
    co_await take_turn();
    if (auto spec = parse_spec(app, (*specs)[i], "[" + std::to_string(i) + "].", errors)) {
      if (!spec->depends_on.empty()) {
        // A batch is created in pieces, in parallel with Redis: dependencies take POST /workflows.
        errors.push_back({"[" + std::to_string(i) + "].depends_on",
                          "jobs of a batch cannot depend on other jobs; submit them as a workflow (POST /workflows)"});
        continue;
      }
      spec->clear_server_links();
      spec->batch_id = batch_id;
      chemistry = chemistry || needs_chemistry(*spec);
      parsed.push_back(std::move(*spec));
    }
  }
  if (!errors.empty()) co_return field_errors_response(errors);
  co_await release_yielding(value);  // what the jobs need of it is in their specs now
  // From here on the k-th spec is the batch's k-th.
  std::vector<FieldErrors> problems;
  if (chemistry) {
    const std::size_t max_atoms = app.settings.max_atoms;
    problems = co_await app.chemistry.run([&parsed, max_atoms] {
      std::vector<FieldErrors> found;
      for (JobSpec& spec : parsed) found.push_back(needs_chemistry(spec) ? complete_molecule(spec, max_atoms) : FieldErrors{});
      return found;
    });
  }
  std::deque<Job> jobs;
  for (std::size_t k = 0; k < parsed.size(); ++k) {
    // Admitting 10,000 jobs took ~50 ms.
    co_await take_turn();
    FieldErrors found = chemistry ? std::move(problems[k]) : FieldErrors{};
    if (auto job = admit(app, request, parsed[k], std::move(found), "[" + std::to_string(k) + "].", errors)) {
      job->id = batch_job_id(batch_id, k);
      jobs.push_back(std::move(*job));
    }
    parsed[k] = JobSpec{};  // the job holds what it needs of its spec: not both at once
  }
  if (!errors.empty()) co_return field_errors_response(errors);
  co_await release_taking_turns(parsed);
  const std::size_t count = jobs.size();
  if (auto limited = co_await app.access.admit_submissions(request.identity, count)) co_return std::move(*limited);
  const CreateBounds bounds = create_bounds(app, request.identity);
  if (auto refused = co_await refuse_batch_over_quota(app, request.identity, bounds, count))
    co_return std::move(*refused);
  json::array accepted(arena());
  if (!app.store.pipelines()) {
    accepted.reserve(count);
    while (!jobs.empty()) {
      co_await take_turn();
      auto created = co_await create_or_find(app, std::move(jobs.front()), bounds, key != nullptr);
      jobs.pop_front();
      if (!created) co_return partial_batch_error(created.error(), accepted.size());
      accepted.push_back(accepted_json(*created, accepted.storage()));
    }
  } else {
    // Creates overlap: with Redis they are pipelined on one connection instead of waiting a
    // round trip each.
    auto batch = std::make_shared<BatchCreation>(executor, count, accepted.storage());
    auto wait_for_answer = [&batch]() {
      return batch->answered.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    for (std::size_t i = 0; !jobs.empty() && !batch->failure; ++i) {
      co_await take_turn();
      while (batch->out >= creates_in_flight) co_await wait_for_answer();
      ++batch->out;
      asio::co_spawn(executor, create_into(app, std::move(jobs.front()), bounds, batch, i, key != nullptr),
                     asio::detached);
      jobs.pop_front();
    }
    while (batch->out > 0) co_await wait_for_answer();
    // A failure midway reports how many jobs were created before it (every one before it was).
    if (batch->failure) co_return partial_batch_error(batch->failure->second, batch->failure->first);
    accepted = std::move(batch->entries);
  }
  json::value answer(json::object_kind, accepted.storage());
  answer.as_object()["batch_id"] = batch_id;
  answer.as_object()["jobs"] = std::move(accepted);
  HttpResponse response;
  response.status = 202;
  // Each job's entry is ~130 bytes of text.
  response.body = co_await serialize_yielding(answer, 160 * (count + 1));
  co_await release_yielding(answer);
  if (key) co_await remember(app, *key, response.body, {});
  co_return response;
}

std::variant<ListQuery, HttpResponse> read_list_query(const HttpRequest& request) {
  ListQuery query;
  json::array problems;
  const auto q = request.query();
  if (auto state = query_param(q, "state")) {
    query.state = parse_job_state(*state);
    if (!query.state)
      problems.push_back(json::object{{"field", "state"}, {"message", unknown_state_message(*state)}});
  }
  if (auto engine = query_param(q, "engine")) query.engine = *engine;
  if (auto tag = query_param(q, "tag")) query.tag = *tag;
  // Every calculation on one molecule: its InChIKey is indexed like a tag (one tag filter a query).
  if (auto inchikey = query_param(q, "inchikey")) {
    if (query.tag) {
      problems.push_back(json::object{{"field", "inchikey"}, {"message", "filter by tag or by inchikey, not both at once"}});
    } else {
      query.tag = inchikey_tag(*inchikey);
    }
  }
  // One's own jobs; an administrator sees everyone's, or one owner's with ?owner=. Anyone else
  // may name only themselves: another owner is refused, not quietly answered with one's own.
  query.owner = request.identity.confined_to();
  if (auto owner = query_param(q, "owner")) {
    if (owner->empty())
      problems.push_back(json::object{{"field", "owner"}, {"message", "owner names an API key or token subject"}});
    else if (request.identity.admin())
      query.owner = *owner;
    else if (*owner != request.identity.name)
      return error_response(403, "insufficient_scope",
                            "only an administrator (scope admin) lists another owner's jobs; without ?owner= "
                            "the list is your own");
  }
  if (auto limit = query_param(q, "limit")) {
    std::size_t n = 0;
    auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc{} || ptr != limit->data() + limit->size() || n < 1 || n > 1000)
      problems.push_back(json::object{{"field", "limit"}, {"message", "limit is a whole number from 1 to 1000"}});
    else
      query.limit = n;
  }
  if (auto cursor = query_param(q, "cursor")) query.cursor = *cursor;
  if (!problems.empty()) return error_response(400, "invalid_parameter", "the query parameters are invalid", std::move(problems));
  return query;
}

asio::awaitable<HttpResponse> list_jobs(App& app, const HttpRequest& request, const PathParams&) {
  auto read = read_list_query(request);
  if (auto* refused = std::get_if<HttpResponse>(&read)) co_return std::move(*refused);
  ListQuery& query = std::get<ListQuery>(read);
  auto page = co_await app.store.list(std::move(query));
  if (!page) co_return store_error_response(page.error());
  json::array jobs;
  jobs.reserve(page->jobs.size());
  for (const auto& job : page->jobs) jobs.push_back(job_status_json(job));
  json::value next = page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor);
  co_return json_response(200, json::object{{"jobs", std::move(jobs)}, {"next_cursor", std::move(next)}});
}

namespace {

// The same answer as for a job that does not exist.
StoreError hidden_job(const std::string& id) { return StoreError{StoreErrc::not_found, "no job " + id, {}}; }
HttpResponse hidden_job_response(const std::string& id) { return store_error_response(hidden_job(id)); }

}  // namespace

asio::awaitable<Result<Job>> get_visible_job(App& app, const HttpRequest& request, std::string id) {
  Result<Job> job = co_await app.store.get(id);
  if (job && !request.identity.sees_owner(job->owner)) co_return hidden_job(id);
  co_return job;
}

asio::awaitable<std::optional<HttpResponse>> hide_unless_visible(App& app, const HttpRequest& request,
                                                                 std::string id) {
  if (request.identity.admin()) co_return std::nullopt;
  Result<Job> job = co_await get_visible_job(app, request, std::move(id));
  if (!job) co_return store_error_response(job.error());
  co_return std::nullopt;
}

asio::awaitable<HttpResponse> get_job(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  json::object body = job_to_json(*job);
  // The jobs that went on from this one (POST /jobs/{id}/continue), found by their index tag:
  // only a failed job can have any.
  if (job->state == JobState::failed) {
    ListQuery query;
    query.tag = continues_tag(job->id);
    query.limit = 20;
    if (auto page = co_await app.store.list(query); page && !page->jobs.empty()) {
      json::array ids;
      for (const Job& next : page->jobs) ids.emplace_back(next.id);
      body["continued_by"] = std::move(ids);
    }
  }
  co_return json_response(200, body);
}

// The spec a job runs again with: `changes` (keywords merged over its own, a null dropping one;
// timeout_s) applied to the stored spec; errors under the changed fields.
std::optional<JobSpec> spec_for_retry(const App& app, const json::object& stored, const json::object& changes,
                                      FieldErrors& errors) {
  json::object spec = stored;
  for (const auto& [key, value] : changes) {
    if (key == "keywords") {
      if (!value.is_object()) {
        errors.push_back({"keywords", "expected an object of keywords to change (null drops one)"});
        continue;
      }
      json::object keywords = spec.contains("keywords") && spec.at("keywords").is_object() ? spec.at("keywords").as_object()
                                                                                           : json::object{};
      for (const auto& [name, setting] : value.get_object()) {
        if (setting.is_null()) keywords.erase(name);
        else keywords[name] = setting;
      }
      spec["keywords"] = std::move(keywords);
    } else if (key == "timeout_s") {
      spec["timeout_s"] = value;
    } else {
      errors.push_back({std::string(key), "a retry changes keywords and timeout_s only; submit a new job for anything else"});
    }
  }
  if (!errors.empty()) return std::nullopt;
  spec.erase("calculation");  // stamped again below: the keywords may have changed
  auto parsed = parse_spec(app, json::value(std::move(spec)), "", errors);
  if (!parsed) return std::nullopt;
  for (FieldError& problem : engine_problems(app, *parsed)) errors.push_back(std::move(problem));
  if (!errors.empty()) return std::nullopt;
  stamp_calculation(app, *parsed);
  return parsed;
}

// POST /jobs/{id}/retry: a failed or cancelled job runs again, the same job with its history,
// optionally with changed keywords or time limit (what changed is in the `retrying` event).
asio::awaitable<HttpResponse> retry_job(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  json::object changes;
  if (!request.body.empty()) {
    auto body = read_json_body(request);
    if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
    json::value& value = std::get<json::value>(body);
    if (!value.is_object())
      co_return error_response(422, "invalid_spec", "a retry's body is an object: {\"keywords\": {...}, \"timeout_s\": ...}");
    changes = std::move(value.as_object());
  }
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  if (job->state != JobState::failed && job->state != JobState::cancelled)
    co_return error_response(409, "invalid_state",
                             "job " + job->id + " is " + std::string(to_string(job->state)) +
                                 ": only a failed or cancelled job runs again",
                             json::array{json::object{{"state", to_string(job->state)}}});
  const json::value* molecule = job->spec.if_contains("molecule");
  if (molecule && molecule->is_object() && !molecule->get_object().contains("xyz"))
    co_return error_response(409, "invalid_state",
                             "job " + job->id + " never got its molecule (a job it depends on did not complete): "
                                                "retry that job, or submit this one again");
  FieldErrors errors;
  auto spec = spec_for_retry(app, job->spec, changes, errors);
  if (!spec) co_return field_errors_response(errors);
  if (auto limited = co_await app.access.admit_submissions(request.identity, 1)) co_return std::move(*limited);
  json::object event{{"by", "request"}, {"attempt", job->attempts + 1}};
  if (!changes.empty()) event["changed"] = changes;
  if (job->error.is_object()) {
    if (const json::value* code = job->error.as_object().if_contains("code")) event["after"] = *code;
  }
  json::object new_spec = changes.empty() ? json::object{} : spec->to_json();
  auto retried = co_await app.store.retry(job->id, std::move(new_spec), std::move(event));
  if (!retried) co_return store_error_response(retried.error());
  HttpResponse response = json_response(202, accepted_json(*retried));
  response.headers.emplace_back("Location", "/jobs/" + retried->id);
  co_return response;
}

// A failed optimization (out of cycles, out of time) goes on from the geometry it reached, with
// the same spec, as a new job that points back at it (continued_from; it gets continued_by).
asio::awaitable<HttpResponse> continue_job(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  const json::value* last = job->error.is_object() ? job->error.get_object().if_contains("last_xyz") : nullptr;
  if (job->state != JobState::failed || !last || !last->is_string()) {
    co_return error_response(409, "nothing_to_continue",
                             "job " + job->id + " is " + std::string(to_string(job->state)) +
                                 " and has no last geometry to go on from: only an optimization that failed out of "
                                 "cycles or out of time has one",
                             json::array{json::object{{"state", to_string(job->state)}}});
  }
  json::object spec = job->spec;
  spec["molecule"] = json::object{{"xyz", *last}};
  spec.erase("batch_id");
  // It goes on from this job alone: not part of its workflow, waiting on nothing.
  spec.erase("depends_on");
  spec.erase("workflow_id");
  spec.erase("workflow_node");
  FieldErrors errors;
  auto parsed = parse_spec(app, json::value(std::move(spec)), "", errors);
  if (!parsed) co_return field_errors_response(errors);
  parsed->continued_from = job->id;
  auto next = co_await admit_one(app, request, *parsed, errors);
  if (!next) co_return field_errors_response(errors);
  if (auto limited = co_await app.access.admit_submissions(request.identity, 1)) co_return std::move(*limited);
  auto created = co_await create_or_find(app, std::move(*next), create_bounds(app, request.identity), false);
  if (!created) co_return store_error_response(created.error());
  json::object answer = accepted_json(*created);
  answer["continued_from"] = job->id;
  HttpResponse response = json_response(202, answer);
  response.headers.emplace_back("Location", "/jobs/" + created->id);
  co_return response;
}

asio::awaitable<HttpResponse> get_status(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  const std::string job_id(id);
  HttpResponse response;
  if (app.status_cache) {
    if (auto cached = app.status_cache->find(job_id)) {
      if (!request.identity.sees_owner(cached->owner)) co_return hidden_job_response(job_id);
      response.body = std::move(cached->json);
      co_return response;
    }
  }
  const std::uint64_t generation = app.status_cache ? app.status_cache->generation() : 0;
  auto status = co_await app.store.status_json(job_id);
  if (!status) co_return store_error_response(status.error());
  if (app.status_cache) app.status_cache->put(job_id, *status, generation);
  if (!request.identity.sees_owner(status->owner)) co_return hidden_job_response(job_id);
  response.body = std::move(status->json);
  co_return response;
}

// The Cartesian Hessian xtb wrote (its `hessian` artifact), read chunk by chunk.
asio::awaitable<std::optional<std::vector<double>>> stored_hessian(App& app, const std::string& id) {
  constexpr std::uint64_t most = 256ull << 20;  // ~5,000 atoms
  std::string text;
  while (text.size() < most) {
    auto chunk = co_await app.store.read_artifact(id, "hessian", text.size(), artifact_chunk_bytes);
    if (!chunk) co_return std::nullopt;
    if (chunk->empty()) break;
    text += *chunk;
  }
  co_return parse_turbomole_hessian(text);
}

// GET /jobs/{id}/result?format=qcschema: the finished job as QCSchema (core/qcschema.hpp).
asio::awaitable<HttpResponse> qcschema_response(App& app, const Job& job) {
  if (!is_terminal(job.state) || job.state == JobState::cancelled) {
    co_return error_response(409, "not_finished",
                             "job " + job.id + " is " + std::string(to_string(job.state)) + " and has no QCSchema result",
                             json::array{json::object{{"state", to_string(job.state)}}});
  }
  std::optional<std::vector<double>> hessian;
  if (job.state == JobState::completed && job.engine() == "xtb" && job.spec.contains("task") &&
      job.spec.at("task") == "hessian") {
    hessian = co_await stored_hessian(app, job.id);
  }
  auto document = qcschema_result(job, hessian ? &*hessian : nullptr);
  if (auto* why = std::get_if<std::string>(&document)) co_return error_response(409, "no_qcschema_result", *why);
  co_return json_response(200, std::get<json::object>(document));
}

asio::awaitable<HttpResponse> get_result(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  const auto format = query_param(request.query(), "format");
  if (format && *format != "qcschema" && *format != "nox") {
    co_return error_response(400, "invalid_parameter", "format is nox (the default) or qcschema, got " + nox::quoted(*format));
  }
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  if (format == "qcschema") co_return co_await qcschema_response(app, *job);
  if (job->state == JobState::completed)
    co_return json_response(200, json::object{{"job_id", job->id}, {"result", job->result}});
  json::array details{json::object{{"state", to_string(job->state)}}};
  if (!job->error.is_null()) details.push_back(json::object{{"error", job->error}});
  co_return error_response(409, job->state == JobState::failed ? "job_failed" : "not_finished",
                           "job " + job->id + " is " + std::string(to_string(job->state)) + " and has no result",
                           std::move(details));
}

asio::awaitable<HttpResponse> cancel_job(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  if (auto hidden = co_await hide_unless_visible(app, request, std::string(id))) co_return std::move(*hidden);
  auto job = co_await app.store.cancel(std::string(id));
  if (app.status_cache) app.status_cache->invalidate(std::string(id));
  if (!job) co_return store_error_response(job.error());
  app.dispatcher.cancel_local(job->id);
  co_return json_response(200, job_status_json(*job));
}

asio::awaitable<HttpResponse> delete_job(App& app, const HttpRequest& request, const PathParams& params) {
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  if (auto hidden = co_await hide_unless_visible(app, request, std::string(id))) co_return std::move(*hidden);
  auto removed = co_await app.store.remove(std::string(id));
  if (app.status_cache) app.status_cache->invalidate(std::string(id));
  if (!removed) co_return store_error_response(removed.error());
  HttpResponse response;
  response.status = 204;
  response.content_type.clear();
  co_return response;
}

}  // namespace nox::routes
