// noxd: the Nox job server. One event loop thread serves HTTP/SSE and talks to the store;
// a pool of `slots` threads runs engine subprocesses.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "core/job_id.hpp"
#include "core/log.hpp"
#include "server/app.hpp"
#include "server/calculation_cache.hpp"
#include "server/event_hub.hpp"
#include "core/status_cache.hpp"
#include "server/http_server.hpp"
#include "server/keys_command.hpp"
#include "server/text_file.hpp"
#include "server/loop_guard.hpp"
#include "server/schedules.hpp"
#include "server/systemd_notify.hpp"
#include "storage/store_factory.hpp"

extern char** environ;

#ifdef NOX_JEMALLOC
// jemalloc gives freed memory back to the kernel (madvise) as it goes, on whichever thread
// frees or allocates: on the loop, a few megabytes at the end of a batch held it 1.5-5.6 ms
// per call (perf: do_madvise under Job and record destructors). Its background threads do
// that instead. MALLOC_CONF in the environment still overrides this.
extern "C" const char* malloc_conf = "background_thread:true";
#endif

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

nox::SettingsSources sources_from(std::vector<std::string> args) {
  nox::SettingsSources sources;
  sources.args = std::move(args);
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("NOX_")) continue;
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) sources.environment.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  sources.read_file = nox::read_text_file;
  return sources;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

struct Instance {
  nox::App& app;
  nox::HttpServer& server;
  asio::io_context& io;
  nox::LoopGuard& guard;
};

// SIGTERM/SIGINT: stop accepting, stop claiming, hand back running jobs, then stop the loop.
asio::awaitable<void> shutdown_on_signal(Instance instance, std::shared_ptr<asio::signal_set> signals) {
  auto [ec, signal] = co_await signals->async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  nox::log_info("signal " + std::to_string(signal) + ": draining");
  nox::systemd_notify("STOPPING=1");
  instance.app.stopping = true;
  instance.server.stop_accepting();
  instance.app.events->stop();  // every SSE stream ends with a clean last chunk
  instance.app.dispatcher.stop();
  co_await instance.app.dispatcher.drained();
  // The streams end on their own coroutines: the loop must run until they have written their
  // last chunk (stopping it at once cut 20 of 20 idle streams short), a slow client at most 5 s.
  co_await instance.app.events->closed(std::chrono::seconds(5));
  nox::stop_store(instance.app.store);
  nox::log_info("stopped");
  instance.io.stop();
}

// SIGHUP: the keys file read again (a key added or revoked takes effect without a restart),
// and the TLS certificate (a renewed one serves new connections); a broken file keeps what
// was in use and says why.
asio::awaitable<void> reload_on_hangup(nox::App& app, nox::HttpServer& server, std::shared_ptr<asio::signal_set> hangup) {
  while (true) {
    auto [ec, signal] = co_await hangup->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (auto error = app.access.reload())
      nox::log_error("SIGHUP: " + *error + "; the keys loaded before stay in use");
    else
      nox::log_info("SIGHUP: " + std::to_string(app.access.key_count()) + " API keys (and the JWT keys) loaded");
    if (!server.tls()) continue;
    if (auto error = server.use_tls(app.settings.tls_cert_file, app.settings.tls_key_file))
      nox::log_error("SIGHUP: " + *error + "; the certificate loaded before stays in use");
    else
      nox::log_info("SIGHUP: TLS certificate " + app.settings.tls_cert_file + " loaded");
  }
}

// Open mode gives every caller every job: only where nobody else can connect.
bool is_loopback_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// How late a 10 ms timer fires: the time a request waits behind whatever holds the loop.
asio::awaitable<void> measure_loop_lag(nox::App& app) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  constexpr auto period = std::chrono::milliseconds(10);
  while (!app.stopping) {
    const auto due = std::chrono::steady_clock::now() + period;
    timer.expires_at(due);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    app.metrics.loop_lag(std::chrono::duration<double>(std::chrono::steady_clock::now() - due).count());
  }
}

