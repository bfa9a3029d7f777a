// Workflows: POST /workflows takes a graph of jobs with local names ("ff" -> "opt" -> "hess"),
// refuses cycles and unknown names before anything is made, and creates the jobs parents first
// with `depends_on` and `molecule.from_job` pointing at their parents' ids (the waiting itself is
// server/dependencies.hpp); GET /workflows/{id} gives the graph with each job's state. The jobs
// of a workflow carry its id and their name (spec.workflow_id, spec.workflow_node), indexed as
// the reserved tag "workflow:<id>".
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/job_id.hpp"
#include "core/json_serialize.hpp"
#include "core/json_text.hpp"
#include "core/quoted.hpp"
#include "server/api_error.hpp"
#include "server/request_body.hpp"
#include "server/routes/job_admission.hpp"
#include "server/routes/routes.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t max_workflow_jobs = 1000;
constexpr std::size_t max_node_name = 64;
constexpr std::size_t max_workflow_name = 200;

bool is_node_name(std::string_view name) {
  return !name.empty() && name.size() <= max_node_name && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.';
         });
}

// One job of the submitted graph: its spec as sent, and the names of its parents in the graph.
struct Node {
  std::string name;
  json::object spec;
  std::vector<std::string> parents;  // local names, in the order given
};

// The local name a spec's depends_on entry or from_job refers to, if it is one.
const std::string* local_name(const json::value& v, const std::map<std::string, std::size_t>& index) {
  if (!v.is_string()) return nullptr;
  auto it = index.find(std::string(v.get_string()));
  return it == index.end() ? nullptr : &it->first;
}

json::value* from_job_of(json::object& spec) {
  json::value* molecule = spec.if_contains("molecule");
  return molecule && molecule->is_object() ? molecule->get_object().if_contains("from_job") : nullptr;
}

// The string member `key` in lower case (the spec's parser matches these case-insensitively).
std::string lower_text(const json::object& o, std::string_view key) {
  std::string text = text_of(o, key);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool wants_optimized_geometry(const json::object& spec) {
  const json::object& molecule = spec.at("molecule").get_object();
  const json::value* geometry = molecule.if_contains("geometry");
  if (!geometry || geometry->is_null()) return true;
  return lower_text(molecule, "geometry") == "optimized";  // not a string: the spec's parser says so
}

// Parents before children, in the order given where the graph leaves a choice; the names left
// over (those on a cycle, or after one) when it has a cycle.
std::pair<std::vector<std::size_t>, std::vector<std::string>> parents_first(const std::vector<Node>& nodes,
                                                                           const std::map<std::string, std::size_t>& index) {
  std::vector<std::size_t> waiting(nodes.size());
  std::vector<std::vector<std::size_t>> children(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    waiting[i] = nodes[i].parents.size();
    for (const std::string& parent : nodes[i].parents) children[index.at(parent)].push_back(i);
  }
  std::vector<std::size_t> order;
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (waiting[i] == 0) ready.insert(i);
  while (!ready.empty()) {
    const std::size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (std::size_t child : children[next])
      if (--waiting[child] == 0) ready.insert(child);
  }
  std::vector<std::string> left;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (waiting[i] > 0) left.push_back(nodes[i].name);
  return {std::move(order), std::move(left)};
}

// The graph's shape: names, parents, cycles. The specs themselves are checked afterwards.
std::variant<std::vector<Node>, HttpResponse> read_graph(const json::object& jobs) {
  FieldErrors errors;
  std::vector<Node> nodes;
  std::map<std::string, std::size_t> index;
  for (const auto& [key, value] : jobs) {
    const std::string name(key);
    if (!is_node_name(name)) {
      errors.push_back({"jobs." + name, "a job's name in a workflow is 1 to 64 letters, digits, '_', '-' or '.'"});
      continue;
    }
    if (!value.is_object()) {
      errors.push_back({"jobs." + name, "expected a job spec (an object)"});
      continue;
    }
    index.emplace(name, nodes.size());
    nodes.push_back({name, value.get_object(), {}});
  }
  if (!errors.empty()) return error_response(422, "invalid_workflow", errors.front().field + ": " + errors.front().message,
                                             json::array{json::object{{"field", errors.front().field}, {"message", errors.front().message}}});
  for (Node& node : nodes) {
    const std::string where = "jobs." + node.name + ".";
    auto add_parent = [&](const std::string& parent) {
      if (std::find(node.parents.begin(), node.parents.end(), parent) == node.parents.end()) node.parents.push_back(parent);
    };
    if (const json::value* parents = node.spec.if_contains("depends_on"); parents && parents->is_array()) {
      const json::array& list = parents->get_array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (const std::string* parent = local_name(list[i], index)) {
          add_parent(*parent);
        } else if (!list[i].is_string() || !is_valid_job_id(list[i].get_string())) {
          errors.push_back({where + "depends_on[" + std::to_string(i) + "]",
                            "no job named " + (list[i].is_string() ? quoted(list[i].get_string()) : serialize_json(list[i])) +
                                " in this workflow (and not a job id)"});
        }
      }
    }
    if (const json::value* from = from_job_of(node.spec)) {
      if (const std::string* parent = local_name(*from, index)) {
        add_parent(*parent);
        // Known before anything is made (a parent outside the workflow is checked at admission).
        const json::object& parent_spec = nodes[index.at(*parent)].spec;
        const std::string task = parent_spec.contains("task") ? lower_text(parent_spec, "task") : "energy";
        if (wants_optimized_geometry(node.spec) && task != "optimize" && task != "optimize_hessian")
          errors.push_back({where + "molecule.from_job", "job " + *parent + " is a " + task +
                                                             " job and optimizes no geometry; ask for \"geometry\": "
                                                             "\"input\" to take the one it starts from"});
      } else if (!from->is_string() || !is_valid_job_id(from->get_string())) {
        errors.push_back({where + "molecule.from_job", "no job named " +
                                                           (from->is_string() ? quoted(from->get_string()) : serialize_json(*from)) +
                                                           " in this workflow (and not a job id)"});
      }
    }
  }
  auto [order, left] = parents_first(nodes, index);
  if (!left.empty()) {
    std::string names;
    for (const std::string& n : left) names += (names.empty() ? "" : ", ") + n;
    for (const std::string& n : left)
      errors.push_back({"jobs." + n + ".depends_on", "the jobs " + names + " wait on each other in a cycle"});
  }
  if (!errors.empty()) {
    json::array details;
    for (const auto& e : errors) details.push_back(json::object{{"field", e.field}, {"message", e.message}});
    const std::string message = errors.size() == 1 ? errors.front().field + ": " + errors.front().message
                                                   : std::to_string(errors.size()) + " problems with the workflow's graph";
    return error_response(422, "invalid_workflow", message, std::move(details));
  }
  std::vector<Node> sorted;
  for (std::size_t i : order) sorted.push_back(std::move(nodes[i]));
  return sorted;
}

