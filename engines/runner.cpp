#include "engines/runner.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/random.hpp"
#include "core/sha256.hpp"
#include "core/thread_name.hpp"

namespace nox {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The child's whole environment: nothing inherited (no XTB*, no stray OMP settings). The job's
// `threads` are what its parallel libraries may use; an engine's command may say otherwise
// (xtb keeps BLAS at one thread under its own OpenMP ones).
std::vector<std::pair<std::string, std::string>> clean_environment(const std::filesystem::path& scratch,
                                                                   const PreparedCommand& command, int threads) {
  const std::string cores = std::to_string(std::max(1, threads));
  std::vector<std::pair<std::string, std::string>> env{
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"HOME", scratch.string()},
      {"LANG", "C"},
      {"LC_ALL", "C"},
      {"OMP_NUM_THREADS", cores},
      {"OPENBLAS_NUM_THREADS", cores},
      {"MKL_NUM_THREADS", cores},
      {"OMP_STACKSIZE", "512M"},
  };
  for (const auto& [key, value] : command.env) {
    std::erase_if(env, [&](const auto& kv) { return kv.first == key; });
    env.emplace_back(key, value);
  }
  return env;
}

std::vector<Artifact> collect_artifacts(const std::filesystem::path& scratch, const std::vector<std::string>& names) {
  std::vector<Artifact> artifacts;
  for (const auto& name : names) {
    if (!is_valid_artifact_name(name)) continue;
    std::ifstream in(scratch / name, std::ios::binary);
    if (!in) continue;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::string content = std::move(bytes).str();
    // Hashed here, on the pool thread, once: the stores keep it and it is the download's ETag.
    std::string sha256 = sha256_hex(content);
    artifacts.push_back({name, media_type_for(name), std::move(content), std::move(sha256)});
  }
  return artifacts;
}

}  // namespace

AttemptResult run_attempt(const Engine& engine, const JobSpec& spec, const std::string& job_id,
                          const RunnerOptions& options, ProcessControl& control,
                          const std::function<void(json::object)>& on_progress) {
  AttemptResult attempt;
  const auto scratch = options.scratch_root / ("nox-" + job_id + "-" + secure_random_hex());
  std::error_code ec;
  std::filesystem::create_directories(scratch, ec);
  if (ec) {
    attempt.output.error_code = "scratch_unavailable";
    attempt.output.error_message = "cannot create scratch directory " + scratch.string() + ": " + ec.message();
    attempt.output.retryable = true;
    return attempt;
  }
  try {
    PreparedCommand command = engine.prepare(spec, scratch);
    ProcessSpec process;
    process.argv = command.argv;
    process.env = clean_environment(scratch, command, spec.threads);
    process.working_dir = scratch;
    process.timeout = spec.timeout();
    process.kill_grace = options.kill_grace;
    process.stack_limit_bytes = options.stack_limit_bytes;
    process.nice = options.engine_nice;
    if (!command.stdout_file.empty()) process.stdout_file = scratch / command.stdout_file;

    auto parser = engine.progress_parser();
    auto last_progress = std::chrono::steady_clock::time_point{};
    std::optional<json::object> held;  // the newest step not yet sent because of throttling
    auto on_line = [&](std::string_view line) {
      if (!parser) return;
      auto step = parser->feed(line);
      if (!step) return;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress >= options.progress_interval) {
        last_progress = now;
        held.reset();
        on_progress(std::move(*step));
      } else {
        held = std::move(*step);
      }
    };
    const auto started = std::chrono::steady_clock::now();
    attempt.process = run_process(process, control, on_line);
    // Follow-up runs share the attempt's scratch directory and what is left of its time limit.
    for (int runs = 1; !attempt.process.cancelled && !attempt.process.timed_out; ++runs) {
      auto next = engine.follow_up(spec, scratch, attempt.process, runs);
      if (!next) break;
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      if (spent >= spec.timeout()) {
        attempt.process.timed_out = true;
        break;
      }
      process.argv = next->argv;
      process.env = clean_environment(scratch, *next, spec.threads);
      process.timeout = spec.timeout() - spent;
      if (!next->stdout_file.empty()) process.stdout_file = scratch / next->stdout_file;
      parser = engine.progress_parser();
      const double wall_before = attempt.process.wall_s;
      attempt.process = run_process(process, control, on_line);
      attempt.process.wall_s += wall_before;
    }
    if (held) on_progress(std::move(*held));
    attempt.output = engine.interpret(spec, scratch, attempt.process);
    attempt.artifacts = collect_artifacts(scratch, attempt.output.artifact_files);
  } catch (const std::exception& e) {
    attempt.output = {};
    attempt.output.error_code = "engine_error";
    attempt.output.error_message = std::string("the engine failed unexpectedly: ") + e.what();
    attempt.output.retryable = true;
  }
  std::filesystem::remove_all(scratch, ec);
  return attempt;
}

Runner::Runner(asio::any_io_executor loop, RunnerOptions options)
    : loop_(std::move(loop)), options_(std::move(options)), pool_(options_.slots == 0 ? 1 : options_.slots) {}

Runner::~Runner() { join(); }

void Runner::join() { pool_.join(); }

asio::awaitable<AttemptResult> Runner::run(const Engine& engine, JobSpec spec, std::string job_id,
                                           std::shared_ptr<ProcessControl> control, ProgressCallback on_progress) {
  auto loop = loop_;
  auto progress_on_loop = [loop, on_progress = std::make_shared<ProgressCallback>(std::move(on_progress))](
                              json::object step) { asio::post(loop, [on_progress, step = std::move(step)]() mutable {
                                                     (*on_progress)(std::move(step));
                                                   }); };
  auto initiate = [this, &engine, spec = std::move(spec), job_id = std::move(job_id), control,
                   progress_on_loop](auto handler) mutable {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler, loop_));
    asio::post(pool_, [this, &engine, spec = std::move(spec), job_id = std::move(job_id), control,
                       progress_on_loop, handler = std::move(handler), work = std::move(work)]() mutable {
      // Once per thread would do; two system calls per attempt are nothing beside a process.
      name_calling_thread("nox-engine");
      run_calling_thread_nicer(options_.engine_nice);
      AttemptResult result = run_attempt(engine, spec, job_id, options_, *control, progress_on_loop);
      auto executor = work.get_executor();
      asio::post(executor, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
      work.reset();
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(AttemptResult)>(
      std::move(initiate), asio::use_awaitable);
}

}  // namespace nox
