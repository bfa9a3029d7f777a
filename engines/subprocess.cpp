// run_process: clone(CLONE_VM | CLONE_VFORK) + execve with the child in its own process
// group, a clean environment, pipes read with poll() on the calling thread, timeout and
// cancel by signalling the whole group. No global state: several pool threads call this at once.
//
// Why not fork(): fork copies the page tables of the whole process while holding its memory
// map lock, so with a million jobs in the memory store (about 1 GiB resident) every engine
// start stalled the event loop's page faults and allocations for 10-30 ms. A CLONE_VM child
// shares the parent's memory until execve (as glibc's posix_spawn does), which costs the same
// at any size; posix_spawn itself cannot set PR_SET_PDEATHSIG or check for a dead parent.
// (ASan and TSan builds still fork: see run_process.)
#include "engines/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <utility>

#if __has_include(<linux/close_range.h>)
#include <linux/close_range.h>
#include <sys/syscall.h>
#endif

namespace nox {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t tail_bytes = 8 * 1024;
// A line longer than this is handed over in pieces so a program that never prints
// a newline cannot grow our buffer without bound.
constexpr std::size_t max_line_bytes = 64 * 1024;
constexpr auto poll_interval = std::chrono::milliseconds(50);
// After the main process exits, how long to wait for pipes held by stragglers to close.
constexpr auto drain_limit = std::chrono::milliseconds(1000);

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return true;
}

// Keeps the last `tail_bytes` of a stream, trimming in chunks so appends stay cheap.
class Tail {
 public:
  void append(const char* data, std::size_t n) {
    buffer_.append(data, n);
    if (buffer_.size() > 2 * tail_bytes) buffer_.erase(0, buffer_.size() - tail_bytes);
  }
  std::string take() {
    if (buffer_.size() > tail_bytes) {
      std::size_t cut = buffer_.size() - tail_bytes;
      // Do not start in the middle of a UTF-8 sequence: the tail ends up in JSON messages.
      while (cut < buffer_.size() && (static_cast<unsigned char>(buffer_[cut]) & 0xC0) == 0x80) ++cut;
      buffer_.erase(0, cut);
    }
    return std::move(buffer_);
  }

 private:
  std::string buffer_;
};

// Splits stdout into lines for the callback.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& on_line) : on_line_(on_line) {}
  void feed(const char* data, std::size_t n) {
    if (!on_line_) return;
    std::string_view chunk(data, n);
    while (!chunk.empty()) {
      auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(chunk);
        if (partial_.size() >= max_line_bytes) flush();
        return;
      }
      partial_.append(chunk.substr(0, nl));
      flush();
      chunk.remove_prefix(nl + 1);
    }
  }
  void finish() {
    if (on_line_ && !partial_.empty()) flush();
  }

 private:
  void flush() {
    std::string_view line(partial_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line_(line);
    partial_.clear();
  }
  const std::function<void(std::string_view)>& on_line_;
  std::string partial_;
};

// What the child reports through the exec-error pipe before it gives up.
enum class SpawnStage : int { chdir = 1, rlimit, stdin_redirect, pipes, exec };

struct SpawnError {
  SpawnStage stage;
  int error;
};

std::string describe(const SpawnError& e, const ProcessSpec& spec) {
  std::string what;
  switch (e.stage) {
    case SpawnStage::chdir:
      what = "cannot enter working directory " + spec.working_dir.string();
      break;
    case SpawnStage::rlimit:
      what = "cannot set the stack limit to " + std::to_string(spec.stack_limit_bytes) + " bytes";
      break;
    case SpawnStage::stdin_redirect:
      what = "cannot redirect stdin from /dev/null";
      break;
    case SpawnStage::pipes:
      what = "cannot attach stdout/stderr pipes";
      break;
    case SpawnStage::exec:
      what = "cannot execute " + (spec.argv.empty() ? std::string("(no program)") : spec.argv[0]);
      break;
  }
  return what + ": " + std::strerror(e.error);
}

