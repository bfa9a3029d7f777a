#pragma once
// Nox's settings: built-in defaults < --config FILE < NOX_* environment < command-line flags.
// Each setting has one name used in all four places (flag --max-body-bytes, env
// NOX_MAX_BODY_BYTES, config key max_body_bytes); conf/noxd.conf documents them all.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nox {

struct Settings {
  std::string listen = "127.0.0.1:8080";
  std::string redis_url;            // empty: in-memory store
  std::string redis_prefix = "nox";
  int slots = 0;                    // 0: number of cores
  std::string data_dir = "./nox-data";
  std::string scratch_dir;          // empty: system temp dir
  std::string xtb;                  // empty: found on PATH
  std::string mopac;                // empty: found on PATH
  std::string config;
  std::uint64_t max_body_bytes = 1 << 20;
  std::uint64_t max_atoms = 10000;
  double retry_backoff_s = 2;        // a failed attempt runs again after this, doubled each time ...
  double retry_backoff_max_s = 300;  // ... up to this (core/retry_policy.hpp)
  std::uint64_t breaker_failures = 3;  // engine circuit breaker: failures in a row that take an engine out; 0: off
  double breaker_cooldown_s = 300;      // ... and for how long
  std::uint64_t max_connections = 10000;
  std::uint64_t max_connections_per_address = 1000;
  std::string allowed_hosts;  // Host names answered besides loopback and the listen host; "*": any
  std::string cors_origins;   // origins allowed cross-origin ("https://dash.lab.example"); "*": any
  double header_timeout_s = 10;
  double idle_timeout_s = 60;
  double lease_s = 30;
  double worker_timeout_s = 10;     // an instance silent this long is gone: its jobs are taken over
  std::uint64_t max_jobs = 1000000;  // jobs the store holds at most (503 + Retry-After beyond)
  std::uint64_t max_queued = 0;  // unfinished jobs in all (back-pressure); 0: no bound
  std::uint64_t max_queued_per_owner = 0;  // unfinished jobs per owner when its key sets none; 0: no bound
  double redis_command_timeout_s = 5;
  double retention_s = 7 * 24 * 3600;
  // Routing (README "Compute tags and queues"): the compute tags this instance offers (it
  // claims jobs whose `requires` it has all of), and the queues it serves (empty: all).
  std::vector<std::string> tags;
  std::vector<std::string> queues;
  std::string role = "both";  // both | api (serves, runs nothing) | worker (runs jobs; health and metrics only)
  std::string cache_scope = "owner";  // calculation cache shared by: owner (each identity) | lab (everyone) | off
  double kill_grace_s = 5;
  std::uint64_t engine_nice = 10;
  double sse_heartbeat_s = 15;
  std::uint64_t sse_max_buffer_bytes = 1 << 20;
  std::uint64_t events_capacity = 100000;
  double max_timeout_s = 7 * 24 * 3600;
  std::string www_dir;  // empty: the dashboard files of the source tree
  std::string log_level = "info";  // error | warn | info | debug
  bool access_log = true;          // one JSON line per request
  std::string log_format = "text";  // text | json
  std::string keys_file;  // API keys (noxd keys add ...); empty: open mode, loopback only
  bool insecure_open = false;  // allow open mode on a non-loopback address
  std::string jwt_secret_file;  // HS256 tokens: the shared secret, in a file
  std::string jwt_jwks_file;    // RS256/ES256 tokens: the identity provider's public keys
  std::string tls_cert_file;    // HTTPS: certificate chain (PEM); with tls_key_file. Empty: plain HTTP
  std::string tls_key_file;     // HTTPS: its private key (PEM)
  std::string jwt_issuer;       // set: a token's iss must equal it
  std::string jwt_audience;     // set: a token's aud must contain it
};

struct SettingInfo {
  std::string name;         // config key, e.g. "max_body_bytes"
  std::string flag;         // "--max-body-bytes"
  std::string env;          // "NOX_MAX_BODY_BYTES"
  std::string default_text;
  std::string description;
  bool is_switch = false;  // a flag that needs no value (--insecure-open means true)
};

// Every setting, in the order conf/noxd.conf and --help list them.
const std::vector<SettingInfo>& setting_infos();

struct SettingsSources {
  std::vector<std::string> args;                  // command line without argv[0]
  std::map<std::string, std::string> environment;  // only NOX_* entries matter
  // Reads the config file named by --config/NOX_CONFIG; nullopt when it cannot be read.
  std::optional<std::string> (*read_file)(const std::string& path) = nullptr;
};

struct SettingsRequest {
  Settings settings;
  bool help = false;
  bool version = false;
  bool check_config = false;  // --check-config: print the effective settings and exit
  // Where each setting that is not at its default came from: "file /etc/nox/noxd.conf:12",
  // "environment NOX_SLOTS", "option --slots" (by setting name).
  std::map<std::string, std::string> sources;
};

// --check-config's listing: every setting's effective value and its source, one per line.
// Secrets (redis_url passwords) are masked.
std::string effective_settings_text(const SettingsRequest& request);

// Parses all sources; a wrong value answers one message naming the setting and its source.
std::variant<SettingsRequest, std::string> load_settings(const SettingsSources& sources);

std::string settings_help();

}  // namespace nox
