#pragma once
// What every route handler can reach: settings, the store, the dispatcher, the engines.
#include <cstddef>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/settings.hpp"
#include "engines/engine_registry.hpp"
#include "server/access_control.hpp"
#include "server/calculation_cache.hpp"
#include "server/dispatcher.hpp"
#include "server/edge_policy.hpp"
#include "server/router.hpp"
#include "server/server_metrics.hpp"
#include "storage/file_worker.hpp"
#include "storage/store.hpp"

namespace nox {

class EventHub;
class StatusCache;

struct App {
  Settings settings;
  Store& store;
  Dispatcher& dispatcher;
  const EngineRegistry& engines;
  EventHub* events = nullptr;  // SSE fan-out; null until started
  StatusCache* status_cache = nullptr;  // set when the store costs a round trip per read (Redis)
  Router router;
  TimeMs started_at = now_ms();
  std::size_t open_connections = 0;
  std::unordered_map<std::string, std::size_t> connections_by_address;  // open ones, per client address
  EdgePolicy edge;  // Host, Origin and CORS rules (server/edge_policy.hpp)
  AccessControl access;  // API keys, scopes and rate limits (server/access_control.hpp)
  ServerMetrics metrics;  // requests, latencies, loop lag (GET /metrics)
  CalculationCache cache;  // counters and the jobs waited on (server/calculation_cache.hpp)
  bool stopping = false;
  // One thread for Open Babel (molecule conversion and identifiers, tens of milliseconds each):
  // a FileWorker is a plain one-thread runner that resumes the caller on the loop.
  FileWorker chemistry;
};

// Registers every route of the API on the app's router (server/routes/*.cpp).
void add_routes(Router& router);
// A worker-only instance (role = worker) serves no API: /health, /ready and /metrics only.
void add_worker_routes(Router& router);

}  // namespace nox
