#include "core/settings.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <sstream>

#include "core/job_spec.hpp"

namespace nox {

namespace {

using Apply = std::function<std::optional<std::string>(Settings&, const std::string&)>;

struct Descriptor {
  SettingInfo info;
  Apply apply;  // returns an error text when the value is not acceptable
};

Apply text(std::string Settings::*field) {
  return [field](Settings& s, const std::string& v) -> std::optional<std::string> {
    s.*field = v;
    return std::nullopt;
  };
}

Apply count(std::uint64_t Settings::*field, std::uint64_t min, std::uint64_t max) {
  return [=](Settings& s, const std::string& v) -> std::optional<std::string> {
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || ptr != v.data() + v.size() || n < min || n > max)
      return "expects a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    s.*field = n;
    return std::nullopt;
  };
}

Apply seconds(double Settings::*field, double min, double max) {
  return [=](Settings& s, const std::string& v) -> std::optional<std::string> {
    double x = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc{} || ptr != v.data() + v.size() || !std::isfinite(x) || x < min || x > max) {
      std::ostringstream m;
      m << "expects a number of seconds from " << min << " to " << max;
      return m.str();
    }
    s.*field = x;
    return std::nullopt;
  };
}

// A comma-separated list of names, each checked by `valid` (spaces around commas allowed).
Apply names(std::vector<std::string> Settings::*field, bool (*valid)(std::string_view), std::string rule) {
  return [=](Settings& s, const std::string& v) -> std::optional<std::string> {
    std::vector<std::string> list;
    std::stringstream items(v);
    for (std::string item; std::getline(items, item, ',');) {
      const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
      if (first == std::string::npos) continue;
      item = item.substr(first, last - first + 1);
      if (!valid(item)) return "\"" + item + "\": " + rule;
      if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
    }
    s.*field = std::move(list);
    return std::nullopt;
  };
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& item : list) out += (out.empty() ? "" : ",") + item;
  return out;
}

Apply boolean(bool Settings::*field) {
  return [=](Settings& s, const std::string& v) -> std::optional<std::string> {
    if (v == "true" || v == "yes" || v == "on" || v == "1") {
      s.*field = true;
    } else if (v == "false" || v == "no" || v == "off" || v == "0") {
      s.*field = false;
    } else {
      return "expects true or false";
    }
    return std::nullopt;
  };
}