// --check-config: the effective settings with their sources, then whatever would stop noxd
// from starting with them (keys and JWT files, the Redis URL, the listen address, open mode
// beyond loopback), without starting anything. 0 when it would start, 2 when not.
int check_config(const nox::SettingsRequest& request) {
  const nox::Settings& settings = request.settings;
  std::cout << nox::effective_settings_text(request);
  std::vector<std::string> problems;
  auto access = nox::AccessControl::load(settings);
  if (auto* error = std::get_if<std::string>(&access)) problems.push_back(*error);
  const std::string listen_host = settings.listen.substr(0, settings.listen.rfind(':'));
  if (settings.listen.rfind(':') == std::string::npos) problems.push_back("listen must be HOST:PORT");
  if (auto error = nox::check_tls_files(settings.tls_cert_file, settings.tls_key_file)) problems.push_back(*error);
  const bool open = std::holds_alternative<nox::AccessControl>(access) && std::get<nox::AccessControl>(access).open();
  if (open && !settings.insecure_open && !is_loopback_host(listen_host))
    problems.push_back("open mode (no keys file, no JWT settings) on " + settings.listen +
                       " is refused: give keys_file or listen on loopback");
  if (!settings.redis_url.empty()) {
    asio::io_context io;
    auto store = nox::make_store(io.get_executor(), settings);
    if (auto* error = std::get_if<std::string>(&store)) problems.push_back(*error);
  }
  for (const auto& [name, path] : {std::pair{"xtb", settings.xtb}, std::pair{"mopac", settings.mopac}}) {
    if (!path.empty() && !std::filesystem::exists(path)) problems.push_back(std::string(name) + ": " + path + " does not exist");
  }
  for (const auto& problem : problems) std::cerr << "noxd: " << problem << "\n";
  std::cout << (problems.empty() ? "# configuration OK" : "# configuration NOT usable") << "\n";
  return problems.empty() ? 0 : 2;
}

int exit_status = 0;  // main's, once the loop has stopped

// STATUS= for `systemctl status noxd`: slots busy and jobs queued, every 5 s.
asio::awaitable<void> report_status(nox::App& app) {
  if (!std::getenv("NOTIFY_SOCKET")) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!app.stopping) {
    std::string status = "STATUS=slots " + std::to_string(app.dispatcher.busy()) + "/" +
                         std::to_string(app.dispatcher.slots()) + " busy";
    if (auto stats = co_await app.store.stats())
      status += ", " + std::to_string(stats->pending) + " queued, " + std::to_string(stats->running) + " running";
    else
      status += ", store unreachable";
    nox::systemd_notify(status);
    timer.expires_after(std::chrono::seconds(5));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Connects the store first (up to a few seconds for Redis), so that the first claims and the
// event reader do not start against a store that is still connecting; HTTP is served
// meanwhile (/ready says whether the store answers).
asio::awaitable<void> start_services(Instance instance, nox::EventHub& events, std::string banner) {
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, instance.server.accept_loop(), instance.guard.watch("accept"));
  if (auto fatal = co_await nox::start_store(instance.app.store)) {
    std::cerr << "noxd: " << *fatal << "\n";
    exit_status = 2;
    instance.io.stop();
    co_return;
  }
  // Scripts and units wait for this line (and READY=1): the store has been tried by now.
  const auto endpoint = instance.server.local_endpoint();
  std::printf("noxd %s listening on %s://%s:%u %s\n", NOX_VERSION, instance.server.tls() ? "https" : "http",
              endpoint.address().to_string().c_str(), endpoint.port(), banner.c_str());
  std::fflush(stdout);
  nox::systemd_notify("READY=1");
  asio::co_spawn(executor, events.run(), instance.guard.watch("event reader"));
  asio::co_spawn(executor, instance.app.dispatcher.run(), instance.guard.watch("dispatcher"));
  asio::co_spawn(executor, instance.app.dispatcher.housekeeping(), instance.guard.watch("housekeeping"));
  asio::co_spawn(executor, instance.app.dispatcher.promote_scheduled(), instance.guard.watch("scheduler"));
  asio::co_spawn(executor, measure_loop_lag(instance.app), instance.guard.watch("loop lag"));
  asio::co_spawn(executor, nox::settle_forgotten_waits(instance.app), instance.guard.watch("cache sweep"));
  asio::co_spawn(executor, nox::fire_schedules(instance.app), instance.guard.watch("schedules"));
  asio::co_spawn(executor, report_status(instance.app), instance.guard.watch("systemd status"));
}

