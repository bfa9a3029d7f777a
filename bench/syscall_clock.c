// Where a probe's time goes, seen from inside noxd (bench/scale.py, PROBE_SPLIT=1).
//
// Preloaded into noxd (LD_PRELOAD), it notes on noxd's main thread (the event loop) when each
// request's first bytes were read (recv, recvmsg) and when each answer's sending began (send,
// sendmsg), on the clock the bench's client uses (CLOCK_MONOTONIC: Python's perf_counter), and
// writes them to $NOX_SYSCALL_CLOCK when noxd exits. With the client's own send and receive
// times that splits a probe into: until noxd read it, noxd answering it, and after noxd had
// begun sending the answer (the client waiting to be woken and to get a core).
//
// For measurement only: nothing of noxd links or ships it. The bench builds it with `cc`.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { max_notes = 4000000, head_bytes = 64 };

struct note {
  char kind;  // 'R' read (head: the first bytes), 'S' sent
  int fd;
  long long at_ns;
  char head[head_bytes + 1];
};

static struct note notes[max_notes];
static long noted;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Only the loop's thread; a full table stops noting rather than overwrite.
static struct note* next_note(void) {
  if (syscall(SYS_gettid) != getpid() || noted >= max_notes) return NULL;
  return &notes[noted++];
}

static void note_read(int fd, const void* buf, ssize_t n) {
  if (n <= 0) return;
  struct note* x = next_note();
  if (!x) return;
  x->kind = 'R';
  x->fd = fd;
  x->at_ns = now_ns();
  size_t k = n < head_bytes ? (size_t)n : head_bytes;
  for (size_t i = 0; i < k; ++i) {
    char c = ((const char*)buf)[i];
    x->head[i] = (c > ' ' && c < 127) ? c : '_';
  }
  x->head[k] = 0;
}

// `at_ns`: when the send began (the client may have the bytes before the call returns).
static void note_sent(int fd, ssize_t n, long long at_ns) {
  if (n <= 0) return;
  struct note* x = next_note();
  if (!x) return;
  x->kind = 'S';
  x->fd = fd;
  x->at_ns = at_ns;
  x->head[0] = 0;
}

#define REAL(name)                          \
  static __typeof__(&name) real_##name;     \
  if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  REAL(recv);
  ssize_t n = real_recv(fd, buf, len, flags);
  int saved = errno;
  note_read(fd, buf, n);
  errno = saved;
  return n;
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  REAL(recvmsg);
  ssize_t n = real_recvmsg(fd, msg, flags);
  int saved = errno;
  if (n > 0 && msg->msg_iovlen > 0)
    note_read(fd, msg->msg_iov[0].iov_base, n < (ssize_t)msg->msg_iov[0].iov_len ? n : (ssize_t)msg->msg_iov[0].iov_len);
  errno = saved;
  return n;
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  REAL(send);
  const long long at = now_ns();
  ssize_t n = real_send(fd, buf, len, flags);
  int saved = errno;
  note_sent(fd, n, at);
  errno = saved;
  return n;
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  REAL(sendmsg);
  const long long at = now_ns();
  ssize_t n = real_sendmsg(fd, msg, flags);
  int saved = errno;
  note_sent(fd, n, at);
  errno = saved;
  return n;
}

__attribute__((destructor)) static void write_notes(void) {
  extern char* program_invocation_short_name;
  const char* path = getenv("NOX_SYSCALL_CLOCK");
  // Preloaded into noxd only, but a child it starts (xtb) inherits the environment.
  if (!path || strcmp(program_invocation_short_name, "noxd") != 0) return;
  FILE* out = fopen(path, "w");
  if (!out) return;
  for (long i = 0; i < noted; ++i)
    fprintf(out, "%c %d %lld %s\n", notes[i].kind, notes[i].fd, notes[i].at_ns, notes[i].head);
  fclose(out);
}