// Everything the child needs, built before clone: in the child only async-signal-safe calls.
struct ExecPlan {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string working_dir;
  bool set_stack = false;
  rlimit stack{};
  int priority = 0;  // the child's niceness (setpriority), when set_priority
  bool set_priority = false;
};

// `nice` steps nicer than noxd itself, capped at 19. noxd's own niceness is its main thread's
// (on Linux PRIO_PROCESS with a pid reads that one thread), not the calling pool thread's.
std::optional<int> nicer_than_noxd(int nice) {
  errno = 0;
  const int own = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::getpid()));
  if (errno != 0) return std::nullopt;
  return std::min(19, own + nice);
}

ExecPlan make_plan(const ProcessSpec& spec, std::string& program) {
  ExecPlan plan;
  // A relative program path would be resolved after chdir, in the scratch directory:
  // anchor it to where the caller is now.
  std::filesystem::path p(spec.argv[0]);
  if (p.is_relative() && spec.argv[0].find('/') != std::string::npos) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(p, ec);
    if (!ec) p = abs;
  }
  program = p.string();

  for (const auto& [key, value] : spec.env) plan.env_strings.push_back(key + "=" + value);
  plan.argv.reserve(spec.argv.size() + 1);
  for (const auto& arg : spec.argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
  plan.argv.push_back(nullptr);
  plan.envp.reserve(plan.env_strings.size() + 1);
  for (auto& s : plan.env_strings) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  plan.working_dir = spec.working_dir.string();

  if (spec.stack_limit_bytes > 0) {
    rlimit current{};
    if (::getrlimit(RLIMIT_STACK, &current) == 0) {
      // An unprivileged process cannot raise the hard limit: ask for as much as allowed.
      rlim_t wanted = static_cast<rlim_t>(spec.stack_limit_bytes);
      if (current.rlim_max != RLIM_INFINITY && wanted > current.rlim_max) wanted = current.rlim_max;
      plan.stack.rlim_cur = wanted;
      plan.stack.rlim_max = current.rlim_max;
      plan.set_stack = true;
    }
  }
  if (spec.nice > 0) {
    // Worked out here: the child may only make async-signal-safe calls. Relative to noxd, not
    // to the calling pool thread, which already runs nicer (run_calling_thread_nicer).
    if (auto priority = nicer_than_noxd(spec.nice)) {
      plan.priority = *priority;
      plan.set_priority = true;
    }
  }
  return plan;
}

[[noreturn]] void child_fail(int report_fd, SpawnStage stage) {
  SpawnError e{stage, errno};
  // Best effort: if this write fails the parent still sees exit status 127.
  [[maybe_unused]] auto n = ::write(report_fd, &e, sizeof e);
  ::_exit(127);
}

// Runs in the cloned child, on its own stack but in the parent's memory (CLONE_VM) while the
// calling thread waits (CLONE_VFORK): only async-signal-safe calls that write nothing of the
// parent's, from here to execve. Signal handlers are the child's own copy (no CLONE_SIGHAND).
[[noreturn]] void child_main(const ExecPlan& plan, const char* program, int devnull, int out_fd, int err_fd,
                             int report_fd, pid_t parent) {
  ::setpgid(0, 0);
  // If noxd dies (kill -9, crash), its engines die with it instead of running on unowned:
  // the job is run again elsewhere after its lease expires.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect

  // The pool thread may have signals blocked or ignored (e.g. SIGPIPE); exec keeps both.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // EINVAL for KILL/STOP: fine

  if (!plan.working_dir.empty() && ::chdir(plan.working_dir.c_str()) != 0)
    child_fail(report_fd, SpawnStage::chdir);
  if (plan.set_stack && ::setrlimit(RLIMIT_STACK, &plan.stack) != 0)
    child_fail(report_fd, SpawnStage::rlimit);
  // Lowering one's own priority needs no privilege; should it fail, the engine still runs.
  if (plan.set_priority) ::setpriority(PRIO_PROCESS, 0, plan.priority);
  if (::dup2(devnull, STDIN_FILENO) < 0) child_fail(report_fd, SpawnStage::stdin_redirect);
  if (::dup2(out_fd, STDOUT_FILENO) < 0 || ::dup2(err_fd, STDERR_FILENO) < 0)
    child_fail(report_fd, SpawnStage::pipes);
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  // Descriptors another thread opened without O_CLOEXEC must not leak into the engine.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
  ::execve(program, plan.argv.data(), plan.envp.data());
  child_fail(report_fd, SpawnStage::exec);
}