// The jobs of a workflow, parents before children (in order of creation where that leaves a choice).
std::vector<Job> parents_first(std::vector<Job> jobs, const std::map<std::string, std::string>& name_of) {
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.created_at < b.created_at; });
  std::vector<Node> nodes;
  std::map<std::string, std::size_t> index;
  for (const Job& job : jobs) {
    Node node{name_of.at(job.id), {}, {}};
    if (const json::value* list = job.spec.if_contains("depends_on"); list && list->is_array())
      for (const json::value& parent : list->get_array())
        if (auto it = parent.is_string() ? name_of.find(std::string(parent.get_string())) : name_of.end(); it != name_of.end())
          node.parents.push_back(it->second);
    index.emplace(node.name, nodes.size());
    nodes.push_back(std::move(node));
  }
  if (index.size() != nodes.size()) return jobs;  // names not unique: not a graph Nox made
  auto [order, left] = parents_first(nodes, index);
  std::vector<Job> sorted;
  for (std::size_t i : order) sorted.push_back(std::move(jobs[i]));
  for (const std::string& name : left) sorted.push_back(std::move(jobs[index.at(name)]));
  return sorted;
}

// The spec with the parents' local names replaced by the ids their jobs will have.
json::object with_parent_ids(json::object spec, const std::map<std::string, std::string>& ids) {
  auto id_of = [&](json::value& v) {
    if (!v.is_string()) return;
    if (auto it = ids.find(std::string(v.get_string())); it != ids.end()) v = it->second;
  };
  if (json::value* parents = spec.if_contains("depends_on"); parents && parents->is_array())
    for (json::value& parent : parents->get_array()) id_of(parent);
  if (json::value* from = from_job_of(spec)) id_of(*from);
  return spec;
}

// The workflow as a whole: completed when every job did, failed or cancelled once nothing is
// left to run and one did not complete, running while some job runs or has finished, else pending.
std::string workflow_state(const std::map<std::string, std::size_t>& counts, std::size_t total) {
  auto n = [&](const char* state) {
    auto it = counts.find(state);
    return it == counts.end() ? std::size_t{0} : it->second;
  };
  const std::size_t finished = n("completed") + n("failed") + n("cancelled");
  if (finished == total) {
    if (n("completed") == total) return "completed";
    return n("failed") > 0 ? "failed" : "cancelled";
  }
  return n("running") > 0 || finished > 0 ? "running" : "pending";
}

