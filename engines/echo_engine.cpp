#include "engines/echo_engine.hpp"

namespace nox {

EngineOutput EchoEngine::run_in_process(const boost::json::object& spec) const {
  EngineOutput out;
  out.ok = true;
  out.result["echo"] = spec;
  out.result["engine"] = boost::json::object{{"name", "echo"}, {"version", NOX_VERSION}};
  return out;
}

}  // namespace nox
