#pragma once
// The text parts of a job record as the memory store keeps them: one string holding the
// spec, result, error, progress, worker id, owner and status summary, length-prefixed, and compressed
// (zstd) once the job is finished. A million finished jobs then cost their scalars, indexes
// and a few hundred bytes each instead of several JSON trees (issue: <= 1 KiB per job).
#include <string>
#include <string_view>

namespace nox {

struct RecordParts {
  std::string spec;      // JSON text
  std::string summary;   // JSON text of job_summary_json; empty: derive it from the spec
  std::string result;    // JSON text; empty = null
  std::string error;     // JSON text; empty = null
  std::string progress;  // JSON text; empty = null
  std::string worker_id; // instance holding the lease while running
  std::string owner;     // identity that submitted the job
  std::string waiting_on;   // the job this one waits for (state waiting)
  std::string cached_from;  // the job whose result this one holds
};

// `compress`: for records that will rarely be read again (finished jobs).
std::string pack_record(const RecordParts& parts, bool compress);
// Throws std::runtime_error on bytes that pack_record did not make (a bug, not bad input).
RecordParts unpack_record(std::string_view packed);

}  // namespace nox