// Cancels the jobs of a workflow refused midway (a root may already have started).
asio::awaitable<void> take_back(App& app, const std::vector<std::string>& created) {
  for (const std::string& id : created) {
    auto cancelled = co_await app.store.cancel(id);
    if (cancelled) app.dispatcher.cancel_local(id);
  }
}

}  // namespace

asio::awaitable<HttpResponse> submit_workflow(App& app, const HttpRequest& request, const PathParams&) {
  auto body = read_json_body(request);
  if (auto* error = std::get_if<HttpResponse>(&body)) co_return std::move(*error);
  const json::object* root = std::get<json::value>(body).if_object();
  const json::value* jobs = root ? root->if_contains("jobs") : nullptr;
  if (!jobs || !jobs->is_object() || jobs->get_object().empty())
    co_return error_response(422, "invalid_workflow",
                             "a workflow is {\"name\": ..., \"jobs\": {\"<name>\": <job spec>, ...}} with at least one job");
  for (const auto& [key, value] : *root) {
    if (key != "jobs" && key != "name")
      co_return error_response(422, "invalid_workflow", "unknown field " + quoted(key) + "; a workflow takes name and jobs",
                               json::array{json::object{{"field", key}, {"message", "unknown field"}}});
  }
  if (jobs->get_object().size() > max_workflow_jobs)
    co_return error_response(413, "workflow_too_large", "a workflow holds at most " + std::to_string(max_workflow_jobs) +
                                                            " jobs, got " + std::to_string(jobs->get_object().size()));
  std::string name;
  if (const json::value* n = root->if_contains("name"); n && !n->is_null()) {
    if (!n->is_string() || n->get_string().size() > max_workflow_name)
      co_return error_response(422, "invalid_workflow", "name: expected a text of at most 200 characters",
                               json::array{json::object{{"field", "name"}, {"message", "expected a text of at most 200 characters"}}});
    name = std::string(n->get_string());
  }
  co_return co_await submit_graph(app, request, std::move(name), jobs->get_object());
}

asio::awaitable<HttpResponse> submit_graph(App& app, const HttpRequest& request, std::string name,
                                           const json::object& jobs) {
  auto graph = read_graph(jobs);
  if (auto* refused = std::get_if<HttpResponse>(&graph)) co_return std::move(*refused);
  std::vector<Node>& nodes = std::get<std::vector<Node>>(graph);

  // Every spec is parsed before any job is made; the ids are known in advance, so a child's
  // spec names its parents by id.
  const std::string workflow_id = new_job_id();
  std::map<std::string, std::string> ids;
  for (const Node& node : nodes) ids[node.name] = new_job_id();
  FieldErrors errors;
  std::vector<JobSpec> specs;
  for (const Node& node : nodes) {
    auto spec = parse_spec(app, json::value(with_parent_ids(node.spec, ids)), "jobs." + node.name + ".", errors);
    if (!spec) continue;
    spec->clear_server_links();
    spec->workflow_id = workflow_id;
    spec->workflow_node = node.name;
    if (spec->name.empty()) spec->name = node.name;  // what the job table shows
    if (!name.empty() && spec->labels.size() < 64 &&
        std::none_of(spec->labels.begin(), spec->labels.end(), [](const auto& l) { return l.first == "workflow"; }))
      spec->labels.emplace_back("workflow", name);
    specs.push_back(std::move(*spec));
  }
  if (!errors.empty()) co_return field_errors_response(errors);
  if (auto limited = co_await app.access.admit_submissions(request.identity, specs.size())) co_return std::move(*limited);
  const CreateBounds bounds = create_bounds(app, request.identity);
  if (auto refused = co_await refuse_batch_over_quota(app, request.identity, bounds, specs.size()))
    co_return std::move(*refused);

  // Parents first: a child's admission reads its parents from the store. A job refused on the
  // way (what only its engine's checks find) takes back the ones already made.
  std::vector<std::string> created_ids;
  json::array accepted;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto job = co_await admit_one(app, request, specs[i], errors, "jobs." + nodes[i].name + ".");
    if (!job) {
      co_await take_back(app, created_ids);
      co_return field_errors_response(errors);
    }
    job->id = ids[nodes[i].name];
    auto created = co_await create_or_find(app, std::move(*job), bounds, false);
    if (!created) {
      co_await take_back(app, created_ids);
      co_return store_error_response(created.error());
    }
    created_ids.push_back(created->id);
    json::object one = accepted_json(*created);
    one["name"] = nodes[i].name;
    if (!created->waiting_on.empty()) one["waiting_on"] = created->waiting_on;
    accepted.push_back(std::move(one));
  }
  const std::string url = "/workflows/" + workflow_id;
  HttpResponse response =
      json_response(202, json::object{{"workflow_id", workflow_id}, {"name", name}, {"url", url}, {"jobs", std::move(accepted)}});
  response.headers.emplace_back("Location", url);
  co_return response;
}

