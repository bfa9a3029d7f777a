#pragma once
// Starts the real noxd binary on a free loopback port for an integration test and stops it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nox::test {

class NoxdProcess {
 public:
  // Extra flags are appended to "--listen 127.0.0.1:0 --data-dir <tmp> --scratch-dir <tmp>".
  explicit NoxdProcess(std::vector<std::string> flags = {}, std::vector<std::string> env = {});
  ~NoxdProcess();
  NoxdProcess(const NoxdProcess&) = delete;
  NoxdProcess& operator=(const NoxdProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string log() const;  // what noxd wrote to stderr so far

  void kill_hard();  // SIGKILL, no drain (crash test)
  int stop();        // SIGTERM, wait; the exit status
  // Waits up to `limit` for noxd to exit on its own: its exit status, or -1 while it still runs.
  int wait_for_exit(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
};

}  // namespace nox::test
