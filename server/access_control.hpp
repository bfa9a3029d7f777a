#pragma once
// Who may call the API: the identity behind a request's credential (an API key, or a JWT from
// the lab's identity provider) and its rate limits. With neither keys nor tokens configured
// the server is in open mode (every caller is the anonymous administrator),
// which main allows only on a loopback listen address unless --insecure-open is given.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "core/api_keys.hpp"
#include "core/identity.hpp"
#include "core/settings.hpp"
#include "core/token_bucket.hpp"
#include "server/http_types.hpp"
#include "server/jwt_verifier.hpp"

namespace nox {

class Store;

class AccessControl {
 public:
  AccessControl() = default;  // open mode
  // Reads the keys file and the JWT settings' files; an error names the file and what is wrong.
  static std::variant<AccessControl, std::string> load(const Settings& settings);

  bool open() const { return keys_file_.empty() && !jwt_.enabled(); }
  // The identity the request's credential names: `X-API-Key: <key>`, `Authorization: Bearer
  // <key>`, or, on a GET (a browser's EventSource or download link cannot set headers),
  // `?access_token=<key>`. Without a credential: nullopt (a public route still answers);
  // with a wrong one: the 401 to send.
  std::variant<std::optional<Identity>, HttpResponse> identify(const HttpRequest& request) const;
  // The keys file and the JWT files read again (SIGHUP): nullopt when loaded; on an error
  // the keys in use stay.
  std::optional<std::string> reload();
  std::size_t key_count() const { return keys_.records().size(); }

  // Rate limits: nullopt when admitted, else the 429 to answer with its Retry-After. A batch
  // of n jobs costs n submissions. The buckets live in the store when it is shared by several
  // instances (Redis: a key's rate holds across all of them), else here (core/token_bucket.hpp);
  // while a shared store cannot be reached, this instance's own buckets decide.
  boost::asio::awaitable<std::optional<HttpResponse>> admit_request(const Identity& identity);
  boost::asio::awaitable<std::optional<HttpResponse>> admit_submissions(const Identity& identity, std::size_t jobs);
  void share_buckets_through(Store* store) { shared_ = store; }
  // Open SSE streams per identity (max_streams). The returned token, while alive, holds one.
  std::variant<std::shared_ptr<void>, HttpResponse> open_stream(const Identity& identity);

 private:
  using Clock = TokenBuckets::Clock;
  std::optional<std::string> load_jwt();
  // Zero when `cost` tokens were taken from `kind`:`name`'s bucket, else the wait.
  boost::asio::awaitable<std::chrono::milliseconds> take(TokenBuckets& local, std::string_view kind,
                                                         const std::string& name, double rate, double cost);
  Store* shared_ = nullptr;
  std::string keys_file_;
  KeyRing keys_;
  Settings jwt_settings_;
  JwtVerifier jwt_;
  TokenBuckets requests_;
  TokenBuckets submissions_;
  std::shared_ptr<std::unordered_map<std::string, std::size_t>> streams_ =
      std::make_shared<std::unordered_map<std::string, std::size_t>>();
  Clock::time_point last_forget_{};
};

// The 401 for a request without a credential on a route that needs one.
HttpResponse unauthenticated_response();
// The 403 for a credential without the route's scope.
HttpResponse missing_scope_response(Scope needed);

}  // namespace nox
