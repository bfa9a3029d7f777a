#pragma once
// Runs one program in its own process group with a clean environment, blocking the
// calling (pool) thread; enforces a timeout (SIGTERM, then SIGKILL) and cancellation.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "engines/engine.hpp"

namespace nox {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // the whole environment of the child
  std::filesystem::path working_dir;
  std::chrono::milliseconds timeout{0};  // 0 = none
  std::chrono::milliseconds kill_grace{2000};
  std::filesystem::path stdout_file;     // when set, stdout is also written here
  std::size_t stack_limit_bytes = 0;     // RLIMIT_STACK for the child, 0 = inherit
  // Added to the child's niceness (capped at 19) before it runs: compute yields the cores to
  // the event loop when both want them. 0 = the same priority as noxd.
  int nice = 0;
};

// Cancellation shared between the loop (which requests) and the pool thread (which kills).
struct ProcessControl {
  std::atomic<bool> cancel_requested{false};
};

// Sets the calling thread `nice` steps nicer than noxd itself (its main thread; niceness is per
// thread on Linux), capped at 19. The Runner's pool threads run so: reading an engine's output,
// parsing its results and hashing its files is throughput work that leaves a core to the loop,
// as the engine does. Lowering one's own priority needs no privilege; a failure changes nothing.
void run_calling_thread_nicer(int nice);

// Blocks until the child ends. `on_stdout_line` gets each complete stdout line as it is written.
ProcessOutcome run_process(const ProcessSpec& spec, ProcessControl& control,
                           const std::function<void(std::string_view)>& on_stdout_line);

}  // namespace nox
