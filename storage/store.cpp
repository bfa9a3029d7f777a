#include "storage/store.hpp"

#include "core/json_serialize.hpp"

namespace nox {

boost::asio::awaitable<Result<StatusText>> Store::status_json(std::string id) {
  auto job = co_await get(std::move(id));
  if (!job) co_return job.error();
  co_return StatusText{serialize_json(job_status_json(*job)), job->owner};
}

boost::asio::awaitable<Result<std::vector<Job>>> Store::claim_batch(std::string worker_id, Lease lease,
                                                                    std::size_t max) {
  std::vector<Job> claimed;
  if (max == 0) co_return claimed;
  auto one = co_await claim(std::move(worker_id), lease);
  if (!one) co_return one.error();
  if (*one) claimed.push_back(std::move(**one));
  co_return claimed;
}

boost::asio::awaitable<Result<std::vector<Job>>> Store::claim_within(std::string worker_id, Lease lease,
                                                                     ClaimBudget budget) {
  return claim_batch(std::move(worker_id), lease, std::min(budget.slots, budget.in_process));
}

boost::asio::awaitable<Result<std::vector<JobEvent>>> Store::job_events(std::string job_id) {
  std::vector<JobEvent> history;
  std::string after;
  while (true) {
    auto batch = co_await read_events(after, 1000, std::chrono::milliseconds(0));
    if (!batch) co_return batch.error();
    if (batch->events.empty()) break;
    after = batch->events.back().id;
    for (auto& event : batch->events)
      if (event.job_id == job_id) history.push_back(std::move(event));
  }
  co_return history;
}

}  // namespace nox
