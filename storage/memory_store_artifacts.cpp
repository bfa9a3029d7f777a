// MemoryStore's artifacts: files under data_dir/artifacts/<id>/, written and read in chunks
// on the FileWorker's thread; their SHA-256 is computed there too when the producer did not.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <fstream>

#include "core/clock.hpp"
#include "core/sha256.hpp"
#include "storage/memory_store.hpp"

namespace nox {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view orphaned_prefix = "artifacts.orphaned-";

// Up to `length` bytes of the file at `path` from `offset`; nullopt when it cannot be opened.
std::optional<std::string> read_file_range(const fs::path& path, std::uint64_t offset, std::size_t length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out(length, '\0');
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// Deletes the directories a previous run left (moved aside at start, or half-deleted by a crash).
bool delete_orphaned(const fs::path& data_dir) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().starts_with(orphaned_prefix)) doomed.push_back(it->path());
  for (const auto& dir : doomed) fs::remove_all(dir, ec);
  return true;
}

}  // namespace

fs::path MemoryStore::artifact_dir(const std::string& id) const { return options_.data_dir / "artifacts" / id; }

bool MemoryStore::clear_previous_artifacts() {
  // A rename is instant, so start-up does not wait for a large tree to be deleted; new
  // artifacts go to a fresh directory while the old one is deleted on the file thread.
  std::error_code ec;
  const fs::path current = options_.data_dir / "artifacts";
  if (fs::exists(current, ec))
    fs::rename(current,
               options_.data_dir / (std::string(orphaned_prefix) + std::to_string(now_ms()) + "-" +
                                    std::to_string(::getpid())),
               ec);
  // Not a capturing lambda coroutine: a plain lambda handed to files_.run.
  asio::co_spawn(executor_, files_.run([data_dir = options_.data_dir] { return delete_orphaned(data_dir); }),
                 asio::detached);
  return true;
}

asio::awaitable<void> MemoryStore::remove_artifact_dir(std::string id) {
  // A job's files must not outlive it.
  auto remove_dir = [dir = artifact_dir(id)] {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return true;
  };
  co_await files_.run(std::move(remove_dir));
}

asio::awaitable<Result<Done>> MemoryStore::put_artifacts(std::string id, std::vector<Artifact> artifacts) {
  if (!jobs_.contains(id)) co_return not_found("no job " + id);
  for (const auto& artifact : artifacts)
    if (!is_valid_artifact_name(artifact.name))
      co_return StoreError{StoreErrc::invalid, "invalid artifact name " + artifact.name, {}};
  const auto dir = artifact_dir(id);
  struct Written {
    std::string problem;
    std::vector<ArtifactInfo> infos;
  };
  // A named lambda, not a temporary inside co_await: g++ 12 destroys such temporaries twice.
  auto write_files = [dir, artifacts = std::move(artifacts)]() -> Written {
    Written out;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return {"cannot create " + dir.string() + ": " + ec.message(), {}};
    for (const auto& artifact : artifacts) {
      // Written aside and renamed over: a file replaced by name may be a hard link shared with
      // other jobs (copy_artifacts), whose bytes must not change, or be mid-download. ("~" is
      // in no artifact name.)
      const fs::path aside = dir / (artifact.name + "~");
      {
        std::ofstream file(aside, std::ios::binary | std::ios::trunc);
        file.write(artifact.bytes.data(), static_cast<std::streamsize>(artifact.bytes.size()));
        if (!file) return {"cannot write artifact " + artifact.name + " under " + dir.string(), {}};
      }
      fs::rename(aside, dir / artifact.name, ec);
      if (ec) return {"cannot write artifact " + artifact.name + " under " + dir.string() + ": " + ec.message(), {}};
      out.infos.push_back({artifact.name, artifact.bytes.size(), artifact.media_type,
                           artifact.sha256.empty() ? sha256_hex(artifact.bytes) : artifact.sha256});
    }
    return out;
  };
  Written written = co_await files_.run(std::move(write_files));
  if (!written.problem.empty()) co_return unavailable(written.problem);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    co_await remove_artifact_dir(id);  // removed while its files were written
    co_return not_found("no job " + id);
  }
  auto& infos = it->second.artifacts;
  for (auto& info : written.infos) {
    std::erase_if(infos, [&](const ArtifactInfo& existing) { return existing.name == info.name; });
    infos.push_back(std::move(info));
  }
  co_return Done{};
}

