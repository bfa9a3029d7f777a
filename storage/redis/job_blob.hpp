#pragma once
// A job record as the Redis store keeps it (layout 2): one string value per job, a
// MessagePack map with one-or-two-letter keys, holding only the fields that are not at their
// default. The scripts read and rewrite it with cmsgpack; the key table is in scripts/lib.lua
// and job_blob.cpp, the same in both:
//   s state   e engine   t tags (array)   c created_at   b started_at   f finished_at
//   a attempts   ma max_attempts   l lost   ml max_lost   p priority   w worker (the instance running it)   o owner (the identity that submitted it)
//   sp spec (compressed)   sb the spec of a batch's job without its batch_id (the job's id gives it)
//   r result (compressed)   x error (JSON)   g progress (JSON)
//   th threads (slots a claim costs; from the spec)   wo waiting_on (state waiting)   cf cached_from (the calculation cache)
//   q queue member (while pending)   h event history (integers, see history())
// Why: a hash with a field per value costs Redis ~70 bytes per field, and the spec and an echo
// result are ~450 bytes of JSON each; compressed against a built-in dictionary of spec text
// (and a result against its own spec) they are ~50 bytes each. A finished echo job went from
// 1,840 bytes of hash to ~350 bytes of string (bench/RESULTS.md, run 8).
#include <string>
#include <string_view>
#include <vector>

#include "core/job.hpp"

namespace nox::job_blob {

// The record of a new job (what create.lua stores after adding c, q and h).
std::string encode(const Job& job);
// Which of the packed values decode() unpacks and parses, besides the record's own fields:
// each is a decompression and a JSON tree. Listings and status reads show no result; a
// finish's answer needs neither (the caller holds both).
enum class Unpack { spec_and_result, spec, nothing };
// `id` is the key's; `spec_json`, when given, receives the spec's JSON text, the dictionary of
// its result (for pack_result; a batch's job's spec with its batch_id put back; with
// Unpack::nothing it stays empty). Throws std::runtime_error on bytes that encode() or
// the scripts did not write.
Job decode(std::string_view blob, std::string_view id, Unpack what = Unpack::spec_and_result,
           std::string* spec_json = nullptr);
// The job's event ids ("<ms>-<seq>"), oldest first, from `h`: [ms, seq, ms - previous ms, seq, ...].
std::vector<std::string> history(std::string_view blob);
// A result's stored form, compressed with its job's spec as the dictionary (results repeat
// the molecule and the settings). `spec_json` empty (not at hand): the built-in dictionary.
std::string pack_result(std::string_view result_json, std::string_view spec_json);
// The spec's stored form (compressed with the built-in dictionary).
std::string pack_spec(std::string_view spec_json);
// The JSON text of a packed value (pack_result needs the same spec_json again).
std::string unpack(std::string_view packed, std::string_view spec_json = {});

}  // namespace nox::job_blob
