#pragma once
// A small text file read whole (the config, keys and JWT files); nullopt when it cannot be read.
#include <optional>
#include <string>

namespace nox {

std::optional<std::string> read_text_file(const std::string& path);

}  // namespace nox
