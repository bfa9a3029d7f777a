#include "storage/store.hpp"

namespace nox {

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
