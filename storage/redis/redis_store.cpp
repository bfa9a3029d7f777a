#include "storage/redis/redis_store.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <stdexcept>

#include "core/job_id.hpp"
#include "core/json_serialize.hpp"
#include "core/json_text.hpp"
#include "server/loop_turns.hpp"
#include "storage/redis/job_blob.hpp"
#include "storage/redis/script_replies.hpp"
#include "storage/redis/scripts.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace boost::asio::experimental::awaitable_operators;
using redis::Command;
using redis::Reply;
using redis::ReplyArray;
using redis::item;
using redis::nil_reply;
using redis::refusal;
using redis::status_of;
using redis::text_or;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Wake tokens kept for idle instances; claim clears the list when the queue runs empty.
constexpr std::size_t wake_cap = 1024;
constexpr std::size_t script_batch = 200;
constexpr const char* redis_layout = "2";  // of the records and indexes (lib.lua, job_blob.hpp)  // entries a requeue/sweep script handles per call

constexpr const char* script_names[] = {"create",          "claim",         "renew",     "finish",
                                        "cancel",          "remove",        "progress",  "requeue_expired",
                                        "sweep_retention", "put_artifacts", "heartbeat", "workers",
                                        "take_tokens",     "resolve_waiting", "promote_due", "retry",
                                        "queue_overview",  "schedule_save",   "queue_control", "copy_artifacts"};

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

// A record (GET's reply, or one a script returned) -> Job; not_found for nil.
Result<Job> job_from_blob(const Reply& reply, std::string_view id,
                          job_blob::Unpack what = job_blob::Unpack::spec_and_result,
                          std::string* spec_json = nullptr) {
  const std::string* blob = reply.text();
  if (!blob) return not_found("no job " + std::string(id));
  try {
    return job_blob::decode(*blob, id, what, spec_json);
  } catch (const std::exception& e) {
    return unavailable("the stored record of job " + std::string(id) + " is unreadable: " + e.what());
  }
}

using StreamId = EventSequence;

// One stream entry [id, [field, value, ...]] -> JobEvent; nullopt for an entry we did not write.
std::optional<JobEvent> event_from_entry(const Reply& entry) {
  const std::string* id = item(entry, 0).text();
  const ReplyArray* fields = item(entry, 1).array();
  if (!id || !fields) return std::nullopt;
  JobEvent event;
  event.id = *id;
  bool has_type = false;
  bool has_state = false;
  for (std::size_t i = 0; i + 1 < fields->size(); i += 2) {
    const std::string* name = (*fields)[i].text();
    const std::string* value = (*fields)[i + 1].text();
    if (!name || !value) continue;
    if (*name == "type") {
      auto type = parse_event_type(*value);
      if (!type) return std::nullopt;
      event.type = *type;
      has_type = true;
    } else if (*name == "job_id") {
      event.job_id = *value;
    } else if (*name == "state") {
      auto state = parse_job_state(*value);
      if (!state) return std::nullopt;
      event.state = *state;
      has_state = true;
    } else if (*name == "time") {
      event.time = (*fields)[i + 1].integer().value_or(0);
    } else if (*name == "data") {
      boost::system::error_code ec;
      json::value data = json::parse(*value, ec);
      if (!ec && data.is_object()) event.data = std::move(data.get_object());
    }
  }
  if (!has_type || !has_state) return std::nullopt;
  return event;
}

void append_events(const Reply& entries, std::vector<JobEvent>& out) {
  if (const ReplyArray* list = entries.array())
    for (const Reply& entry : *list)
      if (auto event = event_from_entry(entry)) out.push_back(std::move(*event));
}

// The value of `name` in a flat [name, value, ...] reply (XINFO STREAM).
const Reply& field_of(const Reply& reply, std::string_view name) {
  if (const ReplyArray* a = reply.array())
    for (std::size_t i = 0; i + 1 < a->size(); i += 2)
      if (const std::string* n = (*a)[i].text(); n && *n == name) return (*a)[i + 1];
  return nil_reply();
}

// True when events after `after` may have been trimmed away (or `after` is not from this log).
bool needs_reset(const StreamId& after, const Reply& info) {
  auto last = parse_event_id(text_or(field_of(info, "last-generated-id")));
  if (last && after > *last) return true;  // an id this log never issued
  const std::string* first_text = item(field_of(info, "first-entry"), 0).text();
  auto first = first_text ? parse_event_id(*first_text) : std::nullopt;
  if (!first) {
    // Empty log: only an id from before a trim down to nothing (or a lost log) is stale.
    return !last || after < *last;
  }
  if (!(after < *first)) return false;
  // Before the oldest kept entry: stale if anything was ever trimmed. Redis 7 counts the
  // entries ever added; older servers do not, and then any gap counts as a trim.
  const auto added = field_of(info, "entries-added").integer();
  const auto length = field_of(info, "length").integer();
  return !added || !length || *added > *length;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  const auto count = std::max<std::int64_t>(ms.count(), 1);  // 0 would mean "forever"
  std::string fraction = std::to_string(count % 1000);
  return std::to_string(count / 1000) + "." + std::string(3 - fraction.size(), '0') + fraction;
}

bool is_cursor_score(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

json::object worker_to_json(const WorkerInfo& w) {
  return {{"id", w.id},
          {"host", w.host},
          {"listen", w.listen},
          {"slots", w.slots},
          {"busy", w.busy},
          {"started_at", w.started_at},
          {"last_heartbeat", w.last_heartbeat},
          {"mode", to_string(w.mode)},
          {"tags", names_json(w.tags)},
          {"queues", names_json(w.queues)},
          {"engines_out", names_json(w.engines_out)}};
}

std::optional<WorkerInfo> worker_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  WorkerInfo w;
  auto str = [&](std::string_view k) {
    const json::value* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  auto num = [&](std::string_view k) -> std::int64_t {
    const json::value* x = o.if_contains(k);
    return x && x->is_int64() ? x->get_int64() : 0;
  };
  w.id = str("id");
  w.host = str("host");
  w.listen = str("listen");
  w.slots = static_cast<int>(num("slots"));
  w.busy = static_cast<int>(num("busy"));
  w.started_at = num("started_at");
  w.last_heartbeat = num("last_heartbeat");
  w.mode = parse_worker_mode(str("mode"));
  w.tags = names_of(o, "tags");
  w.queues = names_of(o, "queues");
  w.engines_out = names_of(o, "engines_out");
  return w;
}

}  // namespace

