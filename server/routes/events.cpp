// Server-Sent Events: GET /events (all jobs, filtered) and GET /jobs/{id}/events (one job).
// A stream first replays what the client missed (after Last-Event-ID, or a job's whole
// history), then goes live from the EventHub; ids already sent are skipped, so the
// hand-over from replay to live has neither gap nor duplicate.
#include "core/job_id.hpp"
#include "server/api_error.hpp"
#include "server/app.hpp"
#include "server/event_hub.hpp"
#include "server/request_body.hpp"
#include "server/routes/routes.hpp"
#include "server/sse_format.hpp"

namespace nox::routes {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t replay_batch = 1000;
constexpr std::size_t chunk_target_bytes = 64 * 1024;

bool ends_job_stream(EventType type) {
  return type == EventType::completed || type == EventType::failed || type == EventType::cancelled ||
         type == EventType::deleted;
}

class EventStream final : public StreamBody {
 public:
  EventStream(App& app, std::unique_ptr<Subscription> subscription, std::string last_event_id)
      : app_(app), subscription_(std::move(subscription)), last_sent_(std::move(last_event_id)) {}

  asio::awaitable<void> run(StreamWriter& writer) override {
    pending_ = "retry: 3000\n\n";
    const bool replayed = one_job() ? co_await replay_job_history() : co_await replay_log(writer);
    if (finished_ || !replayed) {
      co_await writer.write(std::move(pending_));
      co_return;
    }
    if (!co_await flush(writer)) co_return;
    const auto heartbeat = std::chrono::milliseconds(static_cast<std::int64_t>(app_.settings.sse_heartbeat_s * 1000));
    while (!finished_) {
      co_await subscription_->wait(heartbeat);
      if (subscription_->closed() || subscription_->overflowed()) break;
      if (subscription_->reset_requested()) {
        pending_ += sse_reset_frame(last_sent_);
        co_await writer.write(std::move(pending_));
        break;  // the client reloads and reconnects
      }
      auto frames = subscription_->take();
      if (frames.empty()) {
        pending_ += sse_comment("keep-alive");
      } else {
        for (const auto& frame : frames) append(*frame);
      }
      if (!co_await flush(writer)) break;
    }
  }

  void stop() override { subscription_->close(); }

  // The job had already ended when the stream opened: if its history (the log's part of it)
  // holds no final event, because the log has dropped it, the stream tells this one and ends
  // instead of waiting for an event that will never come.
  void end_with(JobEvent final_state) { final_state_ = std::move(final_state); }
  // Keeps the caller's stream slot (AccessControl::open_stream) for as long as the stream lives.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

 private:
  bool one_job() const { return !subscription_->filter().job_id.empty(); }

  // Adds a frame unless the client already has it; a job stream ends at its last event.
  void append(const SseFrame& frame) {
    if (finished_ || (!last_sent_.empty() && !event_id_after(frame.id, last_sent_))) return;
    pending_ += frame.text;
    last_sent_ = frame.id;
    if (one_job() && ends_job_stream(frame.type)) finished_ = true;
  }

  asio::awaitable<bool> flush(StreamWriter& writer) {
    if (pending_.empty()) co_return true;
    co_return co_await writer.write(std::exchange(pending_, {}));
  }

  asio::awaitable<bool> replay_job_history() {
    auto history = co_await app_.store.job_events(subscription_->filter().job_id);
    if (!history) co_return false;
    // An end that is not the last event (a failed job retried by hand) does not end the replay.
    for (std::size_t i = 0; i < history->size(); ++i) {
      append(*make_frame((*history)[i]));
      if (i + 1 < history->size()) finished_ = false;
    }
    if (!finished_ && final_state_) {
      pending_ += sse_frame(*final_state_);
      finished_ = true;
    }
    co_return true;
  }

  // Everything after the client's Last-Event-ID, in batches, through the same filter.
  asio::awaitable<bool> replay_log(StreamWriter& writer) {
    if (last_sent_.empty()) co_return true;  // a new subscriber: live events only
    std::string after = last_sent_;
    while (true) {
      auto batch = co_await app_.store.read_events(after, replay_batch, std::chrono::milliseconds(0));
      if (!batch) co_return false;
      if (batch->reset) {
        pending_ += sse_reset_frame(after);
        last_sent_.clear();
        co_return true;
      }
      if (batch->events.empty()) co_return true;
      for (const auto& event : batch->events) {
        if (co_await app_.events->matches(subscription_->filter(), event)) append(*make_frame(event));
        after = event.id;
      }
      // Keep memory bounded while a long backlog streams out.
      if (pending_.size() > chunk_target_bytes && !co_await flush(writer)) co_return false;
    }
  }