struct ChildStart {
  const ExecPlan* plan;
  const char* program;
  int devnull, out_fd, err_fd, report_fd;
  pid_t parent;
};

// The child's stack until execve; generous for sanitizer builds' larger frames.
constexpr std::size_t child_stack_bytes = 256 * 1024;

int child_entry(void* arg) {
  const auto& c = *static_cast<const ChildStart*>(arg);
  child_main(*c.plan, c.program, c.devnull, c.out_fd, c.err_fd, c.report_fd, c.parent);
}

// Kills and reaps the child if run_process leaves early (e.g. the line callback throws).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // The caller reaped the child itself.
  void release() { pid_ = -1; }

 private:
  pid_t pid_;
};

std::size_t read_some(int fd, char* buf, std::size_t size, bool& eof) {
  for (;;) {
    ssize_t n = ::read(fd, buf, size);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      eof = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    eof = true;  // a read error on our own pipe: treat as closed
    return 0;
  }
}

void write_all(int fd, const char* data, std::size_t n, bool& failed) {
  while (n > 0 && !failed) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      failed = true;
      return;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

ProcessOutcome spawn_failure(std::string message, Clock::time_point start) {
  ProcessOutcome out;
  out.spawn_failed = true;
  out.stderr_tail = std::move(message);
  out.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

}  // namespace

void run_calling_thread_nicer(int nice) {
  if (nice <= 0) return;
  if (auto priority = nicer_than_noxd(nice)) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), *priority);
}

