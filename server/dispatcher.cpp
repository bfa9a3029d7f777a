#include "server/dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <limits>

#include "core/log.hpp"
#include "server/loop_turns.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// In-process (echo) jobs complete without a slot; this many may be writing their outcome at
// once, so that with Redis the next claim does not wait for the previous job's round trip.
constexpr std::size_t max_in_process_in_flight = 128;
// With a pipelining store (Redis) a claim takes at most this many of them, so that several
// claims and outcome writes are out at once and out of step: Redis runs one while this loop
// handles the answer to another. With 64 per claim and 64 in flight the two took turns
// (Redis busy 62-66 % of a queue's drain, noxd 35 %); with 32 of 128, Redis was busy
// 95-100 % and 10,000 echo jobs drained in 408-661 ms instead of 646-708 (bench/RESULTS.md
// run 17).
constexpr std::size_t max_in_process_per_claim = 32;
// A claim from a store that answers without waiting (memory) takes at most this many jobs:
// the claim itself runs in one go.
constexpr std::size_t jobs_per_claim = 16;

// Specs in the store were validated at submission (with this server's limits); when
// they are read back to run, only their shape matters.
std::variant<JobSpec, FieldErrors> stored_spec(const Job& job) { return parse_stored_spec(json::value(job.spec)); }

Finish failure(std::string code, std::string message, bool retryable = false) {
  Finish finish;
  finish.state = JobState::failed;
  finish.error = json::object{{"code", std::move(code)}, {"message", std::move(message)}};
  finish.retryable = retryable;
  return finish;
}

// Takes the engine's result out of `attempt` instead of copying it: an echo result holds
// the whole spec, and a copy was one more tree allocated and freed per job.
Finish outcome_of(AttemptResult& attempt) {
  auto& out = attempt.output;
  if (out.ok) {
    Finish finish;
    finish.state = JobState::completed;
    json::object result = std::move(out.result);
    if (!result.contains("wall_time_s")) result["wall_time_s"] = attempt.process.wall_s;
    finish.result = std::move(result);
    return finish;
  }
  Finish finish = failure(out.error_code.empty() ? "engine_failed" : out.error_code, out.error_message, out.retryable);
  auto& error = finish.error.as_object();
  const auto& p = attempt.process;
  if (p.exit_code >= 0) error["exit_code"] = p.exit_code;
  if (p.term_signal != 0) error["signal"] = p.term_signal;
  if (!p.stderr_tail.empty()) error["stderr_tail"] = p.stderr_tail;
  error["wall_time_s"] = p.wall_s;
  // The geometry an optimization had reached (out of cycles, out of time): what
  // POST /jobs/{id}/continue starts from.
  if (const auto* last = out.result.if_contains("optimized_xyz"); last && last->is_string()) error["last_xyz"] = *last;
  return finish;
}

}  // namespace

Dispatcher::Dispatcher(asio::any_io_executor loop, Store& store, Runner& runner, const EngineRegistry& engines,
                       DispatcherOptions options)
    : loop_(loop),
      store_(store),
      runner_(runner),
      engines_(engines),
      in_process_engines_(engines.in_process_engines()),
      options_(std::move(options)),
      slot_signal_(loop, asio::steady_timer::time_point::max()),
      stop_signal_(loop, asio::steady_timer::time_point::max()),
      breaker_(options_.breaker_failures, options_.breaker_cooldown) {
  if (options_.slots == 0) options_.slots = 1;
}

void Dispatcher::plan_next_attempt(const Job& job, Finish& finish) {
  if (finish.state != JobState::failed || !finish.error.is_object()) return;
  const RetryPolicy policy = retry_policy_of(job.spec, options_.retry);
  const double random01 = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
  RetryPlan plan = plan_retry(job.spec, finish.error.get_object(), finish.retryable, job.own_attempts(), policy, random01);
  finish.retryable = plan.retry;
  if (!plan.retry) return;
  const TimeMs now = now_ms();
  finish.retry_at = plan.delay.count() > 0 ? now + plan.delay.count() : 0;
  finish.spec = std::move(plan.spec);
  finish.retry_note["next_attempt_at"] = to_rfc3339(finish.retry_at > 0 ? finish.retry_at : now);
  if (!plan.changed.empty()) finish.retry_note["changed"] = std::move(plan.changed);
}

