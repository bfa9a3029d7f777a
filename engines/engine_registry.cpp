#include "engines/engine_registry.hpp"

#include "engines/echo_engine.hpp"
#include "engines/mopac/mopac_engine.hpp"
#include "engines/xtb/xtb_engine.hpp"

namespace nox {

EngineRegistry EngineRegistry::discover(const EnginePaths& paths) {
  EngineRegistry registry;
  registry.engines_.emplace("echo", std::make_unique<EchoEngine>());
  registry.statuses_.push_back({"echo", true, "", NOX_VERSION, ""});
  // One line per engine program.
  registry.add_program("xtb", paths.xtb, probe_xtb_version,
                       [](const std::filesystem::path& p) -> std::unique_ptr<Engine> { return std::make_unique<XtbEngine>(p); });
  registry.add_program("mopac", paths.mopac, probe_mopac_version,
                       [](const std::filesystem::path& p) -> std::unique_ptr<Engine> { return std::make_unique<MopacEngine>(p); });
  return registry;
}

void EngineRegistry::add_program(std::string name, const std::string& configured_path, Probe probe, Make make) {
  EngineStatus status{name, false, "", "", ""};
  const std::optional<std::filesystem::path> path =
      configured_path.empty() ? find_on_path(name) : std::optional<std::filesystem::path>(configured_path);
  if (!path) {
    status.problem = name + " was not found on PATH (install it: apt-get install " + name + ", or set --" + name + ")";
  } else {
    status.path = path->string();
    if (auto version = probe(*path)) {
      status.available = true;
      status.version = *version;
      engines_.emplace(name, make(*path));
    } else {
      status.problem = name + " at " + status.path + " did not run a test calculation or report its version";
    }
  }
  statuses_.push_back(std::move(status));
}

const Engine* EngineRegistry::find(std::string_view name) const {
  auto it = engines_.find(name);
  return it == engines_.end() ? nullptr : it->second.get();
}

bool EngineRegistry::any_subprocess_engine() const {
  for (const auto& [name, engine] : engines_)
    if (engine->uses_subprocess()) return true;
  return false;
}

std::vector<std::string> EngineRegistry::in_process_engines() const {
  std::vector<std::string> names;
  for (const auto& [name, engine] : engines_)
    if (!engine->uses_subprocess()) names.push_back(name);
  return names;
}

}  // namespace nox