asio::awaitable<std::variant<std::vector<Job>, HttpResponse>> workflow_jobs(App& app, const HttpRequest& request,
                                                                          const std::string& id) {
  if (!is_valid_job_id(id)) co_return error_response(404, "workflow_not_found", "no workflow " + id.substr(0, 64));
  ListQuery query;
  query.tag = workflow_tag(id);
  query.owner = request.identity.confined_to();
  query.limit = max_workflow_jobs;
  std::vector<Job> jobs;
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    auto page = co_await app.store.list(query);
    if (!page) co_return store_error_response(page.error());
    for (Job& job : page->jobs) jobs.push_back(std::move(job));
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
    co_await asio::post(executor, asio::use_awaitable);
  }
  if (jobs.empty()) co_return error_response(404, "workflow_not_found", "no workflow " + id + " (or none of its jobs is yours)");
  co_return jobs;
}

asio::awaitable<HttpResponse> get_workflow(App& app, const HttpRequest& request, const PathParams& params) {
  const std::string id(params.get("id"));
  auto found = co_await workflow_jobs(app, request, id);
  if (auto* refused = std::get_if<HttpResponse>(&found)) co_return std::move(*refused);
  std::vector<Job>& jobs = std::get<std::vector<Job>>(found);
  std::map<std::string, std::string> name_of;
  for (const Job& job : jobs) name_of[job.id] = text_of(job.spec, "workflow_node");
  jobs = parents_first(std::move(jobs), name_of);
  auto node_name = [&](const std::string& job_id) {
    auto it = name_of.find(job_id);
    return it == name_of.end() ? job_id : it->second;  // a parent outside the workflow: its id
  };
  std::map<std::string, std::size_t> counts;
  json::array nodes, edges;
  std::string name;
  for (const Job& job : jobs) {
    ++counts[std::string(to_string(job.state))];
    if (const json::value* labels = job.spec.if_contains("labels"); labels && labels->is_object() && name.empty())
      name = text_of(labels->get_object(), "workflow");
    const std::string child = node_name(job.id);
    std::string from_job;
    if (const json::value* molecule = job.spec.if_contains("molecule"); molecule && molecule->is_object())
      from_job = text_of(molecule->get_object(), "from_job");
    json::array parents;
    if (const json::value* list = job.spec.if_contains("depends_on"); list && list->is_array()) {
      for (const json::value& parent : list->get_array()) {
        if (!parent.is_string()) continue;
        const std::string parent_id(parent.get_string());
        parents.emplace_back(node_name(parent_id));
        edges.push_back(json::object{{"from", node_name(parent_id)}, {"to", child}, {"geometry", parent_id == from_job}});
      }
    }
    json::object node{{"name", child},
                      {"job_id", job.id},
                      {"state", to_string(job.state)},
                      {"engine", text_of(job.spec, "engine")},
                      {"task", text_of(job.spec, "task")},
                      {"method", text_of(job.spec, "method")},
                      {"depends_on", std::move(parents)},
                      {"from_job", from_job.empty() ? json::value(nullptr) : json::value(node_name(from_job))},
                      {"error", job.error.is_object() ? job.error : json::value(nullptr)},
                      {"url", "/jobs/" + job.id}};
    if (!job.waiting_on.empty()) node["waiting_on"] = node_name(job.waiting_on);
    nodes.push_back(std::move(node));
  }
  json::object by_state;
  for (const auto& [state, n] : counts) by_state[state] = n;
  co_return json_response(200, json::object{{"workflow_id", id},
                                            {"name", name},
                                            {"state", workflow_state(counts, jobs.size())},
                                            {"total", jobs.size()},
                                            {"counts", std::move(by_state)},
                                            {"jobs", std::move(nodes)},
                                            {"edges", std::move(edges)},
                                            {"jobs_url", "/jobs?tag=" + workflow_tag(id)}});
}

}  // namespace nox::routes
