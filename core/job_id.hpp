#pragma once
// Job ids: 32 lowercase hex characters (a UUIDv4 without dashes).
#include <string>
#include <string_view>

namespace nox {

std::string new_job_id();
// A job id determined by `seed` (SHA-256 of it, shaped like a UUIDv4): a submission retried
// with the same Idempotency-Key names the same jobs, so a store refuses to create them twice.
std::string job_id_for(std::string_view seed);
bool is_valid_job_id(std::string_view text);

}  // namespace nox