asio::awaitable<void> feed_watchdog(std::chrono::milliseconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    nox::systemd_notify("WATCHDOG=1");
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool keys_command = !args.empty() && args.front() == "keys";
  nox::KeysCommand keys;
  if (keys_command) {
    keys = nox::split_keys_command({args.begin() + 1, args.end()});
    args = keys.settings_args;
  }
  auto loaded = nox::load_settings(sources_from(std::move(args)));
  if (auto* error = std::get_if<std::string>(&loaded)) {
    std::cerr << "noxd: " << *error << "\n";
    return 2;
  }
  const auto& request = std::get<nox::SettingsRequest>(loaded);
  if (request.help) {
    std::cout << nox::settings_help();
    return 0;
  }
  if (request.version) {
    std::cout << "noxd " << NOX_VERSION << "\n";
    return 0;
  }
  const nox::Settings& settings = request.settings;
  if (keys_command) return nox::run_keys_command(keys.args, settings.keys_file, std::cout, std::cerr);
  if (request.check_config) return check_config(request);
  auto access = nox::AccessControl::load(settings);
  if (auto* error = std::get_if<std::string>(&access)) {
    std::cerr << "noxd: " << *error << "\n";
    return 2;
  }
  const std::string listen_host = settings.listen.substr(0, settings.listen.rfind(':'));
  if (std::get<nox::AccessControl>(access).open() && !settings.insecure_open && !is_loopback_host(listen_host)) {
    std::cerr << "noxd: refusing to serve " << settings.listen
              << " in open mode (no keys file and no JWT settings: anyone could read, cancel and delete every "
                 "job); give --keys-file (noxd keys add NAME --scopes ...) or --jwt-jwks-file, listen on "
                 "127.0.0.1, or pass --insecure-open\n";
    return 2;
  }
  // Instances with a part of the work only share it through Redis: alone, nothing would run
  // the jobs (api) or take them (worker).
  if (settings.role != "both" && settings.redis_url.empty()) {
    std::cerr << "noxd: role " << settings.role << " needs a shared store: give --redis-url (with the memory store an "
              << "instance must both serve and run jobs, role both)\n";
    return 2;
  }
  const nox::LogLevel levels[] = {nox::LogLevel::error, nox::LogLevel::warn, nox::LogLevel::info,
                                  nox::LogLevel::debug};
  const char* level_names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; ++i)
    if (settings.log_level == level_names[i]) nox::set_log_level(levels[i]);
  nox::set_log_format(settings.log_format == "json" ? nox::LogFormat::json : nox::LogFormat::text);

  asio::io_context io(1);
  auto store = nox::make_store(io.get_executor(), settings);
  if (auto* error = std::get_if<std::string>(&store)) {
    std::cerr << "noxd: " << *error << "\n";
    return 2;
  }
  nox::Store& the_store = *std::get<std::unique_ptr<nox::Store>>(store);

  const auto engines = nox::EngineRegistry::discover({settings.xtb, settings.mopac});
  const std::size_t slots =
      settings.slots > 0 ? static_cast<std::size_t>(settings.slots) : std::max(1u, std::thread::hardware_concurrency());
  nox::RunnerOptions runner_options;
  runner_options.slots = slots;
  runner_options.scratch_root =
      settings.scratch_dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(settings.scratch_dir);
  runner_options.kill_grace = std::chrono::milliseconds(static_cast<std::int64_t>(settings.kill_grace_s * 1000));
  runner_options.engine_nice = static_cast<int>(settings.engine_nice);
  nox::Runner runner(io.get_executor(), runner_options);

  nox::DispatcherOptions dispatch;
  dispatch.host = host_name();
  dispatch.worker_id = dispatch.host + "-" + std::to_string(::getpid()) + "-" + nox::new_job_id().substr(0, 6);
  dispatch.listen = settings.listen;
  dispatch.slots = slots;
  // An API-only instance runs nothing: it has no slots (its worker record says so in /workers).
  dispatch.runs_jobs = settings.role != "api";
  dispatch.offered_tags = settings.tags;
  dispatch.served_queues = settings.queues;
  dispatch.lease = nox::Lease(static_cast<std::int64_t>(settings.lease_s * 1000));
  dispatch.worker_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(settings.worker_timeout_s * 1000));
  dispatch.retention = std::chrono::milliseconds(static_cast<std::int64_t>(settings.retention_s * 1000));
  dispatch.retry.backoff_s = settings.retry_backoff_s;
  dispatch.retry.max_backoff_s = settings.retry_backoff_max_s;
  dispatch.breaker_failures = static_cast<int>(settings.breaker_failures);
  dispatch.breaker_cooldown = std::chrono::milliseconds(static_cast<std::int64_t>(settings.breaker_cooldown_s * 1000));
  nox::Dispatcher dispatcher(io.get_executor(), the_store, runner, engines, dispatch);
  // POST /workers/{id}/drain: once its last job has finished, the instance stops as on SIGTERM.
  dispatcher.on_drained = [] { ::raise(SIGTERM); };

  nox::EventHub events(io.get_executor(), the_store, settings.sse_max_buffer_bytes);
  // Kept fresh by the event stream; entries live 1 s at most so that what no event tells (a
  // record deleted by hand, events trimmed before the reader got them) shows that long at most.
  nox::StatusCache status_cache(50000, std::chrono::seconds(1));
  nox::App app{settings, the_store, dispatcher, engines, &events};
  events.on_event([&app](const nox::JobEvent& event) {
    // The calculation cache: a job's end settles the jobs waiting on it (server/calculation_cache.hpp).
    nox::follow_event(app, event);
    // A cancel made through any instance kills the process wherever it runs.
    if (event.type == nox::EventType::cancelled) app.dispatcher.cancel_local(event.job_id);
  });
  if (the_store.pipelines()) {
    events.keep_fresh(&status_cache);
    app.status_cache = &status_cache;
  }
  if (settings.role == "worker") nox::add_worker_routes(app.router);
  else nox::add_routes(app.router);
  app.edge = nox::EdgePolicy::from(settings, listen_host);
  app.access = std::move(std::get<nox::AccessControl>(access));
  // With Redis a key's rate holds across every instance sharing it.
  if (the_store.pipelines()) app.access.share_buckets_through(&the_store);
  nox::HttpServer server(io, app);
  // Socket activation (noxd.socket): systemd holds the port and hands it over; `listen` is
  // then only what the open-mode check above saw, so the socket unit's address must be
  // loopback too in open mode (it is checked again below).
  const auto activated = nox::systemd_listening_socket();
  if (activated.problem) {
    std::cerr << "noxd: " << *activated.problem << "\n";
    return 2;
  }
  if (auto error = activated.fd ? server.adopt(*activated.fd) : server.listen(settings.listen)) {
    std::cerr << "noxd: " << *error << "\n";
    return 1;
  }
  if (!settings.tls_cert_file.empty() || !settings.tls_key_file.empty()) {
    if (auto error = server.use_tls(settings.tls_cert_file, settings.tls_key_file)) {
      std::cerr << "noxd: " << *error << "\n";
      return 2;
    }
  }
  if (activated.fd && app.access.open() && !settings.insecure_open &&
      !server.local_endpoint().address().is_loopback()) {
    std::cerr << "noxd: refusing to serve " << server.local_endpoint() << " (passed by systemd) in open mode; "
              << "give --keys-file or --jwt-jwks-file, or pass --insecure-open\n";
    return 2;
  }

  std::string programs;  // "xtb 6.5.1 at /usr/bin/xtb, mopac not found"
  for (const auto& status : engines.statuses()) {
    if (status.path.empty() && status.available) continue;  // in-process (echo)
    programs += ", " + status.name + (status.available ? " " + status.version + " at " + status.path : " not found");
  }
  const std::string access_mode = app.access.open() ? "open (loopback)" : std::to_string(app.access.key_count()) + " API keys" + (settings.jwt_secret_file.empty() && settings.jwt_jwks_file.empty() ? "" : ", JWT");
  const std::string banner = "(role: " + settings.role + ", store: " + std::string(the_store.kind()) + ", access: " + access_mode +
                             ", slots: " + std::to_string(slots) +
                             programs + ", worker: " + dispatch.worker_id + ")";
  nox::LoopGuard guard(io);
  asio::co_spawn(io, start_services({app, server, io, guard}, events, banner), guard.watch("start-up"));
  auto signals = std::make_shared<asio::signal_set>(io, SIGINT, SIGTERM);
  asio::co_spawn(io, shutdown_on_signal({app, server, io, guard}, signals), guard.watch("signal"));
  auto hangup = std::make_shared<asio::signal_set>(io, SIGHUP);
  asio::co_spawn(io, reload_on_hangup(app, server, hangup), guard.watch("reload"));
  if (auto interval = nox::systemd_watchdog_interval())
    asio::co_spawn(io, feed_watchdog(*interval), guard.watch("watchdog"));

  io.run();
  // A loop died: kill the running engines rather than wait for them (their leases will be
  // taken back, and the jobs run again, by this instance restarted or by another).
  if (guard.failure()) dispatcher.stop();
  runner.join();
  // 70 (EX_SOFTWARE): a loop died; systemd restarts the service.
  return guard.failure() ? 70 : exit_status;
}
