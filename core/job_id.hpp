#pragma once
// Job ids: 32 lowercase hex characters (a UUIDv4 without dashes).
#include <string>
#include <string_view>

namespace nox {

std::string new_job_id();
bool is_valid_job_id(std::string_view text);

}  // namespace nox
