#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace nox {

namespace {
std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::mutex output_mutex;
constexpr const char* level_names[] = {"error", "warn", "info", "debug"};
}  // namespace

void set_log_level(LogLevel level) { current_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

void log_line(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::string line = std::string(level_names[static_cast<int>(level)]) + " " + std::string(message) + "\n";
  std::lock_guard lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace nox
