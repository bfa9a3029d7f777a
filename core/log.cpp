#include "core/log.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/thread_name.hpp"

namespace nox {

namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::atomic<int> current_format{static_cast<int>(LogFormat::text)};
constexpr const char* level_names[] = {"error", "warn", "info", "debug"};
constexpr std::size_t max_queued_bytes = 16 * 1024 * 1024;

// The writer thread and its queue: one text buffer that lines are appended to, handed to the
// thread whole. A line costs the caller one append under an uncontended lock (no allocation,
// no node, nothing freed on another thread: an access line per request costs ~1-2% instead
// of ~9% of the status route). Started with the first line; the destructor (at exit) writes
// what is left and joins.
class Writer {
 public:
  ~Writer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Wakes the writer only when the queue was empty: a busy server's lines are picked up in
  // batches (see run), not with a system call each.
  void push(std::string_view line) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() + line.size() >= max_queued_bytes) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      was_empty = queue_.empty();
      queue_.append(line);
      queue_ += '\n';
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    if (was_empty) wake_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    drained_.wait(lock, [&] { return queue_.empty() && !writing_; });
  }

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run() {
    name_calling_thread("nox-log");
    std::unique_lock lock(mutex_);
    std::uint64_t dropped_told = 0;
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // The two buffers trade places, so both keep their capacity: no allocation once warm.
      batch_.clear();
      batch_.swap(queue_);
      writing_ = true;
      lock.unlock();
      const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
      if (dropped != dropped_told) {
        const std::string note =
            "warn log: " + std::to_string(dropped - dropped_told) + " lines dropped (the output was too slow)\n";
        std::fwrite(note.data(), 1, note.size(), stderr);
        dropped_told = dropped;
      }
      std::fwrite(batch_.data(), 1, batch_.size(), stderr);
      std::fflush(stderr);
      lock.lock();
      writing_ = false;
      if (queue_.empty()) drained_.notify_all();
      if (stopping_) continue;
      // Let the next lines gather: one write per couple of milliseconds under load instead of
      // one per line (an access line per request halved the status route's throughput).
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::string queue_;  // lines, each ending in '\n'
  std::string batch_;  // being written (the writer thread's only)
  bool stopping_ = false;
  bool writing_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

Writer& writer() {
  static Writer instance;
  return instance;
}

}  // namespace

void set_log_level(LogLevel level) { current_level = static_cast<int>(level); }
void set_log_format(LogFormat format) { current_format = static_cast<int>(format); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

void log_line(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  const char* name = level_names[static_cast<int>(level)];
  if (current_format.load(std::memory_order_relaxed) == static_cast<int>(LogFormat::json)) {
    writer().push("{\"time\":\"" + to_rfc3339(now_ms()) + "\",\"level\":\"" + name +
                  "\",\"message\":" + boost::json::serialize(boost::json::value(boost::json::string_view(message))) +
                  "}");
  } else {
    writer().push(std::string(name) + " " + std::string(message));  // rare: no need to avoid the copy
  }
}

void log_record(std::string_view line) { writer().push(line); }

void log_flush() { writer().flush(); }

std::uint64_t log_lines_dropped() { return writer().dropped(); }

}  // namespace nox
