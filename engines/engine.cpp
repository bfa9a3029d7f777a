#include "engines/engine.hpp"

namespace nox {

EngineOutput Engine::run_in_process(const boost::json::object&) const {
  EngineOutput out;
  out.error_code = "engine_misconfigured";
  out.error_message = "engine " + std::string(name()) + " needs a subprocess and cannot run in-process";
  return out;
}

}  // namespace nox