  App& app_;
  std::shared_ptr<void> slot_;  // one of the identity's max_streams
  std::unique_ptr<Subscription> subscription_;
  std::string last_sent_;
  std::string pending_;
  bool finished_ = false;
  std::optional<JobEvent> final_state_;
};

// The event that ended `job` (terminal), without a log id.
JobEvent final_event_of(const Job& job) {
  JobEvent event;
  event.type = job.state == JobState::completed ? EventType::completed
               : job.state == JobState::failed  ? EventType::failed
                                                : EventType::cancelled;
  event.job_id = job.id;
  event.state = job.state;
  event.time = job.finished_at;
  if (job.state == JobState::completed) event.data["result"] = result_summary(job.result);
  else if (!job.error.is_null()) event.data["error"] = job.error;
  return event;
}

HttpResponse stream_response(std::shared_ptr<EventStream> stream) {
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
  response.stream = std::move(stream);
  return response;
}

std::shared_ptr<EventStream> open_stream(App& app, EventFilter filter, std::string last_event_id) {
  return std::make_shared<EventStream>(app, app.events->subscribe(std::move(filter)), std::move(last_event_id));
}

std::string last_event_id_of(const HttpRequest& request) {
  std::string id(request.header("last-event-id"));
  if (id.empty()) id = query_param(request.query(), "last_event_id").value_or("");
  return id;
}

std::optional<HttpResponse> unavailable_when_stopping(const App& app) {
  if (app.events && !app.events->stopped()) return std::nullopt;
  auto response = error_response(503, "shutting_down", "the server is shutting down; reconnect to another instance");
  response.headers.emplace_back("Retry-After", "2");
  return response;
}

}  // namespace

asio::awaitable<HttpResponse> stream_events(App& app, const HttpRequest& request, const PathParams&) {
  if (auto refused = unavailable_when_stopping(app)) co_return std::move(*refused);
  EventFilter filter;
  const auto q = request.query();
  if (auto state = query_param(q, "state")) {
    filter.state = parse_job_state(*state);
    if (!filter.state) {
      const std::string message = unknown_state_message(*state);
      co_return error_response(400, "invalid_parameter", message,
                               json::array{json::object{{"field", "state"}, {"message", message}}});
    }
  }
  if (auto engine = query_param(q, "engine")) filter.engine = *engine;
  if (auto tag = query_param(q, "tag")) filter.tag = *tag;
  // A subscriber sees its own jobs' events only (an administrator everyone's).
  filter.owner = request.identity.confined_to();
  auto slot = app.access.open_stream(request.identity);
  if (auto* refused = std::get_if<HttpResponse>(&slot)) co_return std::move(*refused);
  auto stream = open_stream(app, std::move(filter), last_event_id_of(request));
  stream->hold(std::move(std::get<std::shared_ptr<void>>(slot)));
  co_return stream_response(std::move(stream));
}

asio::awaitable<HttpResponse> stream_job_events(App& app, const HttpRequest& request, const PathParams& params) {
  if (auto refused = unavailable_when_stopping(app)) co_return std::move(*refused);
  const auto id = params.get("id");
  if (auto bad = reject_malformed_job_id(id)) co_return std::move(*bad);
  auto slot = app.access.open_stream(request.identity);
  if (auto* refused = std::get_if<HttpResponse>(&slot)) co_return std::move(*refused);
  EventFilter filter;
  filter.job_id = std::string(id);
  // Subscribe before looking the job up, so nothing that happens in between is missed.
  auto stream = open_stream(app, std::move(filter), last_event_id_of(request));
  stream->hold(std::move(std::get<std::shared_ptr<void>>(slot)));
  auto job = co_await get_visible_job(app, request, std::string(id));
  if (!job) co_return store_error_response(job.error());
  if (is_terminal(job->state)) stream->end_with(final_event_of(*job));
  co_return stream_response(std::move(stream));
}

}  // namespace nox::routes
