#pragma once
// Job ids: 32 lowercase hex characters (a UUIDv4 without dashes).
//
// The jobs of a batch take ids made from the batch's id, so that a store need keep neither an
// index entry nor the batch's id per job (Redis: ~260 B per job, bench/RESULTS.md run 18):
//   batch id   <24 hex digits><8 hex digits: the batch's size n>
//   its jobs   <the same 24 hex digits><8 hex digits: 0x80000000 | n << 14 | position>
// A job alone has a digit 0-7 at index 24, a batch's job 8-f. The 24 shared digits hold 90
// random bits (a UUIDv4's 122 less the last 32); the batch's size, at most max_batch_size,
// tells a reader which ids to look at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nox {

// A job alone (its digit at index 24 is 0-7).
std::string new_job_id();
// A job id determined by `seed` (SHA-256 of it, shaped like a UUIDv4): a submission retried
// with the same Idempotency-Key names the same jobs, so a store refuses to create them twice.
std::string job_id_for(std::string_view seed);
bool is_valid_job_id(std::string_view text);

// Batches (POST /jobs/batch): at most this many jobs (the size fits 14 bits of an id).
inline constexpr std::size_t max_batch_size = 10000;
// A new batch of `size` jobs (1..max_batch_size); batch_id_for: determined by `seed`.
std::string new_batch_id(std::size_t size);
std::string batch_id_for(std::string_view seed, std::size_t size);
// The id of the job at `position` (0..size-1) of the batch.
std::string batch_job_id(std::string_view batch_id, std::size_t position);
// The batch's size when `batch_id` is shaped as new_batch_id makes them; nullopt otherwise
// (a batch of an older Nox, whose jobs have ids of their own).
std::optional<std::size_t> batch_size_of(std::string_view batch_id);
// The batch a job's id was made from, when it was (nullopt for a job alone).
std::optional<std::string> batch_of_job_id(std::string_view job_id);

}  // namespace nox
