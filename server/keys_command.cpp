#include "server/keys_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "core/api_keys.hpp"
#include "core/sha256.hpp"
#include "server/text_file.hpp"

namespace nox {

namespace {

constexpr const char* own_options[] = {"--scopes", "--rate", "--submit-rate", "--max-streams", "--max-queued"};

bool is_own_option(const std::string& name) {
  for (const char* o : own_options)
    if (name == o) return true;
  return false;
}

std::variant<std::vector<ApiKeyRecord>, std::string> read_keys(const std::string& path) {
  auto text = read_text_file(path);
  std::error_code ec;
  if (!text && std::filesystem::exists(path, ec)) return "cannot read " + path;  // never overwrite it
  if (!text) return std::vector<ApiKeyRecord>{};  // no file yet: no keys
  auto parsed = parse_keys_file(*text);
  if (auto* error = std::get_if<std::string>(&parsed)) return path + ": " + *error;
  return parsed;
}

// The file rewritten whole through a temporary beside it and rename(), so a reader (noxd on
// SIGHUP) sees the old file or the new one, never half of one. Mode 0600: hashes only, but
// still nobody else's business.
std::optional<std::string> write_keys(const std::string& path, const std::vector<ApiKeyRecord>& records) {
  const std::string temporary = path + ".tmp";
  {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return "cannot write " + temporary;
    std::string text = "# Nox API keys: one JSON record per line (noxd keys add/list/revoke). Keys are kept as\n"
                       "# their SHA-256 only. A running noxd reads this file again on SIGHUP.\n";
    for (const auto& r : records) text += key_record_line(r) + "\n";
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        ::close(fd);
        return "cannot write " + temporary;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) return "cannot write " + temporary;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return "cannot replace " + path;
  return std::nullopt;
}

std::optional<std::uint64_t> whole(const std::string& text) {
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return n;
}

int add(const std::vector<std::string>& args, const std::string& path, std::ostream& out, std::ostream& err) {
  if (args.size() < 2) {
    err << "noxd keys add: give a NAME and --scopes (e.g. noxd keys add alice --scopes compute:read,compute:write)\n";
    return 2;
  }
  ApiKeyRecord record;
  record.name = args[1];
  if (!is_valid_key_name(record.name)) {
    err << "noxd keys add: a name is 1-64 of A-Z a-z 0-9 . _ @ -, got '" << record.name << "'\n";
    return 2;
  }
  bool scoped = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& option = args[i];
    if (i + 1 >= args.size()) {
      err << "noxd keys add: " << option << " needs a value\n";
      return 2;
    }
    const std::string& value = args[++i];
    std::string why;
    if (option == "--scopes") {
      auto scopes = parse_scopes(value, &why);
      if (!scopes) {
        err << "noxd keys add: --scopes: " << why << "\n";
        return 2;
      }
      record.scopes = *scopes;
      scoped = true;
    } else if (option == "--rate" || option == "--submit-rate") {
      auto rate = parse_rate(value);
      if (!rate) {
        err << "noxd keys add: " << option << " is a count per s, min or h (20/s, 300/min), got '" << value << "'\n";
        return 2;
      }
      (option == "--rate" ? record.limits.requests_per_s : record.limits.submissions_per_s) = *rate;
    } else if (option == "--max-streams" || option == "--max-queued") {
      auto n = whole(value);
      if (!n) {
        err << "noxd keys add: " << option << " is a whole number, got '" << value << "'\n";
        return 2;
      }
      (option == "--max-streams" ? record.limits.max_streams : record.limits.max_queued) = *n;
    } else {
      err << "noxd keys add: unknown option " << option
          << " (--scopes, --rate, --submit-rate, --max-streams, --max-queued)\n";
      return 2;
    }
  }
  if (!scoped) {
    err << "noxd keys add: --scopes is required (compute:read, compute:write, admin; comma-separated)\n";
    return 2;
  }
  auto existing = read_keys(path);
  if (auto* error = std::get_if<std::string>(&existing)) {
    err << "noxd keys add: " << *error << "\n";
    return 1;
  }
  auto& records = std::get<std::vector<ApiKeyRecord>>(existing);
  for (const auto& r : records)
    if (r.name == record.name) {
      err << "noxd keys add: a key named " << record.name << " exists; revoke it first\n";
      return 1;
    }
  const std::string key = new_api_key();
  record.sha256 = sha256_hex(key);
  record.created_at = now_ms();
  records.push_back(record);
  if (auto error = write_keys(path, records)) {
    err << "noxd keys add: " << *error << "\n";
    return 1;
  }
  // The key on stdout alone (scripts capture it); what it is on stderr.
  out << key << "\n";
  err << "added " << record.name << " (" << scopes_text(record.scopes) << ") to " << path
      << "; the key above is shown this once. Running servers pick it up on SIGHUP.\n";
  return 0;
}

int list(const std::string& path, std::ostream& out, std::ostream& err) {
  auto existing = read_keys(path);
  if (auto* error = std::get_if<std::string>(&existing)) {
    err << "noxd keys list: " << *error << "\n";
    return 1;
  }
  for (const auto& r : std::get<std::vector<ApiKeyRecord>>(existing)) {
    out << r.name << "\t" << scopes_text(r.scopes) << "\tcreated " << to_rfc3339(r.created_at);
    if (r.limits.requests_per_s > 0) out << "\trate " << rate_text(r.limits.requests_per_s);
    if (r.limits.submissions_per_s > 0) out << "\tsubmit-rate " << rate_text(r.limits.submissions_per_s);
    if (r.limits.max_streams > 0) out << "\tmax-streams " << r.limits.max_streams;
    if (r.limits.max_queued > 0) out << "\tmax-queued " << r.limits.max_queued;
    out << "\n";
  }
  return 0;
}

int revoke(const std::vector<std::string>& args, const std::string& path, std::ostream& err) {
  if (args.size() != 2) {
    err << "noxd keys revoke: give the NAME of one key\n";
    return 2;
  }
  auto existing = read_keys(path);
  if (auto* error = std::get_if<std::string>(&existing)) {
    err << "noxd keys revoke: " << *error << "\n";
    return 1;
  }
  auto& records = std::get<std::vector<ApiKeyRecord>>(existing);
  const auto removed = std::erase_if(records, [&](const ApiKeyRecord& r) { return r.name == args[1]; });
  if (removed == 0) {
    err << "noxd keys revoke: no key named " << args[1] << " in " << path << "\n";
    return 1;
  }
  if (auto error = write_keys(path, records)) {
    err << "noxd keys revoke: " << *error << "\n";
    return 1;
  }
  err << "revoked " << args[1] << "; running servers refuse it after SIGHUP (systemctl reload noxd)\n";
  return 0;
}

}  // namespace