const std::vector<Descriptor>& descriptors() {
  static const std::vector<Descriptor> all = [] {
    std::vector<Descriptor> d;
    auto add = [&](std::string name, std::string def, std::string description, Apply apply) {
      std::string flag = "--" + name, env = "NOX_" + name;
      for (auto& c : flag) c = c == '_' ? '-' : c;
      for (auto& c : env) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      d.push_back({{name, flag, env, std::move(def), std::move(description)}, std::move(apply)});
    };
    auto add_switch = [&](std::string name, std::string description, bool Settings::*field) {
      add(std::move(name), "false", std::move(description), boolean(field));
      d.back().info.is_switch = true;
    };
    add("listen", "127.0.0.1:8080", "HOST:PORT to serve HTTP on", text(&Settings::listen));
    add("redis_url", "", "redis://[:password@]host:port/db or unix:///path; empty: in-memory store",
        text(&Settings::redis_url));
    add("redis_prefix", "nox", "key prefix (and hash tag) so several deployments can share a Redis",
        text(&Settings::redis_prefix));
    add("slots", "0", "jobs run at once (subprocess pool size); 0: number of cores",
        [](Settings& s, const std::string& v) -> std::optional<std::string> {
          int n = 0;
          auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc{} || ptr != v.data() + v.size() || n < 0 || n > 1024)
            return "expects a whole number from 0 to 1024";
          s.slots = n;
          return std::nullopt;
        });
    add("data_dir", "./nox-data", "where the in-memory store keeps artifact files",
        text(&Settings::data_dir));
    add("scratch_dir", "", "where each attempt gets its scratch directory; empty: system temp dir",
        text(&Settings::scratch_dir));
    add("xtb", "", "path of the xtb program; empty: found on PATH", text(&Settings::xtb));
    add("mopac", "", "path of the mopac program; empty: found on PATH", text(&Settings::mopac));
    add("config", "", "settings file (key = value lines)", text(&Settings::config));
    add("max_body_bytes", "1048576", "largest request body accepted (413 above)",
        count(&Settings::max_body_bytes, 1024, 1ull << 32));
    add("max_atoms", "10000", "largest molecule accepted (422 above)",
        count(&Settings::max_atoms, 1, 1000000));
    add("max_connections", "10000", "open HTTP connections at most; more are refused at accept",
        count(&Settings::max_connections, 1, 1000000));
    add("max_connections_per_address", "1000",
        "open HTTP connections from one client address at most (behind a proxy: raise to max_connections)",
        count(&Settings::max_connections_per_address, 1, 1000000));
    add("allowed_hosts", "",
        "Host names this server answers to besides localhost, IP addresses and the listen host "
        "(comma-separated; * for any); other Host names get 421",
        text(&Settings::allowed_hosts));
    add("cors_origins", "",
        "origins whose pages may call the API (comma-separated, e.g. https://dash.lab.example; * for any); "
        "state changes from other origins get 403",
        text(&Settings::cors_origins));
    add("header_timeout_s", "10", "time a client has, from connecting, to send its first request's headers",
        seconds(&Settings::header_timeout_s, 0.1, 3600));
    add("idle_timeout_s", "60", "a keep-alive connection idle this long is closed",
        seconds(&Settings::idle_timeout_s, 0.1, 86400));
    add("lease_s", "30", "lease of a running job; renewed every third of it",
        seconds(&Settings::lease_s, 1, 86400));
    add("worker_timeout_s", "10",
        "an instance whose heartbeat is older than this is gone and its running jobs run elsewhere",
        seconds(&Settings::worker_timeout_s, 1, 3600));
    add("max_jobs", "1000000", "jobs the store holds at most; new submissions get 503 beyond it",
        count(&Settings::max_jobs, 1, 1000000000));
    add("max_queued", "0",
        "unfinished (scheduled, waiting, pending or running) jobs the server holds at once, all owners "
        "together; 503 queue_full with Retry-After beyond; 0: no bound",
        count(&Settings::max_queued, 0, 1000000000));
    add("max_queued_per_owner", "0",
        "unfinished (pending or running) jobs one owner may have at once, unless its API key sets "
        "max_queued; 429 too_many_queued beyond; 0: no bound",
        count(&Settings::max_queued_per_owner, 0, 1000000000));
    add("redis_command_timeout_s", "5",
        "a Redis command unanswered this long is re-sent on a new connection (it applies once)",
        seconds(&Settings::redis_command_timeout_s, 0.05, 600));
    add("retention_s", "604800", "finished jobs and their artifacts are removed after this long",
        seconds(&Settings::retention_s, 1, 1e9));
    add("cache_scope", "owner",
        "whose finished calculations a submission may reuse: owner (its own identity's), lab (anyone's "
        "on this server or Redis), off (always compute)",
        [](Settings& s, const std::string& v) -> std::optional<std::string> {
          if (v != "owner" && v != "lab" && v != "off") return "expects one of owner, lab, off";
          s.cache_scope = v;
          return std::nullopt;
        });
    add("role", "both",
        "what this instance does: both (serve the API and run jobs), api (serve the API, run nothing), "
        "worker (run jobs from a shared Redis; only /health, /ready and /metrics are served)",
        [](Settings& s, const std::string& v) -> std::optional<std::string> {
          if (v != "both" && v != "api" && v != "worker") return "expects one of both, api, worker";
          s.role = v;
          return std::nullopt;
        });
    add("tags", "",
        "compute tags this instance offers, comma-separated (e.g. big-memory,gpu): it claims the jobs "
        "whose `requires` it offers all of; jobs requiring none run anywhere",
        names(&Settings::tags, is_compute_tag, "compute tags are 1 to 64 characters of A-Z a-z 0-9 . _ : -"));
    add("queues", "",
        "the named queues this instance takes jobs from, comma-separated; empty: all",
        names(&Settings::queues, is_queue_name, "queue names are 1 to 64 characters of a-z 0-9 _ -"));
    add("retry_backoff_s", "2",
        "a failed attempt that may run again (max_attempts) waits this long, doubled for each further "
        "attempt, with 20% jitter (a job's retry.backoff_s overrides it)",
        seconds(&Settings::retry_backoff_s, 0, 86400));
    add("retry_backoff_max_s", "300", "the longest wait between two attempts of a job",
        seconds(&Settings::retry_backoff_max_s, 0, 7 * 86400));
    add("breaker_failures", "3",
        "an engine that fails this many times in a row on this instance for reasons not caused by the "
        "input (crash, missing or unstartable program) is taken out of its claims for breaker_cooldown_s; "
        "0: never",
        count(&Settings::breaker_failures, 0, 1000000));
    add("breaker_cooldown_s", "300", "how long an engine taken out by the circuit breaker stays out",
        seconds(&Settings::breaker_cooldown_s, 0.1, 86400));
    add("kill_grace_s", "5", "time between SIGTERM and SIGKILL when a job is stopped",
        seconds(&Settings::kill_grace_s, 0, 600));
    add("engine_nice", "10",
        "added to the niceness of engine processes (0-19): the event loop keeps answering while jobs use every core",
        count(&Settings::engine_nice, 0, 19));
    add("sse_heartbeat_s", "15", "a comment line is sent on idle event streams this often",
        seconds(&Settings::sse_heartbeat_s, 0.1, 3600));
    add("sse_max_buffer_bytes", "1048576", "an event-stream subscriber this far behind is closed",
        count(&Settings::sse_max_buffer_bytes, 4096, 1ull << 32));
    add("events_capacity", "100000", "events the log keeps (older Last-Event-IDs get a reset)",
        count(&Settings::events_capacity, 100, 100000000));
    add("max_timeout_s", "604800", "largest timeout_s a job may ask for",
        seconds(&Settings::max_timeout_s, 1, 1e9));
    add("www_dir", "", "dashboard files served at /; empty: www/ of the source tree", text(&Settings::www_dir));
    add("log_level", "info", "error | warn | info | debug",
        [](Settings& s, const std::string& v) -> std::optional<std::string> {
          if (v != "error" && v != "warn" && v != "info" && v != "debug")
            return "expects one of error, warn, info, debug";
          s.log_level = v;
          return std::nullopt;
        });
    add("log_format", "text", "text (\"<level> <message>\", journald adds the time) | json (one object per line)",
        [](Settings& s, const std::string& v) -> std::optional<std::string> {
          if (v != "text" && v != "json") return "expects text or json";
          s.log_format = v;
          return std::nullopt;
        });
    add("access_log", "true",
        "one JSON line per request (time, request id, method, route, status, duration_ms, bytes, identity, client)",
        boolean(&Settings::access_log));
    add("keys_file", "",
        "API keys file (noxd keys add NAME --scopes ...); empty: open mode, every caller is an "
        "administrator, allowed on a loopback address only",
        text(&Settings::keys_file));
    add("jwt_secret_file", "", "accept HS256 bearer tokens signed with the secret in this file", text(&Settings::jwt_secret_file));
    add("jwt_jwks_file", "", "accept RS256/ES256 bearer tokens signed by a key of this JWKS file",
        text(&Settings::jwt_jwks_file));
    add("tls_cert_file", "",
        "serve HTTPS with this certificate chain (PEM, leaf first) and tls_key_file; reloaded on SIGHUP; "
        "empty: plain HTTP (put TLS in a reverse proxy)",
        text(&Settings::tls_cert_file));
    add("tls_key_file", "", "the private key (PEM) of tls_cert_file", text(&Settings::tls_key_file));
    add("jwt_issuer", "", "a bearer token's iss must equal this", text(&Settings::jwt_issuer));
    add("jwt_audience", "", "a bearer token's aud must contain this", text(&Settings::jwt_audience));
    add_switch("insecure_open",
               "allow open mode (no keys file) on an address other than loopback: anyone who can reach "
               "the port may read, cancel and delete every job",
               &Settings::insecure_open);
    return d;
  }();
  return all;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// A '#' starts a comment unless it is inside a quoted value: `redis_url = "redis://:pa#ss@h"`.
