#include "engines/engine_registry.hpp"

#include "engines/echo_engine.hpp"
#include "engines/xtb/xtb_engine.hpp"

namespace nox {

EngineRegistry EngineRegistry::discover(const std::string& xtb_path) {
  EngineRegistry registry;
  registry.engines_.emplace("echo", std::make_unique<EchoEngine>());
  registry.statuses_.push_back({"echo", true, "", NOX_VERSION, ""});

  EngineStatus xtb{"xtb", false, "", "", ""};
  std::optional<std::filesystem::path> path =
      xtb_path.empty() ? find_on_path("xtb") : std::optional<std::filesystem::path>(xtb_path);
  if (!path) {
    xtb.problem = "xtb was not found on PATH (install it: apt-get install xtb, or set --xtb)";
  } else {
    xtb.path = path->string();
    if (auto version = probe_xtb_version(*path)) {
      xtb.available = true;
      xtb.version = *version;
      registry.engines_.emplace("xtb", std::make_unique<XtbEngine>(*path));
    } else {
      xtb.problem = "xtb at " + xtb.path + " did not answer --version";
    }
  }
  registry.statuses_.push_back(xtb);
  return registry;
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