KeysCommand split_keys_command(const std::vector<std::string>& after_keys) {
  KeysCommand command;
  for (std::size_t i = 0; i < after_keys.size(); ++i) {
    const std::string& word = after_keys[i];
    const std::string name = word.substr(0, word.find('='));
    if (!word.starts_with("--") || is_own_option(name)) {
      if (is_own_option(name) && word.find('=') != std::string::npos) {
        command.args.push_back(name);
        command.args.push_back(word.substr(word.find('=') + 1));
      } else {
        command.args.push_back(word);
      }
      continue;
    }
    command.settings_args.push_back(word);
    if (word.find('=') == std::string::npos && i + 1 < after_keys.size()) command.settings_args.push_back(after_keys[++i]);
  }
  return command;
}

int run_keys_command(const std::vector<std::string>& args, const std::string& keys_file, std::ostream& out,
                     std::ostream& err) {
  if (keys_file.empty()) {
    err << "noxd keys: no keys file: give --keys-file PATH (or NOX_KEYS_FILE, or keys_file in the config)\n";
    return 2;
  }
  const std::string verb = args.empty() ? "" : args.front();
  if (verb == "add") return add(args, keys_file, out, err);
  if (verb == "list" && args.size() == 1) return list(keys_file, out, err);
  if (verb == "revoke") return revoke(args, keys_file, err);
  err << "usage: noxd keys add NAME --scopes compute:read[,compute:write][,admin] [--rate 20/s] "
         "[--submit-rate 5/s] [--max-streams N]\n"
         "       noxd keys list\n"
         "       noxd keys revoke NAME\n"
         "(with --keys-file PATH, NOX_KEYS_FILE or keys_file in --config)\n";
  return 2;
}

}  // namespace nox
