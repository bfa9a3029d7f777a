#include "server/calculation_cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "core/calculation_hash.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "server/app.hpp"
#include "server/dependencies.hpp"
#include "server/event_hub.hpp"

namespace nox {

namespace asio = boost::asio;

namespace {

// Waiting jobs looked at per step of the sweep, and how often a step runs.
constexpr std::size_t sweep_page = 100;
constexpr auto sweep_period = std::chrono::seconds(5);
// Jobs waiting on one job settled per read of the store's list of them.
constexpr std::size_t waiters_per_read = 100;
// Jobs noted as waited on, at most (see follow_event).
constexpr std::size_t max_awaited = 100000;

bool spec_flag(const Job& job, std::string_view key, bool fallback) {
  const boost::json::value* v = job.spec.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

// What the jobs waiting on one job get once it has ended: its result and files (completed), or
// to be queued (pending: it failed, was cancelled or is gone). nullopt while `on` has not
// ended, or when the store cannot say now (a later try).
asio::awaitable<std::optional<Finish>> outcome_of_wait(App& app, const std::string& on) {
  Finish outcome;
  outcome.state = JobState::pending;
  auto awaited = co_await app.store.get(on);
  if (!awaited) {
    if (awaited.error().code == StoreErrc::not_found) co_return outcome;
    co_return std::nullopt;
  }
  if (!is_terminal(awaited->state)) co_return std::nullopt;
  if (awaited->state != JobState::completed) co_return outcome;
  outcome.state = JobState::completed;
  outcome.result = std::move(awaited->result);
  co_return outcome;
}

// Ends the wait of job `id` on `on` with `outcome`: the job as it is then, or nullopt (settled
// by another instance, cancelled meanwhile, or the store could not be reached).
asio::awaitable<std::optional<Job>> end_wait(App& app, const std::string& id, const std::string& on,
                                             const Finish& outcome) {
  Finish finish = outcome;
  if (finish.state == JobState::completed) {
    // The files are linked or copied inside the store, never read into noxd.
    auto copied = co_await app.store.copy_artifacts(on, id);
    if (!copied) {
      if (copied.error().code != StoreErrc::not_found) co_return std::nullopt;  // a later try
      // `on` deleted meanwhile, its files with it: compute after all. (Were it this job that
      // is gone, resolve_waiting says so.)
      finish = Finish{};
      finish.state = JobState::pending;
    }
  }
  auto resolved = co_await app.store.resolve_waiting(id, on, finish);
  if (!resolved) co_return std::nullopt;
  co_return std::move(*resolved);
}

asio::awaitable<std::optional<Job>> settle_wait(App& app, const std::string& id, const std::string& on) {
  std::optional<Finish> outcome = co_await outcome_of_wait(app, on);
  if (!outcome) co_return std::nullopt;
  std::optional<Job> ended = co_await end_wait(app, id, on, *outcome);
  co_return ended;
}

}  // namespace

void CacheCounters::render(PrometheusText& text) const {
  text.family("nox_calculation_cache_total", "counter",
              "submissions by what the calculation cache did: hit (a finished result shared at once), joined "
              "(waited for an identical calculation under way), miss (computed), bypassed (\"cache\": false)");
  text.sample("nox_calculation_cache_total", {{"outcome", "hit"}}, static_cast<double>(hits));
  text.sample("nox_calculation_cache_total", {{"outcome", "joined"}}, static_cast<double>(joins));
  text.sample("nox_calculation_cache_total", {{"outcome", "miss"}}, static_cast<double>(misses));
  text.sample("nox_calculation_cache_total", {{"outcome", "bypassed"}}, static_cast<double>(bypassed));
}

void stamp_calculation(const App& app, JobSpec& spec) {
  spec.calculation.clear();
  // echo is for tests and benchmarks, which submit the same job many times on purpose; a
  // molecule still to come from another job is not known yet.
  if (app.settings.cache_scope == "off" || spec.engine == "echo" || spec.molecule.atoms.empty()) return;
  for (const EngineStatus& status : app.engines.statuses()) {
    if (status.name == spec.engine && status.available && !status.version.empty()) {
      spec.calculation = calculation_hash(spec, status.version);
      return;
    }
  }
}

CreateBounds with_calculation_key(const App& app, CreateBounds bounds, const Job& job) {
  const std::string hash = text_of(job.spec, "calculation");
  if (hash.empty()) return bounds;
  bounds.calculation_key = calculation_key(hash, app.settings.cache_scope == "lab" ? "" : job.owner);
  bounds.join_calculation = spec_flag(job, "cache", true);
  // A key outlives no job it could name: finished jobs leave after the retention period.
  bounds.calculation_key_ttl = std::chrono::milliseconds(static_cast<std::int64_t>(app.settings.retention_s * 1000));
  return bounds;
}

asio::awaitable<Job> settle_new_job(App& app, Job job) {
  if (text_of(job.spec, "calculation").empty()) co_return job;
  if (!spec_flag(job, "cache", true)) {
    ++app.cache.counters.bypassed;
    co_return job;
  }
  if (job.state != JobState::waiting) {
    ++app.cache.counters.misses;
    co_return job;
  }
  auto settled = co_await settle_wait(app, job.id, job.waiting_on);
  if (!settled) {
    ++app.cache.counters.joins;
    co_return job;
  }
  if (settled->state == JobState::completed) {
    ++app.cache.counters.hits;
  } else {
    ++app.cache.counters.misses;
  }
  co_return std::move(*settled);
}

asio::awaitable<void> settle_waits_on(App& app, std::string id) {
  // The awaited job is read (and its files copied) once for all the jobs that share its
  // calculation, when the first of them comes by; a workflow's job reads its parents itself.
  std::optional<Finish> outcome;
  while (true) {
    auto waiting = co_await app.store.waiting_for(id, waiters_per_read);
    if (!waiting || waiting->empty()) co_return;
    std::size_t settled = 0;
    for (const std::string& waiter : *waiting) {
      auto job = co_await app.store.get(waiter);
      if (!job) continue;
      std::optional<Job> ended;
      if (waits_on_parents(*job)) {
        ended = co_await settle_dependency(app, *job, id);
      } else {
        if (!outcome) outcome = co_await outcome_of_wait(app, id);
        if (!outcome) co_return;  // it has not ended (or the store cannot say now)
        ended = co_await end_wait(app, waiter, id, *outcome);
      }
      if (ended) ++settled;
    }
    // Nothing moved (the store is unreachable, or the parent has not ended): the sweep tries later.
    if (settled == 0) co_return;
  }
}

void follow_event(App& app, const JobEvent& event) {
  std::unordered_set<std::string>& awaited = app.cache.awaited;
  const auto linked = [&](std::string_view key) -> std::string {
    const boost::json::value* v = event.data.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  // A job created waiting (`submitted`), or a workflow's job now waiting on its next parent (`progress`).
  if (event.type == EventType::submitted || event.type == EventType::progress) {
    if (std::string on = linked("waiting_on"); !on.empty()) {
      // A bound for ids whose end this instance never reads (it was down): the sweep covers them.
      if (awaited.size() >= max_awaited) awaited.clear();
      awaited.insert(std::move(on));
    }
    return;
  }
  const bool ended = event.type == EventType::completed || event.type == EventType::failed ||
                     event.type == EventType::cancelled || event.type == EventType::deleted;
  if (!ended) return;
  // A job completed from a job that had already ended (a cache hit): nothing more waits on that one.
  if (std::string from = linked("cached_from"); !from.empty()) awaited.erase(from);
  if (awaited.erase(event.job_id) == 0) return;
  asio::co_spawn(app.events->executor(), settle_waits_on(app, event.job_id), asio::detached);
}

asio::awaitable<void> settle_forgotten_waits(App& app) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string cursor;
  while (!app.stopping) {
    timer.expires_after(sweep_period);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    ListQuery query;
    query.state = JobState::waiting;
    query.limit = sweep_page;
    query.cursor = cursor;
    auto page = co_await app.store.list(std::move(query));
    if (!page) continue;
    // Many jobs of a page may wait on the same one: it is read once.
    std::map<std::string, std::optional<Finish>> outcomes;
    std::size_t settled = 0;
    for (const Job& job : page->jobs) {
      if (job.waiting_on.empty()) continue;
      if (waits_on_parents(job)) {
        std::optional<Job> ended = co_await settle_dependency(app, job, job.waiting_on);
        if (ended) ++settled;
        continue;
      }
      auto known = outcomes.find(job.waiting_on);
      if (known == outcomes.end()) {
        std::optional<Finish> outcome = co_await outcome_of_wait(app, job.waiting_on);
        known = outcomes.emplace(job.waiting_on, std::move(outcome)).first;
      }
      if (!known->second) continue;
      std::optional<Job> ended = co_await end_wait(app, job.id, job.waiting_on, *known->second);
      if (ended) ++settled;
    }
    if (settled > 0) log_info("settled " + std::to_string(settled) + " waits whose end was missed");
    cursor = page->next_cursor;  // "" after the last page: start again from the newest
  }
}

}  // namespace nox
