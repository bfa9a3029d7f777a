#pragma once
// The calculation cache: never compute the same calculation twice.
//
// Every job a real engine of this instance will run gets a calculation hash at admission
// (core/calculation_hash.hpp; spec.calculation). The store keeps, per calculation key (the hash,
// scoped to the owner unless cache_scope = lab), the latest job created with it. A submission
// whose calculation matches a job that has not failed nor been cancelled is created `waiting` on
// that job instead of queued (storage: CreateBounds::calculation_key):
//   - the job already completed: its result and files are copied now and the new job answers
//     `completed` with `cached_from` (no engine run);
//   - it is pending or running: the new job waits and completes with it (joined);
//   - it then fails, is cancelled or goes away: the new job is queued and runs itself.
// `"cache": false` in a spec skips all of it (the job runs, and is then the latest for its key).
//
// Every instance settles the waits on a job when it reads that job's end in the event log (it
// learnt from the waiting jobs' `submitted` events which jobs are waited on, so other jobs'
// ends cost nothing); a slow sweep of waiting jobs settles any wait whose event was missed.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "core/job.hpp"
#include "core/job_event.hpp"
#include "core/job_spec.hpp"
#include "core/metrics.hpp"
#include "storage/store.hpp"

namespace nox {

struct App;

struct CacheCounters {
  std::uint64_t hits = 0;      // completed at once from a finished calculation
  std::uint64_t joins = 0;     // waited for an identical calculation under way
  std::uint64_t misses = 0;    // computed: no identical calculation to share
  std::uint64_t bypassed = 0;  // computed: "cache": false
  void render(PrometheusText& text) const;
};

// This instance's part of the cache: its counters, and the jobs it saw being waited on.
struct CalculationCache {
  CacheCounters counters;
  std::unordered_set<std::string> awaited;  // ids of jobs some waiting job waits on
};

// On admission of a spec that passed its engine's checks: its calculation hash, when a real
// engine of this instance (with a known version) will run it and the cache is not off.
void stamp_calculation(const App& app, JobSpec& spec);

// The bounds with this job's calculation key (none when the spec has no hash).
CreateBounds with_calculation_key(const App& app, CreateBounds bounds, const Job& job);

// After create(): counts the outcome, and completes a job created waiting on a completed one
// at once (the answer then says `completed`, with cached_from).
boost::asio::awaitable<Job> settle_new_job(App& app, Job job);

// The job `id` ended or went away: the jobs waiting on it end their wait.
boost::asio::awaitable<void> settle_waits_on(App& app, std::string id);

// For each event of the log (EventHub::on_event): notes the jobs waited on, and settles the
// waits on one when its end (completed, failed, cancelled, deleted) comes by.
void follow_event(App& app, const JobEvent& event);

// Settles every wait whose end was missed: all waiting jobs, a page at a time, each waiting
// on a job that is finished or gone. Runs until the app stops.
boost::asio::awaitable<void> settle_forgotten_waits(App& app);

}  // namespace nox