RedisStore::RedisStore(asio::any_io_executor executor, RedisStoreOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      base_(options_.prefix + ":{" + options_.prefix + "}:"),
      work_wait_done_(executor_, std::chrono::steady_clock::time_point::max()),
      event_wait_done_(executor_, std::chrono::steady_clock::time_point::max()) {
  auto parsed = redis::parse_url(options_.url);
  if (auto* error = std::get_if<redis::UrlError>(&parsed))
    throw std::invalid_argument("bad Redis URL: " + error->message);
  if (options_.prefix.empty() || options_.prefix.find_first_of("{}") != std::string::npos)
    throw std::invalid_argument("the Redis key prefix must be non-empty and without braces");
  if (options_.events_maxlen == 0) options_.events_maxlen = 1;

  redis::ConnectionConfig config;
  config.url = std::get<redis::Url>(parsed);
  config.command_timeout = options_.command_timeout;
  config.connect_timeout = options_.connect_timeout;
  config.client_name = "nox-commands";
  commands_ = redis::Connection::create(executor_, config);
  config.client_name = "nox-wait-work";
  work_waits_ = redis::Connection::create(executor_, config);
  config.client_name = "nox-wait-events";
  event_waits_ = redis::Connection::create(executor_, config);
  config.client_name = "nox-artifacts";
  artifacts_ = redis::Connection::create(executor_, config);
  config.client_name = "nox-reads";
  reads_ = redis::Connection::create(executor_, config);

  const std::string_view lib = redis::embedded_script("lib");
  for (int i = 0; i < script_count; ++i) {
    const std::string_view body = redis::embedded_script(script_names[i]);
    if (body.empty())
      throw std::logic_error(std::string("Redis script missing from the build: ") + script_names[i]);
    // Read-only or naturally idempotent scripts run as written; every other one runs at
    // most once per operation id (lib.lua's nox_once), its body unchanged inside a function.
    const std::string_view name = script_names[i];
    // Not replayed by operation id: reads, the heartbeat, and a rate limit's bucket (a
    // request whose bucket answer was lost is simply admitted or refused again).
    const bool once = name != "heartbeat" && name != "workers" && name != "take_tokens" && name != "queue_overview" &&
                      name != "queue_control" &&
                      name != "copy_artifacts";  // applying a change twice leaves what once does
    std::string source = std::string(lib) + "\n";
    if (once) {
      source += "local function nox_body()\n";
      source += body;
      source += "\nend\nreturn nox_once(nox_body)\n";
    } else {
      source += body;
    }
    scripts_[i] = LoadedScript{script_names[i], std::move(source), {}, once};
  }
}

std::variant<std::unique_ptr<RedisStore>, std::string> RedisStore::make(asio::any_io_executor executor,
                                                                        RedisStoreOptions options) {
  try {
    return std::make_unique<RedisStore>(std::move(executor), std::move(options));
  } catch (const std::invalid_argument& e) {
    return std::string(e.what());
  }
}

RedisStore::~RedisStore() { stop(); }

void RedisStore::stop() {
  stopped_ = true;
  commands_->close();
  work_waits_->close();
  event_waits_->close();
  artifacts_->close();
  reads_->close();
  work_wait_done_.cancel();
  event_wait_done_.cancel();
}

asio::awaitable<Result<Done>> RedisStore::start(std::chrono::milliseconds max_wait) {
  commands_->start();
  work_waits_->start();
  event_waits_->start();
  artifacts_->start();
  reads_->start();
  const bool up = co_await commands_->wait_connected(max_wait);
  if (!up)
    co_return unavailable("Redis is not reachable at " + redis::redacted(commands_->config().url) + ": " +
                          commands_->last_error());
  // Records are read and written in layout 2 (job_blob.hpp): a Redis holding records of an
  // older Nox (layout 1: hashes, and the `jobs` index) is refused rather than misread.
  Command layout;
  layout.push({"GET", key("layout")}).push({"EXISTS", key("jobs")});
  Result<std::vector<Reply>> found = co_await exec(std::move(layout));
  if (!found) co_return found.error();
  const std::string* stored = (*found)[0].text();
  if ((stored && *stored != redis_layout) || (!stored && (*found)[1].integer().value_or(0) > 0))
    co_return StoreError{StoreErrc::invalid,
                         "Redis at " + redis::redacted(commands_->config().url) + " holds jobs of layout " +
                             (stored ? *stored : std::string("1")) + " under the prefix \"" + options_.prefix +
                             "\" (an older Nox); this one writes layout " + redis_layout +
                             ": let the old instances finish and delete those keys, or use another redis_prefix",
                         {}};
  if (!stored) {
    Command mark{"SET", key("layout"), redis_layout};
    Result<std::vector<Reply>> marked = co_await exec(std::move(mark));
    if (!marked) co_return marked.error();
  }
  // Loaded now so the first operations need no extra round trip; eval() reloads on NOSCRIPT.
  for (int i = 0; i < script_count; ++i) {
    Result<Done> loaded = co_await load_script(static_cast<Script>(i));
    if (!loaded) co_return loaded.error();
  }
  co_return Done{};
}

asio::awaitable<void> RedisStore::sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(executor_, duration);
  co_await timer.async_wait(use_tuple);
}

namespace {

// The replies of a command sent on `connection`; a failure or any error reply is unavailable.
asio::awaitable<Result<std::vector<Reply>>> replies_of(redis::Connection& connection, Command command) {
  redis::Response response = co_await connection.exec(std::move(command));
  if (!response.ok()) co_return unavailable("Redis: " + response.message);
  for (const Reply& reply : response.replies)
    if (const std::string* error = reply.error()) co_return unavailable("Redis: " + *error);
  co_return std::move(response.replies);
}

}  // namespace

asio::awaitable<Result<std::vector<Reply>>> RedisStore::exec(Command command) {
  return replies_of(*commands_, std::move(command));
}

asio::awaitable<Result<std::vector<Reply>>> RedisStore::read(Command command) {
  return replies_of(*reads_, std::move(command));
}

asio::awaitable<Result<Done>> RedisStore::load_script(Script script) {
  Command command{"SCRIPT", "LOAD", scripts_[script].source};
  redis::Response response = co_await commands_->exec(std::move(command));
  if (!response.ok()) co_return unavailable("Redis: " + response.message);
  const Reply& reply = response.reply();
  if (const std::string* error = reply.error())
    co_return unavailable(std::string("Redis refused script ") + scripts_[script].name + ": " + *error);
  scripts_[script].sha = text_or(reply);
  co_return Done{};
}

asio::awaitable<Result<Reply>> RedisStore::eval(Script script, std::vector<std::string> keys,
                                                std::vector<std::string_view> args) {
  // One operation id per logical call (128 random bits), reused by every re-issue of it.
  std::string op_id;
  if (scripts_[script].once) op_id = fixed_op_id_.empty() ? new_job_id() : fixed_op_id_;
  Result<Reply> reply = co_await eval_op(script, std::move(keys), std::move(args), std::move(op_id));
  co_return reply;
}

std::chrono::milliseconds RedisStore::retry_window() const {
  // Long enough to ride out one stall of a few command timeouts and the reconnect after it;
  // short enough that a caller still hears `unavailable` from a Redis that stays away.
  return 4 * options_.command_timeout + options_.connect_timeout;
}

std::chrono::milliseconds RedisStore::op_ttl() const {
  // Far longer than any re-issue (all are sent within retry_window()), so that a copy still
  // unread in a Redis that stalls again meets the record too. Cheap: only operations whose
  // answer was lost keep their record that long (forget_op deletes the others).
  return std::max<std::chrono::milliseconds>(std::chrono::minutes(10), 2 * retry_window());
}

