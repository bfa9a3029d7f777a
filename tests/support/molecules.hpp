#pragma once
// Test molecules from tests/fixtures/molecules, and job specs built around them.
#include <string>

namespace nox::test {

std::string read_fixture(const std::string& relative_path);  // under tests/fixtures
std::string molecule_xyz(const std::string& name);             // "water" -> molecules/water.xyz
// A JSON job spec: {"engine","task","method","molecule":{"xyz":...}} plus `extra` fields ("\"charge\":0").
std::string job_spec_json(const std::string& engine, const std::string& task, const std::string& xyz,
                          const std::string& extra = {});

}  // namespace nox::test
