#pragma once
// Logging to stderr (journald picks it up under systemd), written by a thread of its own: the
// event loop only queues a line, so a slow terminal or a full journal never holds it up. The
// queue is bounded (16 MiB); lines beyond it are dropped and counted (the next line written
// says how many).
#include <cstdint>
#include <string>
#include <string_view>

namespace nox {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };
enum class LogFormat { text, json };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// text: "<level> <message>" (journald adds the time); json: {"time","level","message"}.
void set_log_format(LogFormat format);
// One line; thread-safe, never blocks on the output.
void log_line(LogLevel level, std::string_view message);
// A line written as it is (an access-log record, already JSON); no level, not filtered.
// Copied into the queue: the caller may reuse its buffer.
void log_record(std::string_view line);
// Waits until every queued line is written (before exit, and in tests).
void log_flush();
std::uint64_t log_lines_dropped();

inline void log_error(std::string_view m) { log_line(LogLevel::error, m); }
inline void log_warn(std::string_view m) { log_line(LogLevel::warn, m); }
inline void log_info(std::string_view m) { log_line(LogLevel::info, m); }
inline void log_debug(std::string_view m) {
  if (log_enabled(LogLevel::debug)) log_line(LogLevel::debug, m);
}

}  // namespace nox