asio::awaitable<Result<Reply>> RedisStore::eval_op(Script script, std::vector<std::string> keys,
                                                   std::vector<std::string_view> args, std::string op_id) {
  if (scripts_[script].sha.empty()) {
    Result<Done> loaded = co_await load_script(script);
    if (!loaded) co_return loaded.error();
  }
  // nox_once takes the operation's key and time to live off the ends of KEYS and ARGV.
  const bool once = scripts_[script].once && !op_id.empty();
  const std::string ttl = ms_text(op_ttl());
  if (once) keys.push_back(key("op:" + op_id));
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(4 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(scripts_[script].sha);
  argv.push_back(key_count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  if (once) argv.push_back(ttl);
  Command command;
  command.push(argv);

  const auto deadline = std::chrono::steady_clock::now() + retry_window();
  bool maybe_applied = false;  // an attempt was written and its answer lost
  bool reloaded = false;
  for (;;) {
    if (maybe_applied && !commands_->is_connected()) {
      // The dropped connection is being re-made: wait for it (not a spin), then re-issue.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              std::chrono::steady_clock::now());
      if (left.count() > 0) co_await commands_->wait_connected(left);
    }
    // No attempt outlives the deadline by more than a millisecond.
    const auto left = std::max(
        std::chrono::milliseconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    const auto timeout = options_.command_timeout.count() > 0 ? std::min(left, options_.command_timeout) : left;
    redis::Response response = co_await commands_->exec(command, timeout);
    if (!response.ok()) {
      maybe_applied = maybe_applied || response.written;
      // Never sent: nothing happened, say so at once (callers must not hang on a dead Redis).
      // Sent and unanswered: a `once` script is safe to send again with the same id; the
      // others (heartbeat, workers) are idempotent anyway.
      const bool retry = maybe_applied && response.status != redis::Status::cancelled && !stopped_ &&
                         std::chrono::steady_clock::now() < deadline;
      if (retry) continue;
      std::string message = "Redis: " + response.message;
      if (maybe_applied)
        message += " (the outcome of " + std::string(scripts_[script].name) + " is unknown after " +
                   ms_text(retry_window()) + " ms of retries)";
      co_return unavailable(std::move(message));
    }
    Reply& reply = response.replies.front();
    if (const std::string* error = reply.error()) {
      // Redis restarted without the script cache (or SCRIPT FLUSH): load it again. The SHA is
      // that of the same source, so the encoded command stays valid.
      if (!reloaded && error->rfind("NOSCRIPT", 0) == 0) {
        reloaded = true;
        Result<Done> loaded = co_await load_script(script);
        if (!loaded) co_return loaded.error();
        continue;
      }
      co_return unavailable(std::string("Redis script ") + scripts_[script].name + " failed: " + *error);
    }
    // Answered at the only attempt that may have run: no copy of the command is left anywhere
    // (a lost attempt could still sit unread in a stalled Redis), so nobody will ask again.
    if (once && !maybe_applied) forget_op(std::move(keys.back()));
    co_return std::move(reply);
  }
}

namespace {

asio::awaitable<void> send_and_forget(std::shared_ptr<redis::Connection> connection, Command command) {
  co_await connection->exec(std::move(command));  // a failure leaves the records to their TTL
}

}  // namespace

void RedisStore::forget_op(std::string op_key) {
  constexpr std::size_t batch = 256;  // one UNLINK per this many transitions
  forgettable_ops_.push_back(std::move(op_key));
  if (forgettable_ops_.size() < batch || stopped_) return;
  std::vector<std::string> argv;
  argv.reserve(batch + 1);
  argv.emplace_back("UNLINK");
  for (std::string& k : forgettable_ops_) argv.push_back(std::move(k));
  forgettable_ops_.clear();
  Command command;
  command.push(argv);
  asio::co_spawn(executor_, send_and_forget(commands_, std::move(command)), asio::detached);
}

asio::awaitable<bool> RedisStore::ping() {
  Command command{"PING"};
  redis::Response response = co_await commands_->exec(std::move(command));
  co_return response.ok() && text_or(response.reply()) == "PONG";
}

// --- jobs ---

struct RedisStore::PendingCreate {
  Job job;
  std::vector<std::string> args;  // this job's part of create.lua's ARGV
  std::optional<Result<Job>> answer;
  asio::steady_timer done;
};

asio::awaitable<Result<Job>> RedisStore::create(Job job, CreateBounds bounds) {
  job.state = JobState::pending;
  std::vector<std::string> args = {job.id, job_blob::encode(job), std::to_string(bounds.max_unfinished_of_owner),
                                   bounds.calculation_key, bounds.join_calculation ? "1" : "0",
                                   ms_text(bounds.calculation_key_ttl), std::to_string(job.run_at()), bounds.wait_on,
                                   std::to_string(bounds.max_unfinished_total)};
  auto pending = std::make_shared<PendingCreate>(PendingCreate{
      std::move(job), std::move(args), std::nullopt,
      asio::steady_timer(executor_, std::chrono::steady_clock::time_point::max())});
  create_queue_.push_back(pending);
  if (!create_flushing_) {
    create_flushing_ = true;
    asio::co_spawn(executor_, flush_creates(), asio::detached);
  }
  while (!pending->answer) co_await pending->done.async_wait(use_tuple);
  // One answer wakes 32 callers at once, each with work to do: they take turns with the loop.
  co_await take_turn();
  co_return std::move(*pending->answer);
}

// Like flush_finishes: one script call for what is queued, then for what came meanwhile.
asio::awaitable<void> RedisStore::flush_creates() {
  // A call of 100 creates ran ~5 ms inside Redis with layout 1, and every other command
  // (a status read) waited behind it; 32 keep that wait near a millisecond.
  constexpr std::size_t max_per_call = 32;
  co_await asio::post(executor_, asio::use_awaitable);
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  const std::string max_jobs = std::to_string(options_.max_jobs);
  while (!create_queue_.empty()) {
    std::vector<std::shared_ptr<PendingCreate>> batch;
    const std::size_t n = std::min(create_queue_.size(), max_per_call);
    batch.assign(create_queue_.begin(), create_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    create_queue_.erase(create_queue_.begin(), create_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::string> keys = {key("queue"),   key("events"),  key("wake"),
                                      key("count"),   key("engines"), key("unfinished_by_owner"),
                                      key("scheduled")};
    std::vector<std::string_view> args = {base_, maxlen, cap, max_jobs};
    for (const auto& p : batch) args.insert(args.end(), p->args.begin(), p->args.end());
    Result<Reply> reply = co_await eval(create_script, std::move(keys), std::move(args));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      PendingCreate& p = *batch[i];
      if (!reply) {
        p.answer.emplace(reply.error());
      } else {
        const Reply& answer = item(*reply, i);
        const std::string_view status = status_of(answer);
        if (status == "ok") {
          p.job.created_at = item(answer, 1).integer().value_or(p.job.created_at);
          p.job.state = parse_job_state(text_or(item(answer, 4))).value_or(JobState::pending);
          if (std::string waiting_on = text_or(item(answer, 3)); !waiting_on.empty()) {
            p.job.state = JobState::waiting;
            p.job.waiting_on = std::move(waiting_on);
          }
          p.answer.emplace(std::move(p.job));
        } else if (status == "full") {
          p.answer.emplace(full("the store holds " + std::to_string(item(answer, 1).integer().value_or(0)) +
                                " jobs, its max_jobs is " + max_jobs + ": finished jobs must expire first"));
        } else if (status == "busy") {
          p.answer.emplace(StoreError{StoreErrc::busy,
                                      "the server holds " + std::to_string(item(answer, 1).integer().value_or(0)) +
                                          " unfinished jobs, its maximum (max_queued): submit again once some finish",
                                      {}});
        } else if (status == "quota") {
          p.answer.emplace(over_quota(p.job.owner, static_cast<std::uint64_t>(item(answer, 1).integer().value_or(0))));
        } else {
          p.answer.emplace(refusal(answer, p.job.id, "it already exists"));
        }
      }
      p.done.cancel();
    }
  }
  create_flushing_ = false;
}

asio::awaitable<Result<std::uint64_t>> RedisStore::unfinished_of_owner(std::string owner) {
  Command command{"HGET", key("unfinished_by_owner"), owner};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  std::uint64_t held = 0;
  const std::string text = text_or(replies->front());
  std::from_chars(text.data(), text.data() + text.size(), held);  // absent or negative: 0
  co_return held;
}

asio::awaitable<Result<Job>> RedisStore::get(std::string id) {
  Command command{"GET", key("job:" + id)};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  co_return job_from_blob(replies->front(), id);
}

asio::awaitable<Result<StatusText>> RedisStore::status_json(std::string id) {
  // The record is one small string: the status is built from it whole, less the result.
  Command command{"GET", key("job:" + id)};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  Result<Job> job = job_from_blob(replies->front(), id, job_blob::Unpack::spec);
  if (!job) co_return job.error();
  co_return StatusText{serialize_json(job_status_json(*job)), job->owner};
}

namespace {

// Whether a job read from an index (or a batch's ids) passes the query's other filters.
bool matches(const ListQuery& query, const Job& job) {
  if (query.state && job.state != *query.state) return false;
  if (query.engine && job.engine() != *query.engine) return false;
  if (query.tag) {
    const auto tags = job.index_tags();
    if (std::find(tags.begin(), tags.end(), *query.tag) == tags.end()) return false;
  }
  return !query.owner || job.owner == *query.owner;
}

}  // namespace

// A batch whose jobs' ids were made from its id (core/job_id.hpp) has no index: its jobs are
// read by id, from the highest position (the newest) down, `batch` ids per round, the other
// filters checked on the records, and at most `list_scan_rounds` rounds per page (a short page
// then has a next_cursor). Positions nobody holds (a record of a molecule file that was
// refused, a job deleted) are passed over. The cursor is "p<position>": go on below it.
asio::awaitable<Result<JobPage>> RedisStore::list_batch(ListQuery query, std::string batch_id, std::size_t size) {
  std::size_t below = size;  // positions below this one are still to look at
  if (!query.cursor.empty()) {
    const std::string_view cursor = query.cursor;
    std::size_t at = 0;
    const auto [end, ec] = std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), at);
    if (cursor.front() != 'p' || ec != std::errc() || end != cursor.data() + cursor.size() || at > size)
      co_return StoreError{StoreErrc::invalid, "the cursor is not one this server issued", {}};
    below = at;
  }
  JobPage page;
  const std::size_t want = query.limit + 1;  // one more tells whether there is a next page
  const std::size_t batch = std::clamp<std::size_t>(want * 2, 50, 1000);
  std::vector<std::pair<std::size_t, Job>> found;  // (position, job)
  for (std::size_t rounds = 0; found.size() < want && below > 0 && rounds < std::max<std::size_t>(options_.list_scan_rounds, 1);
       ++rounds) {
    const std::size_t n = std::min(batch, below);
    std::vector<std::string> ids;  // positions below-1, below-2, ...
    ids.reserve(n);
    Command fetch;
    for (std::size_t i = 1; i <= n; ++i) {
      ids.push_back(batch_job_id(batch_id, below - i));
      fetch.push({"GET", key("job:" + ids.back())});
    }
    Result<std::vector<Reply>> records = co_await read(std::move(fetch));
    if (!records) co_return records.error();
    std::size_t looked = 0;
    for (; looked < n && found.size() < want; ++looked) {
      Result<Job> job = job_from_blob((*records)[looked], ids[looked], job_blob::Unpack::spec);
      if (!job) {
        if (job.error().code != StoreErrc::not_found) co_return job.error();
        continue;  // nobody holds this position
      }
      if (matches(query, *job)) found.emplace_back(below - 1 - looked, std::move(*job));
    }
    below -= looked;
  }
  if (found.size() == want) {
    found.pop_back();
    page.next_cursor = "p" + std::to_string(found.back().first);
  } else if (below > 0) {
    page.next_cursor = "p" + std::to_string(below);  // the scan budget ran out first
  }
  page.jobs.reserve(found.size());
  for (auto& [position, job] : found) page.jobs.push_back(std::move(job));
  co_return page;
}

asio::awaitable<Result<JobPage>> RedisStore::list(ListQuery query) {
  if (query.limit > 0 && query.tag && query.tag->starts_with(kBatchTagPrefix)) {
    std::string batch_id = query.tag->substr(kBatchTagPrefix.size());
    if (const auto size = batch_size_of(batch_id)) {
      // A batch of an older Nox (its jobs have ids of their own) is in its tag's index.
      Command indexed{"EXISTS", key("idx:tag:" + *query.tag)};
      Result<std::vector<Reply>> exists = co_await read(std::move(indexed));
      if (!exists) co_return exists.error();
      if (exists->front().integer().value_or(0) == 0) co_return co_await list_batch(std::move(query), std::move(batch_id), *size);
    }
  }
  // Every index is a zset of job ids scored by creation time: one per (state, engine) pair
  // and one per tag (lib.lua). Members with equal scores come in reverse lexicographic order
  // under REV, so a position (score, id) is exact in all of them: next come the ids below it
  // at the same score, then everything at lower scores. The listing reads either the tag's
  // or the owner's index or the (state, engine) indexes the filters allow, merged (whichever holds fewer
  // entries), fetches only those records, checks the other filters, and stops after
  // `list_scan_rounds` batches (a short page with a next_cursor) so that no request costs
  // more than a few pages whatever the store holds.
  std::optional<std::pair<std::string, std::string>> position;
  if (!query.cursor.empty()) {
    const std::size_t colon = query.cursor.find(':');
    if (colon == std::string::npos || !is_cursor_score(query.cursor.substr(0, colon)) ||
        colon + 1 == query.cursor.size())
      co_return StoreError{StoreErrc::invalid, "the cursor is not one this server issued", {}};
    position.emplace(query.cursor.substr(0, colon), query.cursor.substr(colon + 1));
  }
  JobPage page;
  if (query.limit == 0) co_return page;

  std::vector<std::string> indexes;  // read together, merged
  {
    std::vector<std::string> engines;
    if (query.engine) {
      engines.push_back(*query.engine);
    } else {
      Command members{"SMEMBERS", key("engines")};
      Result<std::vector<Reply>> known = co_await read(std::move(members));
      if (!known) co_return known.error();
      if (const ReplyArray* names = known->front().array())
        for (const Reply& name : *names) engines.push_back(text_or(name));
    }
    for (const JobState state : all_job_states)
      if (!query.state || *query.state == state)
        for (const std::string& engine : engines)
          indexes.push_back(key("idx:" + std::string(to_string(state)) + ":" + engine));
  }
  // A tag's or an owner's index alone, if it holds fewer entries than the (state, engine)
  // indexes together (and than the other one).
  std::vector<std::string> single;
  if (query.tag) single.push_back(key("idx:tag:" + *query.tag));
  if (query.owner) single.push_back(key("idx:owner:" + *query.owner));
  if (!single.empty()) {
    Command sizes;
    for (const std::string& index : single) sizes.push({"ZCARD", index});
    for (const std::string& index : indexes) sizes.push({"ZCARD", index});
    Result<std::vector<Reply>> counted = co_await read(std::move(sizes));
    if (!counted) co_return counted.error();
    std::int64_t merged = 0;
    for (std::size_t i = single.size(); i < counted->size(); ++i) merged += (*counted)[i].integer().value_or(0);
    std::size_t smallest = 0;
    for (std::size_t i = 1; i < single.size(); ++i)
      if ((*counted)[i].integer().value_or(0) < (*counted)[smallest].integer().value_or(0)) smallest = i;
    if ((*counted)[smallest].integer().value_or(0) <= merged || indexes.empty()) indexes = {single[smallest]};
  }
  if (indexes.empty()) co_return page;

  const std::size_t want = query.limit + 1;  // one more tells whether there is a next page
  const std::size_t batch = std::clamp<std::size_t>(want * 2, 50, 1000);
  const std::string batch_text = std::to_string(batch);
  struct Candidate {
    std::string score;
    std::string id;
    std::size_t index;
  };
  // Newest first: higher score, then (equal scores) the greater id.
  auto newer = [](const Candidate& a, const Candidate& b) {
    if (a.score.size() != b.score.size()) return a.score.size() > b.score.size();  // no leading zeros
    if (a.score != b.score) return a.score > b.score;
    return a.id > b.id;
  };
  struct Found {
    std::string score;
    Job job;
  };
  std::vector<Found> found;
  std::vector<std::pair<std::size_t, std::string>> stale;  // (index, id) whose record is gone
  bool exhausted = false;
  std::size_t rounds = 0;
  for (; found.size() < want && !exhausted && rounds < std::max<std::size_t>(options_.list_scan_rounds, 1);
       ++rounds) {
    // Per index: the ids at the position's score below its id, then up to `batch` entries at
    // lower scores. An index that returned a full batch may hold more below its last entry,
    // so only candidates at or above the highest such last entry are certainly in order.
    Command range;
    for (const std::string& index : indexes) {
      if (position) range.push({"ZRANGE", index, position->first, position->first, "BYSCORE", "REV"});
      const std::string max = position ? "(" + position->first : "+inf";
      range.push({"ZRANGE", index, max, "-inf", "BYSCORE", "REV", "LIMIT", "0", batch_text, "WITHSCORES"});
    }
    Result<std::vector<Reply>> replies = co_await read(std::move(range));
    if (!replies) co_return replies.error();
    std::vector<Candidate> candidates;
    std::optional<Candidate> boundary;
    const std::size_t per_index = position ? 2 : 1;
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      if (position) {
        if (const ReplyArray* ties = (*replies)[k * per_index].array())
          for (const Reply& member : *ties)
            if (const std::string* id = member.text(); id && *id < position->second)
              candidates.push_back({position->first, *id, k});
      }
      const ReplyArray* ranged = (*replies)[k * per_index + per_index - 1].array();
      const std::size_t ranged_count = ranged ? ranged->size() / 2 : 0;
      for (std::size_t i = 0; i < ranged_count; ++i) {
        // Scores are integral milliseconds; Redis prints them without a fraction.
        candidates.push_back({text_or((*ranged)[2 * i + 1]), text_or((*ranged)[2 * i]), k});
      }
      if (ranged_count == batch && (!boundary || newer(candidates.back(), *boundary))) boundary = candidates.back();
    }
    std::sort(candidates.begin(), candidates.end(), newer);
    if (boundary) {
      std::erase_if(candidates, [&](const Candidate& c) { return newer(*boundary, c); });
    }
    exhausted = !boundary;
    if (candidates.size() > batch) candidates.resize(batch), exhausted = false;
    if (candidates.empty()) break;

    Command fetch;
    for (const Candidate& candidate : candidates) fetch.push({"GET", key("job:" + candidate.id)});
    Result<std::vector<Reply>> records = co_await read(std::move(fetch));
    if (!records) co_return records.error();
    for (std::size_t i = 0; i < candidates.size() && found.size() < want; ++i) {
      position.emplace(candidates[i].score, candidates[i].id);
      Result<Job> job = job_from_blob((*records)[i], candidates[i].id, job_blob::Unpack::spec);
      if (!job) {
        if (job.error().code != StoreErrc::not_found) co_return job.error();
        stale.emplace_back(candidates[i].index, candidates[i].id);  // deleted meanwhile
        continue;
      }
      if (matches(query, *job)) found.push_back({candidates[i].score, std::move(*job)});
    }
    if (found.size() >= want) exhausted = false;
  }
  if (!stale.empty()) {
    // Entries whose record is gone (a script keeps them exact, so only a record deleted by
    // hand leaves one): dropped as they are met.
    Command drop;
    for (const auto& [index, id] : stale) drop.push({"ZREM", indexes[index], id});
    co_await read(std::move(drop));
  }
  if (found.size() == want) {
    found.pop_back();
    page.next_cursor = found.back().score + ":" + found.back().job.id;
  } else if (!exhausted && position) {
    // The scan budget ran out before the page filled: go on from the last entry looked at.
    page.next_cursor = position->first + ":" + position->second;
  }
  page.jobs.reserve(found.size());
  for (Found& f : found) page.jobs.push_back(std::move(f.job));
  co_return page;
}

asio::awaitable<Result<Job>> RedisStore::cancel(std::string id) {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  std::vector<std::string> keys = {key("job:" + id), key("queue"), key("scheduled"), key("leases"), key("events")};
  std::vector<std::string_view> args = {base_, id, maxlen};
  Result<Reply> reply = co_await eval(cancel_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "it cannot be cancelled");
  co_return job_from_blob(item(*reply, 2), id);
}

asio::awaitable<Result<Job>> RedisStore::retry(std::string id, json::object spec, json::object event_data) {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  const std::string packed = spec.empty() ? std::string() : job_blob::pack_spec(serialize_json(spec));
  const std::string data = serialize_json(event_data);
  std::vector<std::string> keys = {key("job:" + id), key("queue"), key("events"), key("wake")};
  std::vector<std::string_view> args = {base_, id, maxlen, cap, packed, data};
  Result<Reply> reply = co_await eval(retry_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "only a failed or cancelled job runs again");
  co_return job_from_blob(item(*reply, 2), id);
}

asio::awaitable<Result<Job>> RedisStore::resolve_waiting(std::string id, std::string on, Finish outcome) {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  const std::string result =
      outcome.result.is_null() ? std::string() : job_blob::pack_result(serialize_json(outcome.result), "");
  const std::string error = serialize_json(outcome.error);
  const std::string summary = serialize_json(result_summary(outcome.result));
  const std::string spec = outcome.spec.empty() ? std::string() : job_blob::pack_spec(serialize_json(outcome.spec));
  std::vector<std::string> keys = {key("job:" + id), key("queue"), key("events"), key("wake")};
  std::vector<std::string_view> args = {base_, id, on, to_string(outcome.state), result, error, summary, maxlen, cap,
                                        outcome.wait_on, spec};
  Result<Reply> reply = co_await eval(resolve_waiting_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "it is not waiting on " + on);
  co_return job_from_blob(item(*reply, 2), id);
}

asio::awaitable<Result<std::vector<std::string>>> RedisStore::waiting_for(std::string id, std::size_t max) {
  Command command{"SRANDMEMBER", key("waiters:" + id), std::to_string(max)};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  std::vector<std::string> ids;
  if (const ReplyArray* members = replies->front().array())
    for (const Reply& member : *members) ids.push_back(text_or(member));
  co_return ids;
}

asio::awaitable<Result<Done>> RedisStore::remove(std::string id) {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  std::vector<std::string> keys = {key("job:" + id), key("events")};
  std::vector<std::string_view> args = {base_, id, maxlen};
  Result<Reply> reply = co_await eval(remove_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok")
    co_return refusal(*reply, id, "cancel it or let it finish before deleting it");
  co_return Done{};
}

// --- queue with leases ---

asio::awaitable<Result<std::optional<Job>>> RedisStore::claim(std::string worker_id, Lease lease) {
  Result<std::vector<Job>> claimed = co_await claim_batch(std::move(worker_id), lease, 1);
  if (!claimed) co_return claimed.error();
  if (claimed->empty()) co_return std::optional<Job>{};
  co_return std::optional<Job>(std::move(claimed->front()));
}

asio::awaitable<Result<std::vector<Job>>> RedisStore::claim_batch(std::string worker_id, Lease lease,
                                                                  std::size_t max) {
  ClaimBudget budget;
  budget.slots = max;  // no engine named in-process: every job counts against `max`
  co_return co_await claim_within(std::move(worker_id), lease, std::move(budget));
}

asio::awaitable<Result<std::vector<Job>>> RedisStore::claim_within(std::string worker_id, Lease lease,
                                                                   ClaimBudget budget) {
  std::vector<Job> claimed;
  if (budget.slots == 0 && budget.in_process == 0) co_return claimed;
  const std::string lease_ms = ms_text(lease);
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string slots = std::to_string(std::min<std::size_t>(budget.slots, 100));
  const std::string in_process = std::to_string(std::min<std::size_t>(budget.in_process, 32));
  std::vector<std::string> keys = {key("queue"), key("leases"), key("events"), key("wake")};
  const std::string total = std::to_string(budget.total_slots);
  std::vector<std::string_view> args = {base_, worker_id, lease_ms, maxlen, slots, in_process, total};
  // Counted lists: excluded engines, offered compute tags, served queues; then in-process engines.
  std::array<std::string, 3> counts;
  std::size_t next_count = 0;
  for (const std::vector<std::string>* list : {&budget.excluded_engines, &budget.offered_tags, &budget.served_queues}) {
    counts[next_count] = std::to_string(list->size());
    args.push_back(counts[next_count++]);
    for (const std::string& name : *list) args.push_back(name);
  }
  for (const std::string& engine : budget.in_process_engines) args.push_back(engine);
  Result<Reply> reply = co_await eval(claim_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const std::string_view status = status_of(*reply);
  last_claim_found_nothing_ = status == "empty";
  if (status == "empty") co_return claimed;
  if (status != "ok") co_return unavailable("unexpected answer from Redis: " + reply->describe());
  const std::size_t size = reply->array() ? reply->array()->size() : 0;
  if (claimed_specs_.size() > 10000) claimed_specs_.clear();  // only a leak could fill it: results pack less well
  for (std::size_t i = 1; i + 2 < size; i += 3) {
    co_await take_turn();  // 32 records decoded in one go held the loop ~0.5 ms
    const std::string id = text_or(item(*reply, i));
    std::string spec_json;
    // An unreadable record (a bug or a foreign writer) is left to the others: they ran.
    if (Result<Job> job = job_from_blob(item(*reply, i + 2), id, job_blob::Unpack::spec_and_result, &spec_json)) {
      claimed_specs_[id] = std::move(spec_json);
      claimed.push_back(std::move(*job));
    }
  }
  co_return claimed;
}

asio::awaitable<Result<std::size_t>> RedisStore::promote_due() {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  const std::string limit = std::to_string(script_batch);
  std::vector<std::string> keys = {key("scheduled"), key("queue"), key("events"), key("wake")};
  std::vector<std::string_view> args = {base_, maxlen, cap, limit};
  Result<Reply> reply = co_await eval(promote_due_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  co_return static_cast<std::size_t>(item(*reply, 0).integer().value_or(0));
}

asio::awaitable<void> RedisStore::wait_for_work(std::chrono::milliseconds max_wait) {
  if (max_wait.count() <= 0 || stopped_) co_return;
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  // Work already queued: answer at once (the wake tokens may have gone to another instance),
  // unless this instance's last claim found nothing it may take (paused queues, jobs requiring
  // tags it does not offer): then only a new wake-up or the poll brings it back.
  bool reachable = true;
  if (!last_claim_found_nothing_) {
    Command count{"ZCARD", key("queue")};
    redis::Response queued = co_await commands_->exec(std::move(count));
    if (queued.ok() && queued.reply().integer().value_or(0) > 0) co_return;
    reachable = queued.ok();
  }

  if (work_wait_active_) {
    // Another caller's BLPOP is out; whatever wakes it wakes us.
    asio::steady_timer timer(executor_, deadline);
    co_await (work_wait_done_.async_wait(use_tuple) || timer.async_wait(use_tuple));
    co_return;
  }
  if (!reachable || !work_waits_->is_connected()) {
    // Redis is away: a claim would fail anyway. Wait out the time rather than spin.
    co_await sleep_for(max_wait);
    co_return;
  }
  work_wait_active_ = true;
  Command pop{"BLPOP", key("wake"), seconds_text(max_wait)};
  redis::Response woken = co_await work_waits_->exec(std::move(pop), max_wait + options_.command_timeout);
  work_wait_active_ = false;
  work_wait_done_.cancel();
  if (!woken.ok() && !stopped_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() > 0) co_await sleep_for(left);
  }
}

asio::awaitable<Result<Done>> RedisStore::renew(std::string id, std::string worker_id, Lease lease) {
  const std::string lease_ms = ms_text(lease);
  std::vector<std::string> keys = {key("job:" + id), key("leases")};
  std::vector<std::string_view> args = {base_, id, worker_id, lease_ms};
  Result<Reply> reply = co_await eval(renew_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "it is no longer running on " + worker_id);
  co_return Done{};
}

struct RedisStore::PendingFinish {
  json::value result_value;  // the answer's result (not unpacked again from the record)
  std::string id;
  std::string worker;
  std::string outcome;
  std::string result;
  std::string error;
  std::string summary;
  bool retryable = false;
  std::optional<Result<Job>> answer;
  asio::steady_timer done;
  // When the job runs again: not before (ms, "0" at once), its next spec (packed), the event's note.
  std::string retry_at = "0";
  std::string next_spec;
  std::string retry_note;
};

asio::awaitable<Result<Job>> RedisStore::finish(std::string id, std::string worker_id, Finish finish) {
  if (finish.state != JobState::completed && finish.state != JobState::failed)
    co_return StoreError{StoreErrc::invalid, "an attempt ends completed or failed", {}};
  auto pending = std::make_shared<PendingFinish>(PendingFinish{
      json::value(), id, worker_id, std::string(to_string(finish.state)), packed_result(id, finish.result),
      serialize_json(finish.error), serialize_json(result_summary(finish.result)), finish.retryable, std::nullopt,
      asio::steady_timer(executor_, std::chrono::steady_clock::time_point::max())});
  pending->result_value = std::move(finish.result);  // after packing it: not copied
  if (finish.retryable) {
    pending->retry_at = std::to_string(finish.retry_at);
    if (!finish.spec.empty()) pending->next_spec = job_blob::pack_spec(serialize_json(finish.spec));
    // The note's members go into the event's JSON object as they are.
    if (!finish.retry_note.empty()) {
      const std::string note = serialize_json(finish.retry_note);
      pending->retry_note = note.substr(1, note.size() - 2);
    }
  }
  finish_queue_.push_back(pending);
  if (!finish_flushing_) {
    finish_flushing_ = true;
    asio::co_spawn(executor_, flush_finishes(), asio::detached);
  }
  while (!pending->answer) co_await pending->done.async_wait(use_tuple);
  // One answer wakes 32 callers at once, each with work to do: they take turns with the loop.
  co_await take_turn();
  co_return std::move(*pending->answer);
}

// One flusher at a time: it sends what is queued as one script call, and whatever arrived
// meanwhile as the next, so a busy instance writes many outcomes per round trip and an idle
// one writes a lone outcome at once.
asio::awaitable<void> RedisStore::flush_finishes() {
  // Like creates: a call of 100 outcomes held Redis (and every read behind it) and then the
  // loop, decoding the answers, for a few milliseconds each; 32 keep most of the gain.
  constexpr std::size_t max_per_call = 32;
  // Outcomes written in this same loop turn join the first call.
  co_await asio::post(executor_, asio::use_awaitable);
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  while (!finish_queue_.empty()) {
    std::vector<std::shared_ptr<PendingFinish>> batch;
    const std::size_t n = std::min(finish_queue_.size(), max_per_call);
    batch.assign(finish_queue_.begin(), finish_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    finish_queue_.erase(finish_queue_.begin(), finish_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::string> keys = {key("leases"), key("queue"), key("events"), key("wake"), key("scheduled")};
    std::vector<std::string_view> args = {base_, maxlen, cap};
    for (const auto& p : batch) {
      args.insert(args.end(), {p->id, p->worker, p->outcome, p->result, p->error, p->retryable ? "1" : "0",
                               p->summary, p->retry_at, p->next_spec, p->retry_note});
    }
    Result<Reply> reply = co_await eval(finish_script, std::move(keys), std::move(args));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      PendingFinish& p = *batch[i];
      if (!reply) {
        p.answer.emplace(reply.error());
      } else {
        const Reply& answer = item(*reply, i);
        if (status_of(answer) == "ok") {
          // The caller holds the spec; the result is the one it just sent.
          Result<Job> job = job_from_blob(item(answer, 2), p.id, job_blob::Unpack::nothing);
          if (job) job->result = std::move(p.result_value);
          p.answer.emplace(std::move(job));
        } else {
          p.answer.emplace(refusal(answer, p.id, "it is no longer running on " + p.worker));
        }
      }
      p.done.cancel();
    }
  }
  finish_flushing_ = false;
}

asio::awaitable<Result<Done>> RedisStore::record_progress(std::string id, json::object progress) {
  const std::string numbers = serialize_json(progress);
  const std::string maxlen = std::to_string(options_.events_maxlen);
  std::vector<std::string> keys = {key("job:" + id), key("events")};
  std::vector<std::string_view> args = {base_, id, numbers, maxlen};
  Result<Reply> reply = co_await eval(progress_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  if (status_of(*reply) != "ok") co_return refusal(*reply, id, "only a running job reports progress");
  co_return Done{};
}

asio::awaitable<Result<std::size_t>> RedisStore::requeue_expired() {
  const std::string maxlen = std::to_string(options_.events_maxlen);
  const std::string cap = std::to_string(wake_cap);
  const std::string limit = std::to_string(script_batch);
  const std::string threshold = ms_text(options_.outage_threshold);
  std::size_t moved = 0;
  for (;;) {
    std::vector<std::string> keys = {key("leases"),  key("queue"),   key("events"),
                                     key("wake"),    key("workers"), key("workers_seen")};
    std::vector<std::string_view> args = {base_, maxlen, cap, limit, threshold};
    Result<Reply> reply = co_await eval(requeue_script, std::move(keys), std::move(args));
    if (!reply) co_return reply.error();
    moved += static_cast<std::size_t>(item(*reply, 0).integer().value_or(0));
    if (static_cast<std::size_t>(item(*reply, 1).integer().value_or(0)) < script_batch) break;
  }
  co_return moved;
}

void RedisStore::write_metrics(PrometheusText& text) const {
  const std::pair<const char*, const std::shared_ptr<redis::Connection>*> connections[] = {
      {"commands", &commands_}, {"reads", &reads_}, {"artifacts", &artifacts_},
      {"work_waits", &work_waits_}, {"event_waits", &event_waits_}};
  text.family("nox_redis_round_trip_seconds", "histogram",
              "time from sending a Redis command (a pipelined batch) to its answer, per connection");
  for (const auto& [name, connection] : connections)
    if (*connection) text.histogram("nox_redis_round_trip_seconds", {{"connection", name}}, (*connection)->round_trips());
  text.family("nox_redis_reconnects_total", "counter", "connections made again after one was lost, per connection");
  for (const auto& [name, connection] : connections)
    if (*connection) {
      const auto connects = (*connection)->stats().connects;
      text.sample("nox_redis_reconnects_total", {{"connection", name}}, connects > 0 ? double(connects - 1) : 0.0);
    }
  text.family("nox_redis_connected", "gauge", "1 when the connection is up");
  for (const auto& [name, connection] : connections)
    if (*connection) text.sample("nox_redis_connected", {{"connection", name}}, (*connection)->is_connected() ? 1 : 0);
}

asio::awaitable<Result<QueueStats>> RedisStore::stats() {
  // Pending jobs are in lanes (lib.lua's lane_of): the default lane, and those registered.
  Command command;
  command.push({"ZCARD", key("queue")})
      .push({"SMEMBERS", key("queue:lanes")})
      .push({"ZCARD", key("leases")})
      .push({"ZCARD", key("scheduled")})
      .push({"GET", key("unfinished")});  // lib.lua's count of pending, scheduled, running and waiting jobs
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  QueueStats stats;
  stats.pending = static_cast<std::size_t>((*replies)[0].integer().value_or(0));
  stats.running = static_cast<std::size_t>((*replies)[2].integer().value_or(0));
  stats.scheduled = static_cast<std::size_t>((*replies)[3].integer().value_or(0));
  std::size_t unfinished = 0;
  const std::string counted = text_or((*replies)[4]);
  std::from_chars(counted.data(), counted.data() + counted.size(), unfinished);
  if (const ReplyArray* lanes = (*replies)[1].array(); lanes && !lanes->empty()) {
    Command sizes;
    for (const Reply& lane : *lanes) sizes.push({"ZCARD", text_or(lane)});
    Result<std::vector<Reply>> counted = co_await read(std::move(sizes));
    if (!counted) co_return counted.error();
    for (const Reply& size : *counted) stats.pending += static_cast<std::size_t>(size.integer().value_or(0));
  }
  const std::size_t others = stats.pending + stats.running + stats.scheduled;
  stats.waiting = unfinished > others ? unfinished - others : 0;
  co_return stats;
}

// --- event log ---

asio::awaitable<Result<EventBatch>> RedisStore::read_events(std::string after_id, std::size_t max,
                                                            std::chrono::milliseconds max_wait) {
  const std::string events_key = key("events");
  std::optional<StreamId> after;
  if (!after_id.empty()) {
    after = parse_event_id(after_id);
    if (!after) {
      EventBatch batch;
      batch.reset = true;  // not an id of this log
      co_return batch;
    }
  }
  const std::string count = std::to_string(std::max<std::size_t>(max, 1));
  const std::string start = after_id.empty() ? "-" : "(" + after_id;
  const auto deadline = std::chrono::steady_clock::now() + max_wait;

  for (bool first = true;; first = false) {
    Command command;
    if (first && after) command.push({"XINFO", "STREAM", events_key});
    command.push({"XRANGE", events_key, start, "+", "COUNT", count});
    redis::Response response = co_await commands_->exec(std::move(command));
    if (!response.ok()) co_return unavailable("Redis: " + response.message);
    const Reply& range = response.replies.back();
    if (const std::string* error = range.error()) co_return unavailable("Redis: " + *error);
    EventBatch batch;
    if (first && after) {
      const Reply& info = response.replies.front();
      // XINFO on a missing stream is an error reply: an empty log that never issued the id.
      batch.reset = info.is_error() ? true : needs_reset(*after, info);
      if (batch.reset) co_return batch;
    }
    if (max == 0) co_return batch;
    append_events(range, batch.events);
    if (!batch.events.empty()) co_return batch;

    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stopped_) co_return batch;
    if (event_wait_active_) {
      // Someone else's XREAD is out: it returns when events arrive (or times out); then look again.
      asio::steady_timer timer(executor_, deadline);
      co_await (event_wait_done_.async_wait(use_tuple) || timer.async_wait(use_tuple));
      continue;
    }
    event_wait_active_ = true;
    Command block{"XREAD",
                  "COUNT",
                  count,
                  "BLOCK",
                  ms_text(std::max(left, std::chrono::milliseconds(1))),
                  "STREAMS",
                  events_key,
                  after_id.empty() ? "0-0" : after_id};
    redis::Response woken = co_await event_waits_->exec(std::move(block), left + options_.command_timeout);
    event_wait_active_ = false;
    event_wait_done_.cancel();
    if (!woken.ok()) co_return unavailable("Redis: " + woken.message);
    if (const std::string* error = woken.reply().error()) co_return unavailable("Redis: " + *error);
    // [[stream, [entry, ...]]], or nil when the block time ran out.
    append_events(item(item(woken.reply(), 0), 1), batch.events);
    if (!batch.events.empty()) co_return batch;
  }
}

asio::awaitable<Result<std::string>> RedisStore::last_event_id() {
  Command command{"XREVRANGE", key("events"), "+", "-", "COUNT", "1"};
  Result<std::vector<Reply>> replies = co_await exec(std::move(command));
  if (!replies) co_return replies.error();
  co_return text_or(item(item(replies->front(), 0), 0));
}

asio::awaitable<Result<std::vector<JobEvent>>> RedisStore::job_events(std::string job_id) {
  // The ids are the record's history `h` (kept by the scripts).
  Command record{"GET", key("job:" + job_id)};
  Result<std::vector<Reply>> replies = co_await read(std::move(record));
  if (!replies) co_return replies.error();
  std::vector<JobEvent> history;
  std::vector<std::string> event_ids;
  if (const std::string* blob = replies->front().text()) {
    try {
      event_ids = job_blob::history(*blob);
    } catch (const std::exception& e) {
      co_return unavailable("the stored record of job " + job_id + " is unreadable: " + e.what());
    }
  }
  if (event_ids.empty()) co_return history;
  const std::string events_key = key("events");
  Command fetch;
  for (const std::string& event_id : event_ids) fetch.push({"XRANGE", events_key, event_id, event_id});
  Result<std::vector<Reply>> entries = co_await read(std::move(fetch));
  if (!entries) co_return entries.error();
  // An id whose entry was trimmed from the log answers an empty range and is skipped.
  for (const Reply& entry : *entries) append_events(entry, history);
  std::erase_if(history, [&](const JobEvent& e) { return e.job_id != job_id; });
  co_return history;
}

// --- workers ---

asio::awaitable<Result<WorkerMode>> RedisStore::heartbeat(WorkerInfo worker, std::chrono::milliseconds ttl) {
  worker.last_heartbeat = now_ms();
  const std::string info = serialize_json(worker_to_json(worker));
  const std::string ttl_ms = ms_text(ttl);
  const std::string threshold = ms_text(options_.outage_threshold);
  const std::string forget_after = ms_text(options_.worker_forget_after);
  std::vector<std::string> keys = {key("workers"), key("workers_seen")};
  std::vector<std::string_view> args = {base_, worker.id, info, ttl_ms, threshold, forget_after};
  Result<Reply> reply = co_await eval(heartbeat_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  co_return parse_worker_mode(text_or(item(*reply, 1)));
}

asio::awaitable<Result<Done>> RedisStore::control_worker(std::string id, WorkerMode mode) {
  Command alive{"ZSCORE", key("workers_seen"), id};
  Result<std::vector<Reply>> seen = co_await exec(std::move(alive));
  if (!seen) co_return seen.error();
  const std::string until = text_or(seen->front());
  if (until.empty() || std::atoll(until.c_str()) < now_ms()) co_return not_found("no live instance " + id);
  Command command = mode == WorkerMode::active
                        ? Command{"HDEL", key("worker_control"), id}
                        : Command{"HSET", key("worker_control"), id, to_string(mode)};
  Result<std::vector<Reply>> set = co_await exec(std::move(command));
  if (!set) co_return set.error();
  co_return Done{};
}

asio::awaitable<Result<std::chrono::milliseconds>> RedisStore::take_tokens(std::string bucket, double rate,
                                                                          double burst, double cost) {
  const std::string rate_text = std::to_string(rate), burst_text = std::to_string(burst),
                    cost_text = std::to_string(cost);
  std::vector<std::string> keys = {key("rate:" + bucket)};
  std::vector<std::string_view> args = {base_, rate_text, burst_text, cost_text};
  Result<Reply> reply = co_await eval(take_tokens_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  co_return std::chrono::milliseconds(reply->integer().value_or(0));
}

asio::awaitable<Result<std::vector<WorkerInfo>>> RedisStore::workers() {
  std::vector<std::string> keys = {key("workers"), key("workers_seen")};
  std::vector<std::string_view> args = {base_};
  Result<Reply> reply = co_await eval(workers_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  std::vector<WorkerInfo> out;
  if (const ReplyArray* infos = reply->array())
    for (const Reply& info : *infos)
      if (auto worker = worker_from_json(text_or(info))) out.push_back(std::move(*worker));
  std::sort(out.begin(), out.end(), [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
  co_return out;
}

asio::awaitable<Result<std::size_t>> RedisStore::sweep_retention(std::chrono::milliseconds retention) {
  const std::string keep_for = ms_text(retention);
  const std::string limit = std::to_string(script_batch);
  const std::string maxlen = std::to_string(options_.events_maxlen);
  Command members{"SMEMBERS", key("engines")};
  Result<std::vector<Reply>> engines = co_await exec(std::move(members));
  if (!engines) co_return engines.error();
  std::size_t removed = 0;
  const ReplyArray* names = engines->front().array();
  for (const JobState state : all_job_states) {
    if (!is_terminal(state) || !names) continue;
    for (const Reply& engine : *names) {
      const std::string index = key("idx:" + std::string(to_string(state)) + ":" + text_or(engine));
      std::string cursor;  // the last entry kept (finished later): the next call goes on after it
      for (;;) {
        std::vector<std::string> keys = {index, key("events")};
        std::vector<std::string_view> args = {base_, keep_for, limit, cursor, maxlen};
        Result<Reply> reply = co_await eval(sweep_script, std::move(keys), std::move(args));
        if (!reply) co_return reply.error();
        removed += static_cast<std::size_t>(item(*reply, 0).integer().value_or(0));
        cursor = text_or(item(*reply, 2));
        if (static_cast<std::size_t>(item(*reply, 1).integer().value_or(0)) < script_batch) break;
      }
    }
  }
  co_return removed;
}

std::string RedisStore::packed_result(const std::string& id, const json::value& result) {
  auto spec = claimed_specs_.find(id);
  std::string packed;
  if (!result.is_null())
    packed = job_blob::pack_result(serialize_json(result), spec == claimed_specs_.end() ? "" : spec->second);
  if (spec != claimed_specs_.end()) claimed_specs_.erase(spec);
  return packed;
}

}  // namespace nox