void Dispatcher::note_for_breaker(const std::string& engine, Finish& finish) {
  const bool succeeded = finish.state == JobState::completed;
  std::string code, message;
  if (finish.error.is_object()) {
    const auto& error = finish.error.get_object();
    if (const auto* c = error.if_contains("code"); c && c->is_string()) code = std::string(c->get_string());
    if (const auto* m = error.if_contains("message"); m && m->is_string()) message = std::string(m->get_string());
  }
  const std::string line = code + ": " + message.substr(0, message.find('\n'));
  if (breaker_.record(engine, succeeded, blames_the_instance(code, finish.retryable), line)) {
    // The job's `failed` (or `retrying`) event says so: subscribers and the dashboard see it.
    if (finish.error.is_object())
      finish.error.get_object()["engine_taken_out"] =
          json::object{{"engine", engine},
                       {"instance", options_.worker_id},
                       {"until", to_rfc3339(now_ms() + options_.breaker_cooldown.count())}};
    log_warn("engine " + engine + " taken out of this instance's claims for " +
             std::to_string(options_.breaker_cooldown.count() / 1000) + " s after " +
             std::to_string(options_.breaker_failures) + " failures in a row not caused by the input (last: " + line +
             "); other instances go on running its jobs");
  }
}

asio::awaitable<void> Dispatcher::sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(loop_, duration);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

void Dispatcher::notify_slot_freed() { slot_signal_.cancel(); }