std::string without_comment(const std::string& line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    else if (line[i] == '#' && !quoted) return line.substr(0, i);
  }
  return line;
}

const Descriptor* by_name(std::string_view name) {
  for (const auto& d : descriptors())
    if (d.info.name == name) return &d;
  return nullptr;
}

const Descriptor* by_flag(std::string_view flag) {
  for (const auto& d : descriptors())
    if (d.info.flag == flag) return &d;
  return nullptr;
}

std::optional<std::string> apply(Settings& s, const Descriptor& d, const std::string& value,
                                 const std::string& source) {
  if (auto error = d.apply(s, value))
    return d.info.name + " (" + source + "): " + *error + ", got '" + value + "'";
  return std::nullopt;
}

}  // namespace

const std::vector<SettingInfo>& setting_infos() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    for (const auto& d : descriptors()) v.push_back(d.info);
    return v;
  }();
  return infos;
}

std::variant<SettingsRequest, std::string> load_settings(const SettingsSources& sources) {
  SettingsRequest request;
  // Flags first into a list, so that --config is known before the file is read.
  std::vector<std::pair<const Descriptor*, std::string>> flags;
  for (std::size_t i = 0; i < sources.args.size(); ++i) {
    std::string arg = sources.args[i];
    if (arg == "--help" || arg == "-h") {
      request.help = true;
      continue;
    }
    if (arg == "--version") {
      request.version = true;
      continue;
    }
    if (arg == "--check-config") {
      request.check_config = true;
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Descriptor* d = by_flag(arg);
    if (!d) return "unknown option " + arg + " (see --help)";
    if (!has_value && d->info.is_switch) {
      value = "true";
    } else if (!has_value) {
      if (i + 1 >= sources.args.size()) return "option " + arg + " needs a value";
      value = sources.args[++i];
    }
    flags.emplace_back(d, value);
  }

  std::string config_path;
  if (auto it = sources.environment.find("NOX_CONFIG"); it != sources.environment.end())
    config_path = it->second;
  for (const auto& [d, value] : flags)
    if (d->info.name == "config") config_path = value;

  Settings& s = request.settings;
  if (!config_path.empty()) {
    auto content = sources.read_file ? sources.read_file(config_path) : std::nullopt;
    if (!content) return "cannot read config file " + config_path;
    std::istringstream lines(*content);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
      ++number;
      line = without_comment(line);
      line = trim(line);
      if (line.empty()) continue;
      auto eq = line.find('=');
      const std::string where = config_path + ":" + std::to_string(number);
      if (eq == std::string::npos) return where + ": expected 'key = value'";
      std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      const Descriptor* d = by_name(key);
      if (!d) return where + ": unknown setting '" + key + "'";
      if (auto error = apply(s, *d, value, where)) return *error;
      request.sources[key] = "file " + where;
    }
  }
  for (const auto& d : descriptors()) {
    auto it = sources.environment.find(d.info.env);
    if (it == sources.environment.end()) continue;
    if (auto error = apply(s, d, it->second, "environment " + d.info.env)) return *error;
    request.sources[d.info.name] = "environment " + d.info.env;
  }
  for (const auto& [d, value] : flags) {
    if (auto error = apply(s, *d, value, "option " + d->info.flag)) return *error;
    request.sources[d->info.name] = "option " + d->info.flag;
  }
  s.config = config_path;
  return request;
}

