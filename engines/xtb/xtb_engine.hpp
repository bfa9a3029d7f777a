#pragma once
// The xtb engine (GFN2/GFN1-xTB, GFN-FF): one xtb process per attempt in its scratch dir.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engines/engine.hpp"

namespace nox {

class XtbEngine final : public Engine {
 public:
  explicit XtbEngine(std::filesystem::path xtb_path);

  std::string_view name() const override { return "xtb"; }
  bool uses_subprocess() const override { return true; }
  FieldErrors validate(const JobSpec& spec) const override;
  // Throws std::invalid_argument for a spec xtb::validate_xtb_spec refuses.
  PreparedCommand prepare(const JobSpec& spec, const std::filesystem::path& scratch) const override;
  EngineOutput interpret(const JobSpec& spec, const std::filesystem::path& scratch,
                         const ProcessOutcome& outcome) const override;
  std::unique_ptr<ProgressParser> progress_parser() const override;
  // ensure_minimum (optimize_hessian, on unless the spec says false): while the Hessian has an
  // imaginary mode and fewer than xtb::minimum_runs runs were made, optimize again from the
  // structure xtb displaced along it (xtbhess.xyz).
  std::optional<PreparedCommand> follow_up(const JobSpec& spec, const std::filesystem::path& scratch,
                                           const ProcessOutcome& outcome, int runs) const override;

  const std::filesystem::path& xtb_path() const { return xtb_path_; }

 private:
  std::filesystem::path xtb_path_;
};

// Runs `xtb --version` and returns the version, e.g. "6.5.1"; nullopt if it does not run or say.
std::optional<std::string> probe_xtb_version(const std::filesystem::path& xtb_path);

// The first executable `program` in the directories of $PATH; a name containing '/' is
// checked as given.
std::optional<std::filesystem::path> find_on_path(std::string_view program);

}  // namespace nox
