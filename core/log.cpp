#include "core/log.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"

namespace nox {

namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::atomic<int> current_format{static_cast<int>(LogFormat::text)};
constexpr const char* level_names[] = {"error", "warn", "info", "debug"};
constexpr std::size_t max_queued_lines = 65536;

// The writer thread and its queue. Started with the first line; the destructor (at exit)
// writes what is left and joins.
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
  void push(std::string line) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= max_queued_lines) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      was_empty = queue_.empty();
      queue_.push_back(std::move(line));
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
    std::unique_lock lock(mutex_);
    std::uint64_t dropped_told = 0;
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      std::deque<std::string> batch;
      batch.swap(queue_);
      writing_ = true;
      lock.unlock();
      std::string out;
      const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
      if (dropped != dropped_told) {
        out += "warn log: " + std::to_string(dropped - dropped_told) + " lines dropped (the output was too slow)\n";
        dropped_told = dropped;
      }
      for (auto& line : batch) {
        out += line;
        out += '\n';
      }
      std::fwrite(out.data(), 1, out.size(), stderr);
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
  std::deque<std::string> queue_;
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
    writer().push(std::string(name) + " " + std::string(message));
  }
}

void log_record(std::string line) { writer().push(std::move(line)); }

void log_flush() { writer().flush(); }

std::uint64_t log_lines_dropped() { return writer().dropped(); }

}  // namespace nox
