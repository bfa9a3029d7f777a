#pragma once
// A file a job produced (xtb log, optimized geometry, ...), kept after its scratch dir is gone.
#include <cstdint>
#include <string>
#include <string_view>

namespace nox {

struct Artifact {
  std::string name;        // plain file name, no directories
  std::string media_type;  // e.g. "chemical/x-xyz", "text/plain; charset=utf-8"
  std::string bytes;
  std::string sha256;  // of bytes, 64 hex digits; computed by the producer (off the event loop), or empty
};

struct ArtifactInfo {
  std::string name;
  std::uint64_t size = 0;
  std::string media_type;
  std::string sha256;  // 64 hex digits, computed once when stored; "" for files stored before it was kept
};

// Bytes a store hands out per read of an artifact: downloads never hold a whole file.
inline constexpr std::size_t artifact_chunk_bytes = 256 * 1024;

// The media type Nox serves a job file with, from its name.
std::string media_type_for(std::string_view file_name);
// A name safe to use as an artifact and as a file name: 1..255 characters of [A-Za-z0-9._-],
// and not "." or ".." (so never a path).
bool is_valid_artifact_name(std::string_view name);

}  // namespace nox