ProcessOutcome run_process(const ProcessSpec& spec, ProcessControl& control,
                           const std::function<void(std::string_view)>& on_stdout_line) {
  const auto start = Clock::now();
  if (spec.argv.empty() || spec.argv[0].empty()) return spawn_failure("no program given", start);

  std::string program;
  ExecPlan plan = make_plan(spec, program);

  Fd out_read, out_write, err_read, err_write, report_read, report_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write) ||
      !make_pipe(report_read, report_write))
    return spawn_failure(std::string("cannot create pipes: ") + std::strerror(errno), start);
  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return spawn_failure(std::string("cannot open /dev/null: ") + std::strerror(errno), start);

  Fd stdout_copy;
  if (!spec.stdout_file.empty()) {
    stdout_copy = Fd(::open(spec.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!stdout_copy)
      return spawn_failure("cannot create " + spec.stdout_file.string() + ": " + std::strerror(errno), start);
  }

  ChildStart child{&plan, program.c_str(), devnull.get(), out_write.get(), err_write.get(), report_write.get(),
                   ::getpid()};
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitizer builds fork: their interceptors (sigaction, dup2, ...) would write the
  // sanitizer's own tables from a child that shares our memory. Speed is not their point.
  pid_t pid = ::fork();
  if (pid == 0) child_entry(&child);
  const int clone_errno = errno;
#else
  // Every signal blocked around clone: no handler of ours may run in the child while it
  // shares our memory (it clears the mask itself after resetting the handlers).
  std::vector<char> child_stack(child_stack_bytes);
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = ::clone(child_entry, child_stack.data() + child_stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#endif
  if (pid < 0) return spawn_failure(std::string("cannot start a process: ") + std::strerror(clone_errno), start);

  ChildGuard guard(pid);
  // Also from the parent (harmless: the child did it before execve, and CLONE_VFORK has
  // waited for that), so the group exists whatever happened.
  // EACCES after the child's exec is harmless: it did setpgid itself first.
  ::setpgid(pid, pid);
  out_write.reset();
  err_write.reset();
  report_write.reset();
  devnull.reset();

  // The report pipe closes on successful exec (CLOEXEC) or carries why it failed.
  SpawnError report{};
  std::size_t got = 0;
  while (got < sizeof report) {
    ssize_t n = ::read(report_read.get(), reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  report_read.reset();
  if (got == sizeof report) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    guard.release();
    return spawn_failure(describe(report, spec), start);
  }

  ::fcntl(out_read.get(), F_SETFL, ::fcntl(out_read.get(), F_GETFL) | O_NONBLOCK);
  ::fcntl(err_read.get(), F_SETFL, ::fcntl(err_read.get(), F_GETFL) | O_NONBLOCK);

  ProcessOutcome outcome;
  Tail out_tail, err_tail;
  LineSplitter lines(on_stdout_line);
  bool copy_failed = false;
  int copy_errno = 0;
  std::array<char, 64 * 1024> buf;

  bool leader_exited = false;
  Clock::time_point exited_at{};
  bool term_sent = false, kill_sent = false;
  Clock::time_point term_at{};

  // A pidfd becomes readable the moment the child exits: without it the loop would only
  // notice at its next poll timeout (50 ms, which doubled the time of a 17 ms water job).
  Fd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  for (;;) {
    std::array<pollfd, 3> fds{};
    nfds_t nfds = 0;
    if (out_read) fds[nfds++] = {out_read.get(), POLLIN, 0};
    if (err_read) fds[nfds++] = {err_read.get(), POLLIN, 0};
    if (exit_fd && !leader_exited) fds[nfds++] = {exit_fd.get(), POLLIN, 0};
    int ready = ::poll(nfds ? fds.data() : nullptr, nfds, static_cast<int>(poll_interval.count()));
    if (ready < 0 && errno != EINTR) {
      // Should not happen with valid descriptors; avoid spinning if it does.
      ::usleep(static_cast<useconds_t>(std::chrono::microseconds(poll_interval).count()));
    }
    for (nfds_t i = 0; ready > 0 && i < nfds; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) || fds[i].fd == exit_fd.get()) continue;
      bool is_out = fds[i].fd == out_read.get();
      bool eof = false;
      std::size_t n = read_some(fds[i].fd, buf.data(), buf.size(), eof);
      if (n > 0) {
        if (is_out) {
          out_tail.append(buf.data(), n);
          if (stdout_copy && !copy_failed) {
            write_all(stdout_copy.get(), buf.data(), n, copy_failed);
            if (copy_failed) copy_errno = errno;
          }
          lines.feed(buf.data(), n);
        } else {
          err_tail.append(buf.data(), n);
        }
      }
      if (eof) (is_out ? out_read : err_read).reset();
    }

    const auto now = Clock::now();
    if (!leader_exited) {
      // WNOWAIT leaves the zombie in place, so the group id cannot be reused while we
      // kill stragglers below.
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        leader_exited = true;
        exited_at = now;
        // The job is over when its main process is: background children left in the
        // group must not outlive it (or keep our pipes open).
        ::kill(-pid, SIGKILL);
      }
    }
    if (!leader_exited) {
      if (!term_sent) {
        if (control.cancel_requested.load(std::memory_order_relaxed)) {
          outcome.cancelled = true;
        } else if (spec.timeout.count() > 0 && now - start >= spec.timeout) {
          outcome.timed_out = true;
        }
        if (outcome.cancelled || outcome.timed_out) {
          ::kill(-pid, SIGTERM);
          term_sent = true;
          term_at = now;
        }
      } else if (!kill_sent && now - term_at >= spec.kill_grace) {
        ::kill(-pid, SIGKILL);
        kill_sent = true;
      }
    }
    if (leader_exited && ((!out_read && !err_read) || now - exited_at >= drain_limit)) break;
  }
  lines.finish();

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  guard.release();
  outcome.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.exit_code = -1;
    outcome.term_signal = WTERMSIG(status);
  }
  outcome.stdout_tail = out_tail.take();
  outcome.stderr_tail = err_tail.take();
  if (copy_failed) {
    outcome.stderr_tail += "\nnox: saving stdout to " + spec.stdout_file.string() +
                           " failed: " + std::strerror(copy_errno) + "\n";
  }
  return outcome;
}

}  // namespace nox
