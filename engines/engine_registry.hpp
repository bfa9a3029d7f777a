#pragma once
// The engines this instance can run, found at start-up, with what /health reports of each.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engines/engine.hpp"

namespace nox {

struct EngineStatus {
  std::string name;
  bool available = false;
  std::string path;     // program path, empty for in-process engines
  std::string version;  // as the program reports it
  std::string problem;  // why it is not available
};

class EngineRegistry {
 public:
  // Finds xtb at `xtb_path` (or on PATH when empty) and probes its version.
  static EngineRegistry discover(const std::string& xtb_path);

  const Engine* find(std::string_view name) const;  // nullptr when not available here
  const std::vector<EngineStatus>& statuses() const { return statuses_; }
  bool any_subprocess_engine() const;
  // The available engines that run on the loop, without a subprocess or a slot (echo).
  std::vector<std::string> in_process_engines() const;

 private:
  std::map<std::string, std::unique_ptr<Engine>, std::less<>> engines_;
  std::vector<EngineStatus> statuses_;
};

}  // namespace nox
