#pragma once
// The MOPAC engine (PM7, PM6, PM6-D3H4, AM1, RM1): one mopac process per attempt in its scratch dir.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engines/engine.hpp"

namespace nox {

class MopacEngine final : public Engine {
 public:
  explicit MopacEngine(std::filesystem::path mopac_path);

  std::string_view name() const override { return "mopac"; }
  bool uses_subprocess() const override { return true; }
  FieldErrors validate(const JobSpec& spec) const override;
  PreparedCommand prepare(const JobSpec& spec, const std::filesystem::path& scratch) const override;
  EngineOutput interpret(const JobSpec& spec, const std::filesystem::path& scratch,
                         const ProcessOutcome& outcome) const override;

 private:
  std::filesystem::path mopac_path_;
};

// Runs a one-point water calculation and returns MOPAC's version from its .aux ("22.0.6");
// nullopt if it does not run or say. (mopac has no --version: without an input file it waits
// for one on stdin.)
std::optional<std::string> probe_mopac_version(const std::filesystem::path& mopac_path);

}  // namespace nox
