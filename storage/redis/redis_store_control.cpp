// RedisStore: what operators control and read beside the jobs themselves: GET /queue's
// overview (queue_overview.lua), named queues' controls (the hash "<base>queue_controls" that
// claim.lua reads), and recurring schedules (schedule_save.lua).
#include <charconv>

#include "core/job_spec.hpp"
#include "storage/redis/redis_store.hpp"
#include "storage/redis/script_replies.hpp"

namespace nox {

namespace asio = boost::asio;
using redis::Command;
using redis::item;
using redis::Reply;
using redis::ReplyArray;
using redis::status_of;
using redis::text_or;

namespace {

std::int64_t number_of(const Reply& reply) {
  if (auto n = reply.integer()) return *n;
  const std::string text = text_or(reply);
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// A flat HGETALL reply, pair by pair.
template <class Visit>
void each_field(const Reply& reply, Visit visit) {
  if (const ReplyArray* fields = reply.array())
    for (std::size_t i = 0; i + 1 < fields->size(); i += 2) visit(text_or((*fields)[i]), (*fields)[i + 1]);
}

std::uint64_t positive(std::int64_t n) { return n > 0 ? static_cast<std::uint64_t>(n) : 0; }

}  // namespace

asio::awaitable<Result<QueueOverview>> RedisStore::queue_overview() {
  std::vector<std::string> keys = {key("queue"),  key("counts"),    key("queue_controls"),
                                   key("leases"), key("scheduled"), key("engines")};
  std::vector<std::string_view> args = {base_};
  Result<Reply> reply = co_await eval(queue_overview_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  QueueOverview overview;
  overview.queues[std::string(kDefaultQueue)];
  if (const ReplyArray* lanes = item(*reply, 0).array()) {
    for (std::size_t i = 0; i + 2 < lanes->size(); i += 3) {
      const std::uint64_t pending = positive(number_of((*lanes)[i + 2]));
      overview.queues[text_or((*lanes)[i])].pending += pending;
      overview.pending += pending;
      const std::string tags = text_or((*lanes)[i + 1]);
      for (std::size_t at = 0; at < tags.size();) {
        const std::size_t comma = std::min(tags.find(',', at), tags.size());
        overview.pending_by_requirement[tags.substr(at, comma - at)] += pending;
        at = comma + 1;
      }
    }
  }
  each_field(item(*reply, 1), [&](const std::string& priority, const Reply& pending) {
    int p = 0;
    std::from_chars(priority.data(), priority.data() + priority.size(), p);
    overview.pending_by_priority[p] += positive(number_of(pending));
  });
  each_field(item(*reply, 2), [&](const std::string& field, const Reply& value) {
    if (field.starts_with("run:")) overview.queues[field.substr(4)].running += positive(number_of(value));
  });
  each_field(item(*reply, 3), [&](const std::string& queue, const Reply& value) {
    const std::string text = text_or(value);
    QueueControl& control = overview.queues[queue].control;
    control.paused = text.find("paused") != std::string::npos;
    const std::size_t digits = text.find_first_of("0123456789");
    if (digits != std::string::npos)
      std::from_chars(text.data() + digits, text.data() + text.size(), control.concurrency);
  });
  overview.running = positive(number_of(item(*reply, 4)));
  overview.scheduled = positive(number_of(item(*reply, 5)));
  overview.waiting = positive(number_of(item(*reply, 6)));
  overview.oldest_pending_created_at = number_of(item(*reply, 7));
  co_return overview;
}

asio::awaitable<Result<QueueControl>> RedisStore::control_queue(std::string name, QueueControlChange change) {
  const std::string paused = change.paused ? (*change.paused ? "1" : "0") : "";
  const std::string concurrency = change.concurrency ? std::to_string(*change.concurrency) : "";
  std::vector<std::string> keys = {key("queue_controls"), key("wake")};
  std::vector<std::string_view> args = {name, paused, concurrency, "64"};
  Result<Reply> reply = co_await eval(queue_control_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  QueueControl control;
  control.paused = number_of(item(*reply, 0)) == 1;
  control.concurrency = positive(number_of(item(*reply, 1)));
  co_return control;
}

// --- recurring schedules ---

asio::awaitable<Result<ScheduleRecord>> RedisStore::write_schedule(std::string_view mode, ScheduleRecord schedule) {
  const std::string revision = std::to_string(schedule.revision), next = std::to_string(schedule.next_fire_at),
                    most = std::to_string(max_schedules);
  std::vector<std::string> keys = {key("schedule:" + schedule.id), key("schedules"), key("schedules_due")};
  std::vector<std::string_view> args = {base_,         mode, schedule.id, revision, schedule.owner, schedule.body,
                                        next,          schedule.paused ? "1" : "0", most};
  Result<Reply> reply = co_await eval(schedule_save_script, std::move(keys), std::move(args));
  if (!reply) co_return reply.error();
  const std::string_view status = status_of(*reply);
  if (status == "not_found") co_return not_found("no schedule " + schedule.id);
  if (status == "full") co_return full("the store holds its maximum of " + std::to_string(max_schedules) + " schedules");
  if (status == "conflict")
    co_return StoreError{StoreErrc::conflict,
                         mode == "create" ? "schedule " + schedule.id + " exists"
                                          : "schedule " + schedule.id + " changed meanwhile",
                         {}};
  if (status != "ok") co_return unavailable("unexpected answer from Redis: " + reply->describe());
  schedule.revision = static_cast<std::uint64_t>(number_of(item(*reply, 1)));
  co_return schedule;
}

asio::awaitable<Result<ScheduleRecord>> RedisStore::create_schedule(ScheduleRecord schedule) {
  co_return co_await write_schedule("create", std::move(schedule));
}

asio::awaitable<Result<ScheduleRecord>> RedisStore::save_schedule(ScheduleRecord schedule) {
  co_return co_await write_schedule("save", std::move(schedule));
}

asio::awaitable<Result<Done>> RedisStore::remove_schedule(std::string id) {
  ScheduleRecord schedule;
  schedule.id = std::move(id);
  Result<ScheduleRecord> removed = co_await write_schedule("remove", std::move(schedule));
  if (!removed) co_return removed.error();
  co_return Done{};
}

namespace {

std::optional<ScheduleRecord> schedule_from(std::string id, const Reply& fields) {
  ScheduleRecord schedule;
  schedule.id = std::move(id);
  each_field(fields, [&](const std::string& field, const Reply& value) {
    if (field == "owner") schedule.owner = text_or(value);
    else if (field == "body") schedule.body = text_or(value);
    else if (field == "next") schedule.next_fire_at = number_of(value);
    else if (field == "paused") schedule.paused = text_or(value) == "1";
    else if (field == "rev") schedule.revision = positive(number_of(value));
  });
  if (schedule.revision == 0) return std::nullopt;
  return schedule;
}

}  // namespace

asio::awaitable<Result<ScheduleRecord>> RedisStore::get_schedule(std::string id) {
  Command command{"HGETALL", key("schedule:" + id)};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  auto schedule = schedule_from(id, replies->front());
  if (!schedule) co_return not_found("no schedule " + id);
  co_return std::move(*schedule);
}

asio::awaitable<Result<std::vector<ScheduleRecord>>> RedisStore::list_schedules(std::string owner) {
  Command members{"SMEMBERS", key("schedules")};
  Result<std::vector<Reply>> ids = co_await read(std::move(members));
  if (!ids) co_return ids.error();
  std::vector<std::string> names;
  if (const ReplyArray* list = ids->front().array())
    for (const Reply& id : *list) names.push_back(text_or(id));
  std::sort(names.begin(), names.end());
  std::vector<ScheduleRecord> out;
  if (names.empty()) co_return out;
  Command records;
  for (const std::string& id : names) records.push({"HGETALL", key("schedule:" + id)});
  Result<std::vector<Reply>> replies = co_await read(std::move(records));
  if (!replies) co_return replies.error();
  for (std::size_t i = 0; i < names.size() && i < replies->size(); ++i)
    if (auto schedule = schedule_from(names[i], (*replies)[i]); schedule && (owner.empty() || schedule->owner == owner))
      out.push_back(std::move(*schedule));
  co_return out;
}

asio::awaitable<Result<std::vector<std::string>>> RedisStore::due_schedules(TimeMs now, std::size_t max) {
  Command command{"ZRANGEBYSCORE", key("schedules_due"), "-inf", std::to_string(now), "LIMIT", "0", std::to_string(max)};
  Result<std::vector<Reply>> replies = co_await read(std::move(command));
  if (!replies) co_return replies.error();
  std::vector<std::string> ids;
  if (const ReplyArray* list = replies->front().array())
    for (const Reply& id : *list) ids.push_back(text_or(id));
  co_return ids;
}

}  // namespace nox
