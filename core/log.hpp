#pragma once
// Minimal structured logging to stderr (journald picks it up under systemd).
#include <string_view>

namespace nox {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// One line: "<level> <message>"; thread-safe. journald adds the time, so we do not.
void log_line(LogLevel level, std::string_view message);

inline void log_error(std::string_view m) { log_line(LogLevel::error, m); }
inline void log_warn(std::string_view m) { log_line(LogLevel::warn, m); }
inline void log_info(std::string_view m) { log_line(LogLevel::info, m); }
inline void log_debug(std::string_view m) {
  if (log_enabled(LogLevel::debug)) log_line(LogLevel::debug, m);
}

}  // namespace nox
