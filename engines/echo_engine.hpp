#pragma once
// The echo engine: completes in-process with its input as its result. It is what tests
// and benchmarks use to measure Nox itself rather than a chemistry program.
#include "engines/engine.hpp"

namespace nox {

class EchoEngine final : public Engine {
 public:
  std::string_view name() const override { return "echo"; }
  bool uses_subprocess() const override { return false; }
  PreparedCommand prepare(const JobSpec&, const std::filesystem::path&) const override { return {}; }
  EngineOutput interpret(const JobSpec& spec, const std::filesystem::path&, const ProcessOutcome&) const override {
    return run_in_process(spec.to_json());
  }
  EngineOutput run_in_process(const boost::json::object& spec) const override;
};

}  // namespace nox