asio::awaitable<Result<Done>> MemoryStore::copy_artifacts(std::string from, std::string to) {
  auto source = jobs_.find(from);
  if (source == jobs_.end()) co_return not_found("no job " + from);
  if (!jobs_.contains(to)) co_return not_found("no job " + to);
  std::vector<ArtifactInfo> infos = source->second.artifacts;
  if (infos.empty()) co_return Done{};
  std::vector<std::string> names;
  for (const ArtifactInfo& info : infos) names.push_back(info.name);
  // A hard link per file: 100,000 submissions of one calculation took 3 GB of copies. A file
  // past the file system's link limit (ext4: 65,000) or on another one is copied instead.
  // All or nothing: every file goes in aside ("name~", as put_artifacts writes) and is renamed
  // over only once all are there, so a copy that fails midway (the source removed meanwhile)
  // leaves the target's files and their listing as they were.
  auto link_files = [from_dir = artifact_dir(from), to_dir = artifact_dir(to), names = std::move(names)] {
    std::error_code ec;
    fs::create_directories(to_dir, ec);
    if (ec) return "cannot create " + to_dir.string() + ": " + ec.message();
    auto aside = [&to_dir](const std::string& name) { return to_dir / (name + "~"); };
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      fs::remove(aside(name), ec);
      fs::create_hard_link(from_dir / name, aside(name), ec);
      if (ec) fs::copy_file(from_dir / name, aside(name), fs::copy_options::overwrite_existing, ec);
      if (ec) {
        std::string problem = "cannot copy artifact " + name + " to " + to_dir.string() + ": " + ec.message();
        for (std::size_t done = 0; done <= i; ++done) fs::remove(aside(names[done]), ec);
        return problem;
      }
    }
    for (const std::string& name : names) {
      fs::rename(aside(name), to_dir / name, ec);
      if (ec) return "cannot copy artifact " + name + " to " + to_dir.string() + ": " + ec.message();
    }
    return std::string();
  };
  const std::string problem = co_await files_.run(std::move(link_files));
  // The source removed meanwhile (its files with it): nothing was copied.
  if (!problem.empty()) co_return jobs_.contains(from) ? unavailable(problem) : not_found("no job " + from);
  auto target = jobs_.find(to);
  if (target == jobs_.end()) {
    co_await remove_artifact_dir(to);  // removed while its files were linked
    co_return not_found("no job " + to);
  }
  auto& kept = target->second.artifacts;
  for (auto& info : infos) {
    std::erase_if(kept, [&](const ArtifactInfo& existing) { return existing.name == info.name; });
    kept.push_back(std::move(info));
  }
  co_return Done{};
}

asio::awaitable<Result<std::vector<ArtifactInfo>>> MemoryStore::list_artifacts(std::string id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  co_return it->second.artifacts;
}

asio::awaitable<Result<ArtifactInfo>> MemoryStore::artifact_info(std::string id, std::string name) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  const auto& infos = it->second.artifacts;
  auto info = std::find_if(infos.begin(), infos.end(), [&](const ArtifactInfo& i) { return i.name == name; });
  if (info == infos.end()) co_return not_found("job " + id + " has no artifact " + name);
  co_return *info;
}

asio::awaitable<Result<std::string>> MemoryStore::read_artifact(std::string id, std::string name,
                                                                std::uint64_t offset, std::size_t length) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) co_return not_found("no job " + id);
  const auto& infos = it->second.artifacts;
  auto info = std::find_if(infos.begin(), infos.end(), [&](const ArtifactInfo& i) { return i.name == name; });
  if (info == infos.end()) co_return not_found("job " + id + " has no artifact " + name);
  if (offset >= info->size) co_return std::string();
  const std::size_t count =
      static_cast<std::size_t>(std::min<std::uint64_t>({length, artifact_chunk_bytes, info->size - offset}));
  auto read_chunk = [path = artifact_dir(id) / name, offset, count] { return read_file_range(path, offset, count); };
  std::optional<std::string> bytes = co_await files_.run(std::move(read_chunk));
  if (!bytes) co_return not_found("artifact " + name + " of job " + id + " is gone");
  co_return std::move(*bytes);
}

asio::awaitable<std::size_t> MemoryStore::remove_orphan_artifacts() {
  const fs::path root = options_.data_dir / "artifacts";
  auto list_dirs = [root] {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
    return names;
  };
  std::vector<std::string> names = co_await files_.run(std::move(list_dirs));
  // A directory listed here belongs to a job created before the listing: if that job is not
  // held now, it is gone for good (ids are never reused).
  std::vector<fs::path> orphans;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!jobs_.contains(names[i])) orphans.push_back(root / names[i]);
    if (i % 4096 == 4095) co_await asio::post(executor_, asio::use_awaitable);  // long work yields
  }
  const std::size_t count = orphans.size();
  if (count == 0) co_return 0;
  auto remove_dirs = [orphans = std::move(orphans)] {
    std::error_code ignored;
    for (const auto& dir : orphans) fs::remove_all(dir, ignored);
    return true;
  };
  co_await files_.run(std::move(remove_dirs));
  co_return count;
}

}  // namespace nox
