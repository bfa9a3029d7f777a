#include "engines/echo_engine.hpp"

namespace nox {

EngineOutput EchoEngine::run_in_process(const JobSpec& spec) const {
  EngineOutput out;
  out.ok = true;
  out.result["echo"] = spec.to_json();
  out.result["engine"] = boost::json::object{{"name", "echo"}, {"version", NOX_VERSION}};
  return out;
}

}  // namespace nox