asio::awaitable<void> Dispatcher::run() {
  if (!options_.runs_jobs) co_return;
  auto backoff = 100ms;
  while (!stopping_) {
    if (mode_ == WorkerMode::draining && attempts_in_flight_ == 0 && on_drained) {
      log_info("instance " + options_.worker_id + " drained: stopping");
      std::exchange(on_drained, nullptr)();
    }
    if (mode_ != WorkerMode::active || busy_ >= options_.slots || in_process_in_flight_ >= max_in_process_in_flight) {
      slot_signal_.expires_after(1s);
      co_await slot_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    ClaimBudget budget;
    budget.excluded_engines = breaker_.excluded();
    budget.offered_tags = options_.offered_tags;
    budget.served_queues = options_.served_queues;
    const bool engines_out = !budget.excluded_engines.empty();
    budget.slots = options_.slots - busy_;
    budget.total_slots = options_.slots;
    budget.in_process = max_in_process_in_flight - in_process_in_flight_;
    // A store that answers without waiting (memory) runs what it hands out before the next
    // yield: hand out no more than one stretch between yields. One that pipelines (Redis)
    // takes the in-process jobs (echo) by the dozen in one script call, not `slots` at a time.
    if (store_.pipelines()) {
      budget.in_process_engines = in_process_engines_;
      budget.in_process = std::min(budget.in_process, max_in_process_per_claim);
    } else {
      budget.slots = budget.in_process = std::min({budget.slots, budget.in_process, jobs_per_claim});
    }
    auto claimed = co_await store_.claim_within(options_.worker_id, options_.lease, std::move(budget));
    if (!claimed) {
      log_warn("claim failed: " + claimed.error().message);
      co_await sleep(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
      continue;
    }
    backoff = 100ms;
    if (claimed->empty()) {
      // With an engine taken out the queue may hold only its jobs: wake-ups would not stop.
      if (engines_out) co_await sleep(1s);
      else co_await store_.wait_for_work(1s);
      continue;
    }
    if (store_.pipelines()) {
      // The jobs count against the budget now and start on the loop's next turn: the next
      // claim goes to Redis first, which runs it while this loop runs these.
      for (const Job& job : *claimed) reserve(job);
      asio::co_spawn(loop_, start_reserved(std::move(*claimed)), asio::detached);
      continue;
    }
    // A store that answers without waiting (memory) would let a long queue drain in one
    // go and hold up every request: each in-process job takes its turn with the rest of the
    // loop (complete_in_process); a subprocess job only starts a coroutine here.
    for (Job& job : *claimed) {
      reserve(job);
      co_await launch(std::move(job));
    }
  }
}

void Dispatcher::reserve(const Job& job) {
  ++attempts_in_flight_;
  const Engine* engine = engines_.find(job.engine());
  if (!engine) return;
  if (engine->uses_subprocess()) busy_ += slots_for(job);
  else ++in_process_in_flight_;
}

asio::awaitable<void> Dispatcher::start_reserved(std::vector<Job> jobs) {
  co_await asio::post(loop_, asio::use_awaitable);
  for (Job& job : jobs) co_await launch(std::move(job));
}

asio::awaitable<void> Dispatcher::launch(Job job) {
  const Engine* engine = engines_.find(job.engine());
  if (!engine) {
    Finish missing = failure("engine_unavailable",
                             "engine " + job.engine() + " is not installed on instance " + options_.worker_id, true);
    note_for_breaker(job.engine(), missing);
    co_await write_outcome(job.id, {}, std::move(missing));
    --attempts_in_flight_;
    co_return;
  }
  if (!engine->uses_subprocess()) {
    // A pipelining store (Redis) overlaps outcomes with the next claims; the memory
    // store answers at once, where a coroutine per job would only add cost.
    if (store_.pipelines()) asio::co_spawn(loop_, complete_in_process(std::move(job), *engine), asio::detached);
    else co_await complete_in_process(std::move(job), *engine);
    co_return;
  }
  asio::co_spawn(loop_, run_job(std::move(job)), asio::detached);
}

asio::awaitable<void> Dispatcher::complete_in_process(Job job, const Engine& engine) {
  co_await take_turn();  // a claim starts dozens at once: the only place they wait their turn
  const auto began = std::chrono::steady_clock::now();
  EngineOutput output = engine.run_in_process(job.spec);
  AttemptResult attempt;
  attempt.output = std::move(output);
  const auto recorded = co_await write_outcome(job.id, {}, outcome_of(attempt));
  count_outcome(job, recorded, std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  --in_process_in_flight_;
  --attempts_in_flight_;
  notify_slot_freed();
}

std::size_t Dispatcher::slots_for(const Job& job) const {
  return std::min(static_cast<std::size_t>(job.threads()), options_.slots);
}

asio::awaitable<void> Dispatcher::run_job(Job job) {
  const std::string id = job.id;
  const std::size_t slots_held = slots_for(job);
  bool slot_held = true;
  std::optional<Finish> crash;
  try {
    auto parsed = stored_spec(job);
    if (auto* errors = std::get_if<FieldErrors>(&parsed)) {
      // Only possible when a spec was written by another version of Nox.
      throw std::runtime_error("stored spec is invalid: " + errors->front().field + ": " + errors->front().message);
    }
    JobSpec spec = std::move(std::get<JobSpec>(parsed));
    // A workflow's job is queued only once its molecule is filled in (server/dependencies.hpp);
    // an engine given no atoms may never return (xtb on an empty mol.xyz spins).
    if (spec.molecule.atoms.empty()) throw std::runtime_error("the job has no molecule to run on");
    // Asked for more cores than this instance has (another one may have them): runs on all of its slots.
    spec.threads = static_cast<int>(slots_held);
    const Engine& engine = *engines_.find(spec.engine);
    auto control = std::make_shared<ProcessControl>();
    auto lease_timer = std::make_shared<asio::steady_timer>(loop_);
    running_[id] = {control, lease_timer};
    asio::co_spawn(loop_, keep_lease(id, control, lease_timer), asio::detached);
    log_info("job " + id + " started (" + spec.engine + " " + spec.task + ", attempt " +
             std::to_string(job.attempts) + ")");

    ProgressCallback on_progress = [this, id](json::object step) {
      asio::co_spawn(loop_, record_progress(id, std::move(step)), asio::detached);
    };
    AttemptResult attempt = co_await runner_.run(engine, spec, id, control, std::move(on_progress));
    lease_timer->expires_at(asio::steady_timer::time_point::min());  // ends keep_lease, even mid-renewal
    running_.erase(id);
    // The slot stays taken until the outcome is written: until then the store still shows
    // the job running, and `running` jobs must never outnumber the slots.
    if (attempt.process.cancelled && stopping_) {
      co_await write_outcome(id, std::move(attempt.artifacts),
                             failure("interrupted", "the server stopped while this job ran", true));
    } else if (attempt.process.cancelled) {
      // The store already holds the job as cancelled (or another instance took it over).
      log_info("job " + id + " stopped: cancelled or no longer ours");
      co_await keep_partial_files(id, std::move(attempt.artifacts));
    } else {
      Finish finish = outcome_of(attempt);
      note_for_breaker(spec.engine, finish);
      plan_next_attempt(job, finish);
      log_info("job " + id + " " + std::string(to_string(finish.state)) + " after " +
               std::to_string(attempt.process.wall_s) + " s");
      const auto recorded = co_await write_outcome(id, std::move(attempt.artifacts), std::move(finish));
      count_outcome(job, recorded, attempt.process.wall_s);
    }
    busy_ -= slots_held;
    slot_held = false;
    notify_slot_freed();
  } catch (const std::exception& e) {
    log_error("job " + id + ": unexpected error: " + e.what());
    crash = failure("internal_error", std::string("the server failed to run this job: ") + e.what(), true);
  }
  if (slot_held) {
    if (auto it = running_.find(id); it != running_.end()) {
      it->second.lease_timer->expires_at(asio::steady_timer::time_point::min());
      running_.erase(it);
    }
    if (crash) {
      note_for_breaker(job.engine(), *crash);
      co_await write_outcome(id, {}, std::move(*crash));  // (no co_await inside a catch)
    }
    busy_ -= slots_held;
    notify_slot_freed();
  }
  --attempts_in_flight_;
}

asio::awaitable<void> Dispatcher::keep_partial_files(std::string job_id, std::vector<Artifact> artifacts) {
  if (artifacts.empty()) co_return;
  // Only when the job ended cancelled: a lease lost to another instance leaves the files to
  // the attempt that runs there now.
  auto job = co_await store_.get(job_id);
  if (!job || job->state != JobState::cancelled) co_return;
  auto put = co_await store_.put_artifacts(job_id, std::move(artifacts));
  if (!put) log_warn("partial files of cancelled job " + job_id + " not kept: " + put.error().message);
}

asio::awaitable<void> Dispatcher::keep_lease(std::string job_id, std::shared_ptr<ProcessControl> control,
                                             std::shared_ptr<asio::steady_timer> timer) {
  const auto interval = std::max<std::chrono::milliseconds>(options_.lease / 3, 100ms);
  while (true) {
    timer->expires_after(interval);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || control->cancel_requested) co_return;  // the attempt ended
    auto renewed = co_await store_.renew(job_id, options_.worker_id, options_.lease);
    // The attempt may have ended while the renewal was out: then stop quietly.
    if (timer->expiry() == asio::steady_timer::time_point::min()) co_return;
    if (!renewed && renewed.error().code != StoreErrc::unavailable) {
      // Cancelled through another instance, or our lease was lost: stop the process.
      log_info("job " + job_id + ": lease not renewed (" + renewed.error().message + "), stopping it");
      metrics_.lease_lost();
      control->cancel_requested = true;
      co_return;
    }
  }
}

asio::awaitable<void> Dispatcher::record_progress(std::string job_id, json::object progress) {
  auto recorded = co_await store_.record_progress(job_id, std::move(progress));
  if (!recorded && recorded.error().code == StoreErrc::unavailable)
    log_debug("progress of job " + job_id + " not recorded: " + recorded.error().message);
}

void Dispatcher::count_outcome(const Job& job, std::optional<JobState> recorded, double seconds) {
  if (!recorded) return;
  const bool again = *recorded == JobState::pending || *recorded == JobState::scheduled;
  const std::string outcome = again ? "retrying" : std::string(to_string(*recorded));
  auto text = [&](const char* field) {
    const auto* value = job.spec.if_contains(field);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
  };
  metrics_.finished(job.engine(), text("task"), text("method"), outcome, seconds);
}

asio::awaitable<std::optional<JobState>> Dispatcher::write_outcome(std::string job_id, std::vector<Artifact> artifacts,
                                                                   Finish finish) {
  auto backoff = 100ms;
  bool artifacts_stored = artifacts.empty();
  while (true) {
    if (!artifacts_stored) {
      auto put = co_await store_.put_artifacts(job_id, artifacts);
      if (put || put.error().code != StoreErrc::unavailable) {
        if (!put) log_warn("artifacts of job " + job_id + " not kept: " + put.error().message);
        artifacts_stored = true;
      }
    }
    if (artifacts_stored) {
      auto finished = co_await store_.finish(job_id, options_.worker_id, finish);
      if (finished) co_return finished->state;
      if (finished.error().code != StoreErrc::unavailable) {
        log_info("outcome of job " + job_id + " dropped: " + finished.error().message);
        co_return std::nullopt;
      }
    }
    // The store is unreachable (Redis restarting): the result is kept here until it is back.
    log_warn("store unavailable; retrying the outcome of job " + job_id);
    co_await sleep(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
  }
}

asio::awaitable<void> Dispatcher::promote_scheduled() {
  // A due job starts within this much (plus a claim) of its run_at; with Redis every instance
  // does it, each promotion once (one script call a quarter second per instance).
  constexpr auto period = 250ms;
  asio::steady_timer timer(loop_);
  while (!stopping_) {
    if (auto moved = co_await store_.promote_due(); moved && *moved > 0)
      log_debug("scheduled: " + std::to_string(*moved) + " jobs are due and queued");
    timer.expires_after(period);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> Dispatcher::housekeeping() {
  auto last_retention = std::chrono::steady_clock::time_point{};
  const TimeMs started = now_ms();
  bool store_was_away = false;
  while (!stopping_) {
    WorkerInfo me{options_.worker_id, options_.host, options_.listen, static_cast<int>(slots()),
                  static_cast<int>(busy_), started, 0};
    me.mode = mode_;
    me.tags = options_.offered_tags;
    me.queues = options_.served_queues;
    for (const auto& out : breaker_.open()) me.engines_out.push_back(out.engine);
    // Order matters after an outage: first say we are alive, then renew what we hold, and
    // only then look for other instances' expired leases, so a sweep (ours or another
    // instance's) never takes work from an instance that is merely coming back.
    auto beat = co_await store_.heartbeat(me, options_.worker_timeout);
    if (!beat) {
      store_was_away = true;
    } else {
      follow_mode(*beat);
      if (store_was_away) {
        store_was_away = false;
        co_await renew_all();
      }
      if (auto moved = co_await store_.requeue_expired(); moved && *moved > 0) metrics_.requeued(*moved);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_retention > 60s) {
        last_retention = now;
        auto swept = co_await store_.sweep_retention(options_.retention);
        if (swept && *swept > 0) log_info("retention: removed " + std::to_string(*swept) + " finished jobs");
      }
    }
    stop_signal_.expires_after(options_.housekeeping_interval);
    co_await stop_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Dispatcher::follow_mode(WorkerMode asked) {
  if (asked == mode_ || !options_.runs_jobs) return;
  log_info("instance " + options_.worker_id + " is now " + std::string(to_string(asked)) +
           (asked == WorkerMode::draining ? ": it claims no more jobs and stops once its running jobs have finished"
            : asked == WorkerMode::paused ? ": it claims no more jobs until resumed; running jobs go on"
                                          : ": it claims jobs again"));
  mode_ = asked;
  slot_signal_.cancel();  // a paused claim loop looks again
}

asio::awaitable<void> Dispatcher::renew_all() {
  std::vector<std::string> ids;
  for (const auto& [id, running] : running_) ids.push_back(id);
  for (const auto& id : ids) {
    auto renewed = co_await store_.renew(id, options_.worker_id, options_.lease);
    if (!renewed && renewed.error().code != StoreErrc::unavailable) cancel_local(id);
  }
  if (!ids.empty()) log_info("store reachable again: renewed " + std::to_string(ids.size()) + " leases");
}

void Dispatcher::cancel_local(const std::string& job_id) {
  auto it = running_.find(job_id);
  if (it != running_.end()) it->second.control->cancel_requested = true;
}

void Dispatcher::stop() {
  stopping_ = true;
  for (auto& [id, running] : running_) running.control->cancel_requested = true;
  slot_signal_.cancel();
  stop_signal_.cancel();
}

asio::awaitable<void> Dispatcher::drained() {
  while (attempts_in_flight_ > 0) co_await sleep(50ms);
}

}  // namespace nox
