#pragma once
// The engines this instance can run, found at start-up, with what /health reports of each.
#include <filesystem>
#include <map>
#include <optional>
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

// Where the engine programs are; an empty path means "look on PATH".
struct EnginePaths {
  std::string xtb;
  std::string mopac;
};

class EngineRegistry {
 public:
  // Finds each engine program (on PATH when its path is empty) and probes its version: an engine
  // whose program is missing or does not answer is listed as unavailable, with why.
  static EngineRegistry discover(const EnginePaths& paths);

  const Engine* find(std::string_view name) const;  // nullptr when not available here
  const std::vector<EngineStatus>& statuses() const { return statuses_; }
  bool any_subprocess_engine() const;
  // The available engines that run on the loop, without a subprocess or a slot (echo).
  std::vector<std::string> in_process_engines() const;

 private:
  // Version probe of one program; nullopt when it does not run or say.
  using Probe = std::optional<std::string> (*)(const std::filesystem::path&);
  using Make = std::unique_ptr<Engine> (*)(const std::filesystem::path&);
  void add_program(std::string name, const std::string& configured_path, Probe probe, Make make);

  std::map<std::string, std::unique_ptr<Engine>, std::less<>> engines_;
  std::vector<EngineStatus> statuses_;
};

}  // namespace nox
