#include "storage/packed_record.hpp"

#include <zstd.h>

#include <array>
#include <stdexcept>

namespace nox {

namespace {

constexpr char plain_tag = 'P';
constexpr char zstd_tag = 'Z';
// Level 1: a few microseconds for a record of a kilobyte, most of the gain of higher levels.
constexpr int zstd_level = 1;

void put_part(std::string& out, std::string_view part) {
  std::size_t n = part.size();
  do {  // LEB128 length
    unsigned char byte = n & 0x7f;
    n >>= 7;
    out.push_back(static_cast<char>(n ? byte | 0x80 : byte));
  } while (n);
  out.append(part);
}

std::string_view take_part(std::string_view& in) {
  std::size_t n = 0;
  int shift = 0;
  while (true) {
    if (in.empty() || shift > 56) throw std::runtime_error("packed record: truncated length");
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    n |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  if (n > in.size()) throw std::runtime_error("packed record: truncated part");
  std::string_view part = in.substr(0, n);
  in.remove_prefix(n);
  return part;
}

// One context per thread, reused: creating one costs more than compressing a record.
struct Contexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ~Contexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

Contexts& contexts() {
  thread_local Contexts c;
  return c;
}

}  // namespace

std::string pack_record(const RecordParts& parts, bool compress) {
  std::string plain(1, plain_tag);
  plain.reserve(8 + parts.spec.size() + parts.summary.size() + parts.result.size() + parts.error.size() +
                parts.progress.size() + parts.worker_id.size() + parts.owner.size() +
                parts.waiting_on.size() + parts.cached_from.size());
  for (std::string_view part : {std::string_view(parts.spec), std::string_view(parts.summary),
                                std::string_view(parts.result), std::string_view(parts.error),
                                std::string_view(parts.progress), std::string_view(parts.worker_id),
                                std::string_view(parts.owner), std::string_view(parts.waiting_on),
                                std::string_view(parts.cached_from)})
    put_part(plain, part);
  if (!compress) return plain;
  std::string packed(1 + ZSTD_compressBound(plain.size() - 1), zstd_tag);
  const std::size_t n = ZSTD_compressCCtx(contexts().compress, packed.data() + 1, packed.size() - 1,
                                          plain.data() + 1, plain.size() - 1, zstd_level);
  if (ZSTD_isError(n) || n + 1 >= plain.size()) return plain;  // not worth it (or cannot)
  packed.resize(n + 1);
  packed.shrink_to_fit();
  return packed;
}

RecordParts unpack_record(std::string_view packed) {
  if (packed.empty()) throw std::runtime_error("packed record: empty");
  std::string inflated;
  std::string_view in = packed.substr(1);
  if (packed.front() == zstd_tag) {
    const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 32))
      throw std::runtime_error("packed record: not a zstd frame");
    inflated.resize(size);
    const std::size_t n = ZSTD_decompressDCtx(contexts().decompress, inflated.data(), inflated.size(), in.data(), in.size());
    if (ZSTD_isError(n) || n != size) throw std::runtime_error("packed record: corrupt zstd frame");
    in = inflated;
  } else if (packed.front() != plain_tag) {
    throw std::runtime_error("packed record: unknown format");
  }
  RecordParts parts;
  parts.spec = take_part(in);
  parts.summary = take_part(in);
  parts.result = take_part(in);
  parts.error = take_part(in);
  parts.progress = take_part(in);
  parts.worker_id = take_part(in);
  parts.owner = take_part(in);
  parts.waiting_on = take_part(in);
  parts.cached_from = take_part(in);
  return parts;
}

}  // namespace nox