namespace {

// The value a setting has now, as text (what a config file line would say).
std::string value_text(const Settings& s, const std::string& name) {
  auto number = [](double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  };
  if (name == "listen") return s.listen;
  if (name == "redis_url") {
    // user:password@ -> user:***@ (the listing may be pasted into a ticket)
    std::string url = s.redis_url;
    const auto at = url.find('@');
    const auto scheme = url.find("://");
    if (at != std::string::npos && scheme != std::string::npos && at > scheme) {
      const auto colon = url.find(':', scheme + 3);
      const std::size_t from = colon != std::string::npos && colon < at ? colon + 1 : scheme + 3;
      url.replace(from, at - from, "***");
    }
    return url;
  }
  if (name == "redis_prefix") return s.redis_prefix;
  if (name == "slots") return std::to_string(s.slots);
  if (name == "data_dir") return s.data_dir;
  if (name == "scratch_dir") return s.scratch_dir;
  if (name == "xtb") return s.xtb;
  if (name == "mopac") return s.mopac;
  if (name == "config") return s.config;
  if (name == "max_body_bytes") return std::to_string(s.max_body_bytes);
  if (name == "max_atoms") return std::to_string(s.max_atoms);
  if (name == "max_connections") return std::to_string(s.max_connections);
  if (name == "max_connections_per_address") return std::to_string(s.max_connections_per_address);
  if (name == "allowed_hosts") return s.allowed_hosts;
  if (name == "cors_origins") return s.cors_origins;
  if (name == "header_timeout_s") return number(s.header_timeout_s);
  if (name == "idle_timeout_s") return number(s.idle_timeout_s);
  if (name == "lease_s") return number(s.lease_s);
  if (name == "worker_timeout_s") return number(s.worker_timeout_s);
  if (name == "max_jobs") return std::to_string(s.max_jobs);
  if (name == "max_queued_per_owner") return std::to_string(s.max_queued_per_owner);
  if (name == "max_queued") return std::to_string(s.max_queued);
  if (name == "redis_command_timeout_s") return number(s.redis_command_timeout_s);
  if (name == "retention_s") return number(s.retention_s);
  if (name == "cache_scope") return s.cache_scope;
  if (name == "role") return s.role;
  if (name == "tags") return joined(s.tags);
  if (name == "queues") return joined(s.queues);
  if (name == "breaker_failures") return std::to_string(s.breaker_failures);
  if (name == "retry_backoff_s") return number(s.retry_backoff_s);
  if (name == "retry_backoff_max_s") return number(s.retry_backoff_max_s);
  if (name == "breaker_cooldown_s") return number(s.breaker_cooldown_s);
  if (name == "kill_grace_s") return number(s.kill_grace_s);
  if (name == "engine_nice") return std::to_string(s.engine_nice);
  if (name == "sse_heartbeat_s") return number(s.sse_heartbeat_s);
  if (name == "sse_max_buffer_bytes") return std::to_string(s.sse_max_buffer_bytes);
  if (name == "events_capacity") return std::to_string(s.events_capacity);
  if (name == "max_timeout_s") return number(s.max_timeout_s);
  if (name == "www_dir") return s.www_dir;
  if (name == "log_level") return s.log_level;
  if (name == "log_format") return s.log_format;
  if (name == "access_log") return s.access_log ? "true" : "false";
  if (name == "keys_file") return s.keys_file;
  if (name == "jwt_secret_file") return s.jwt_secret_file;
  if (name == "jwt_jwks_file") return s.jwt_jwks_file;
  if (name == "tls_cert_file") return s.tls_cert_file;
  if (name == "tls_key_file") return s.tls_key_file;
  if (name == "jwt_issuer") return s.jwt_issuer;
  if (name == "jwt_audience") return s.jwt_audience;
  if (name == "insecure_open") return s.insecure_open ? "true" : "false";
  return "?";
}

}  // namespace

std::string effective_settings_text(const SettingsRequest& request) {
  std::ostringstream out;
  for (const auto& info : setting_infos()) {
    auto source = request.sources.find(info.name);
    out << info.name << " = " << value_text(request.settings, info.name) << "    # "
        << (source == request.sources.end() ? std::string("default") : source->second) << "\n";
  }
  return out.str();
}

std::string settings_help() {
  std::ostringstream out;
  out << "usage: noxd [options]\n\nEvery option can also be set as an environment variable or in the\n"
         "--config file (key = value). Precedence: flags > environment > file > defaults.\n\n";
  for (const auto& info : setting_infos()) {
    out << "  " << info.flag << (info.is_switch ? "   (" : " VALUE   (") << info.env << ", default '"
        << info.default_text << "')\n      " << info.description << "\n";
  }
  out << "  --check-config   print every setting's effective value and where it came from, check the\n"
         "      keys file, the JWT files and the listen address, and exit (0: usable, 2: not)\n";
  out << "  --help, --version\n";
  out << "\n  noxd keys add|list|revoke ...   manage API keys (noxd keys for its usage)\n";
  return out.str();
}

}  // namespace nox
