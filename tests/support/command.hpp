#pragma once
// Running a program from a test: a shell command's exit status and standard output.
#include <string>

namespace nox::test {

struct CommandResult {
  int status = -1;  // the exit status; -1 when killed by a signal
  std::string out;  // standard output (add 2>&1 to the command for standard error too)
};

CommandResult run_command(const std::string& command);

// The noxd under test (NOXD overrides the one built beside the tests).
std::string noxd_path();

}  // namespace nox::test
