#include "server/access_control.hpp"


#include "server/api_error.hpp"
#include "server/text_file.hpp"
#include "storage/store.hpp"

namespace nox {

namespace asio = boost::asio;

namespace {

HttpResponse too_many(std::string_view what, std::chrono::milliseconds wait) {
  const auto seconds = std::max<std::int64_t>(1, (wait.count() + 999) / 1000);
  HttpResponse response = error_response(429, "rate_limited", std::string(what) + "; try again in " +
                                                                   std::to_string(seconds) + " s");
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

void add_challenge(HttpResponse& response, std::string_view error) {
  std::string value = "Bearer realm=\"nox\"";
  if (!error.empty()) value += ", error=\"" + std::string(error) + "\"";
  response.headers.emplace_back("WWW-Authenticate", std::move(value));
}

}  // namespace

std::variant<AccessControl, std::string> AccessControl::load(const Settings& settings) {
  AccessControl access;
  access.keys_file_ = settings.keys_file;
  access.jwt_settings_ = settings;
  if (auto error = access.reload()) return *error;
  return access;
}

std::optional<std::string> AccessControl::load_jwt() {
  const Settings& s = jwt_settings_;
  JwtOptions options;
  options.issuer = s.jwt_issuer;
  options.audience = s.jwt_audience;
  if (!s.jwt_secret_file.empty()) {
    auto secret = read_text_file(s.jwt_secret_file);
    if (!secret) return "cannot read the JWT secret file " + s.jwt_secret_file;
    while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) secret->pop_back();
    if (secret->size() < 32) return "the JWT secret in " + s.jwt_secret_file + " is shorter than 32 bytes";
    options.hs256_secret = std::move(*secret);
  }
  if (!s.jwt_jwks_file.empty()) {
    auto jwks = read_text_file(s.jwt_jwks_file);
    if (!jwks) return "cannot read the JWKS file " + s.jwt_jwks_file;
    options.jwks_json = std::move(*jwks);
  }
  auto created = JwtVerifier::create(std::move(options));
  if (auto* error = std::get_if<std::string>(&created)) return s.jwt_jwks_file + ": " + *error;
  jwt_ = std::move(std::get<JwtVerifier>(created));
  return std::nullopt;
}

std::optional<std::string> AccessControl::reload() {
  if (auto error = load_jwt()) return error;
  if (keys_file_.empty()) return std::nullopt;
  auto text = read_text_file(keys_file_);
  if (!text) return "cannot read the keys file " + keys_file_;
  auto parsed = parse_keys_file(*text);
  if (auto* error = std::get_if<std::string>(&parsed)) return "keys file " + keys_file_ + ": " + *error;
  keys_ = KeyRing(std::move(std::get<std::vector<ApiKeyRecord>>(parsed)));
  return std::nullopt;
}

std::variant<std::optional<Identity>, HttpResponse> AccessControl::identify(const HttpRequest& request) const {
  if (open()) return std::optional<Identity>(open_identity());
  std::string_view presented = request.header("x-api-key");
  if (presented.empty()) {
    const std::string_view authorization = request.header("authorization");
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.size() > bearer.size() && authorization.substr(0, bearer.size()) == bearer)
      presented = authorization.substr(bearer.size());
  }
  std::string from_query;  // decoded, so it lives here
  if (presented.empty() && (request.method == "GET" || request.method == "HEAD")) {
    from_query = query_param(request.query(), "access_token").value_or("");
    presented = from_query;
  }
  if (presented.empty()) return std::optional<Identity>{};
  if (looks_like_jwt(presented)) {
    auto verified = jwt_.verify(std::string(presented), now_ms());
    if (auto* identity = std::get_if<Identity>(&verified)) return std::optional<Identity>(std::move(*identity));
    HttpResponse response = error_response(401, "invalid_credentials", std::get<std::string>(verified));
    add_challenge(response, "invalid_token");
    return response;
  }
  const ApiKeyRecord* record = keys_.find(presented);
  if (!record) {
    HttpResponse response =
        error_response(401, "invalid_credentials", "this API key is not valid here (unknown or revoked)");
    add_challenge(response, "invalid_token");
    return response;
  }
  Identity identity;
  identity.name = record->name;
  identity.scopes = record->scopes;
  identity.limits = record->limits;
  return std::optional<Identity>(std::move(identity));
}

asio::awaitable<std::chrono::milliseconds> AccessControl::take(TokenBuckets& local, std::string_view kind,
                                                             const std::string& name, double rate, double cost) {
  const auto now = Clock::now();
  if (now - last_forget_ > std::chrono::minutes(1)) {
    requests_.forget_idle(now);
    submissions_.forget_idle(now);
    last_forget_ = now;
  }
  if (shared_) {
    auto shared = co_await shared_->take_tokens(std::string(kind) + ":" + name, rate, std::max(1.0, rate), cost);
    if (shared) co_return *shared;
  }
  co_return local.take(name, rate, cost, now);
}

asio::awaitable<std::optional<HttpResponse>> AccessControl::admit_request(const Identity& identity) {
  if (identity.limits.requests_per_s <= 0) co_return std::nullopt;
  const auto wait = co_await take(requests_, "requests", identity.name, identity.limits.requests_per_s, 1);
  if (wait.count() == 0) co_return std::nullopt;
  co_return too_many("too many requests from " + identity.name + " (limit " +
                         rate_text(identity.limits.requests_per_s) + ")",
                     wait);
}

asio::awaitable<std::optional<HttpResponse>> AccessControl::admit_submissions(const Identity& identity,
                                                                             std::size_t jobs) {
  if (identity.limits.submissions_per_s <= 0 || jobs == 0) co_return std::nullopt;
  const auto wait = co_await take(submissions_, "submissions", identity.name, identity.limits.submissions_per_s,
                                  static_cast<double>(jobs));
  if (wait.count() == 0) co_return std::nullopt;
  co_return too_many("too many submissions from " + identity.name + " (limit " +
                         rate_text(identity.limits.submissions_per_s) + " jobs)",
                     wait);
}

std::variant<std::shared_ptr<void>, HttpResponse> AccessControl::open_stream(const Identity& identity) {
  auto& open_now = (*streams_)[identity.name];
  if (identity.limits.max_streams > 0 && open_now >= identity.limits.max_streams) {
    HttpResponse response = error_response(429, "too_many_streams",
                                           identity.name + " has " + std::to_string(open_now) +
                                               " event streams open, its limit; close one first");
    response.headers.emplace_back("Retry-After", "5");
    return response;
  }
  ++open_now;
  // The counts outlive this object if a stream does (weak: they may be gone at exit).
  std::weak_ptr<std::unordered_map<std::string, std::size_t>> counts = streams_;
  return std::shared_ptr<void>(nullptr, [counts, name = identity.name](void*) {
    if (auto map = counts.lock()) {
      auto it = map->find(name);
      if (it != map->end() && --it->second == 0) map->erase(it);
    }
  });
}

HttpResponse unauthenticated_response() {
  HttpResponse response = error_response(
      401, "unauthenticated", "this server needs an API key: send it as X-API-Key or Authorization: Bearer");
  add_challenge(response, "");
  return response;
}

HttpResponse missing_scope_response(Scope needed) {
  HttpResponse response = error_response(403, "insufficient_scope",
                                         "this API key lacks the scope " + std::string(scope_name(needed)) +
                                             " that this route needs");
  std::string value = "Bearer realm=\"nox\", error=\"insufficient_scope\", scope=\"" +
                      std::string(scope_name(needed)) + "\"";
  response.headers.emplace_back("WWW-Authenticate", std::move(value));
  return response;
}

}  // namespace nox
