#include "storage/redis/redis_protocol.hpp"

#include "core/percent.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <new>
#include <stdexcept>

namespace nox::redis {

namespace {

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.value = std::string(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.value = ReplyStatus{std::string(r->str, r->len)};
      break;
    case REDIS_REPLY_ERROR:
      out.value = ReplyError{std::string(r->str, r->len)};
      break;
    case REDIS_REPLY_INTEGER:
      out.value = static_cast<std::int64_t>(r->integer);
      break;
    case REDIS_REPLY_ARRAY: {
      ReplyArray elements;
      elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) elements.push_back(convert(r->element[i]));
      out.value = std::move(elements);
      break;
    }
    default:  // REDIS_REPLY_NIL
      out.value = ReplyNil{};
      break;
  }
  return out;
}

bool parse_int(std::string_view text, int& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}


// Passwords may hold '@', ':' or '/', which a URL can only carry percent-encoded
// (core/percent.hpp: a bad escape is an error).
// "?db=3&password=x" on unix URLs.
std::optional<UrlError> apply_query(std::string_view query, Url& url) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      return UrlError{"query parameter without a value: " + std::string(pair)};
    const std::string_view name = pair.substr(0, eq);
    auto value = percent_decode(pair.substr(eq + 1));
    if (!value) return UrlError{"bad percent-encoding in " + std::string(name)};
    if (name == "db") {
      if (!parse_int(*value, url.db) || url.db < 0) return UrlError{"db must be a non-negative number"};
    } else if (name == "password") {
      url.password = *value;
    } else if (name == "user") {
      url.user = *value;
    } else {
      return UrlError{"unknown query parameter " + std::string(name)};
    }
  }
  return std::nullopt;
}

}  // namespace

const std::string* Reply::text() const {
  if (auto* s = std::get_if<std::string>(&value)) return s;
  if (auto* s = std::get_if<ReplyStatus>(&value)) return &s->text;
  return nullptr;
}

std::optional<std::int64_t> Reply::integer() const {
  if (auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (auto* s = std::get_if<std::string>(&value)) {
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc{} && ptr == s->data() + s->size()) return out;
  }
  return std::nullopt;
}

const std::string* Reply::error() const {
  if (auto* e = std::get_if<ReplyError>(&value)) return &e->message;
  return nullptr;
}

std::string Reply::describe() const {
  struct Visitor {
    std::string operator()(const ReplyNil&) const { return "(nil)"; }
    std::string operator()(std::int64_t i) const { return "(integer) " + std::to_string(i); }
    std::string operator()(const std::string& s) const {
      return s.size() > 200 ? '"' + s.substr(0, 200) + "\"..." : '"' + s + '"';
    }
    std::string operator()(const ReplyStatus& s) const { return s.text; }
    std::string operator()(const ReplyError& e) const { return "(error) " + e.message; }
    std::string operator()(const ReplyArray& a) const {
      std::string out = "[";
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ", ";
        out += a[i].describe();
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

const std::string& Command::payload() const {
  static const std::string empty;
  return payload_ ? *payload_ : empty;
}

Command& Command::push_argv(std::size_t argc, const char** argv, const std::size_t* lengths) {
  char* encoded = nullptr;
  const int length = redisFormatCommandArgv(&encoded, static_cast<int>(argc), argv, lengths);
  if (length < 0 || !encoded) throw std::bad_alloc();
  // Copy-on-write: a payload already handed to a connection (or another Command) must not
  // change under it; one nobody else holds grows in place.
  if (!payload_ || payload_.use_count() > 1) payload_ = std::make_shared<std::string>(payload());
  payload_->append(encoded, static_cast<std::size_t>(length));
  redisFreeCommand(encoded);
  ++count_;
  return *this;
}

Command& Command::push(std::initializer_list<std::string_view> args) {
  return push(std::vector<std::string_view>(args));
}

Command& Command::push(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return push_argv(args.size(), argv.data(), lengths.data());
}

Command& Command::push(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return push(views);
}

ReplyDecoder::ReplyDecoder() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

ReplyDecoder::~ReplyDecoder() { redisReaderFree(reader_); }

void ReplyDecoder::feed(const char* data, std::size_t size) {
  if (failed()) return;
  if (redisReaderFeed(reader_, data, size) != REDIS_OK)
    error_ = reader_->errstr[0] ? reader_->errstr : "reader feed failed";
}

std::optional<Reply> ReplyDecoder::next() {
  if (failed()) return std::nullopt;
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    error_ = reader_->errstr[0] ? reader_->errstr : "protocol error";
    return std::nullopt;
  }
  if (!raw) return std::nullopt;
  Reply reply = convert(static_cast<const redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

std::variant<Url, UrlError> parse_url(std::string_view text) {
  Url url;
  auto starts = [&](std::string_view p) { return text.substr(0, p.size()) == p; };
  if (starts("unix://") || starts("redis+unix://")) {
    text.remove_prefix(starts("unix://") ? 7 : 13);
    url.unix_socket = true;
    const std::size_t q = text.find('?');
    url.path = std::string(text.substr(0, q));
    if (url.path.empty() || url.path.front() != '/')
      return UrlError{"a unix socket URL needs an absolute path"};
    if (q != std::string_view::npos)
      if (auto error = apply_query(text.substr(q + 1), url)) return *error;
    return url;
  }
  if (starts("rediss://")) return UrlError{"TLS (rediss://) is not supported"};
  if (!starts("redis://")) return UrlError{"the URL must start with redis:// or unix://"};
  text.remove_prefix(8);

  const std::size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);

  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password =
        percent_decode(colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
    if (!user || !password) return UrlError{"bad percent-encoding in the credentials"};
    // redis://secret@host is the password alone (the form redis-cli accepts).
    if (colon == std::string_view::npos) {
      url.password = *user;
    } else {
      url.user = *user;
      url.password = *password;
    }
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:6380
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError{"unterminated [ in the host"};
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError{"unexpected text after ]"};
      port = after.substr(1);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return UrlError{"the URL has no host"};
  url.host = std::string(host);
  if (!port.empty()) {
    int p = 0;
    if (!parse_int(port, p) || p <= 0 || p > 65535) return UrlError{"bad port " + std::string(port)};
    url.port = static_cast<std::uint16_t>(p);
  }

  const std::size_t q = rest.find('?');
  const std::string_view db = rest.substr(0, q);
  if (!db.empty() && (!parse_int(db, url.db) || url.db < 0))
    return UrlError{"bad database number " + std::string(db)};
  if (q != std::string_view::npos)
    if (auto error = apply_query(rest.substr(q + 1), url)) return *error;
  return url;
}

std::string redacted(const Url& url) {
  std::string out;
  if (url.unix_socket) {
    out = "unix://" + url.path;
    if (url.db) out += "?db=" + std::to_string(url.db);
    return out;
  }
  out = "redis://";
  if (!url.user.empty() || !url.password.empty())
    out += url.user + (url.password.empty() ? "" : ":***") + "@";
  const bool v6 = url.host.find(':') != std::string::npos;
  out += (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  if (url.db) out += "/" + std::to_string(url.db);
  return out;
}

}  // namespace nox::redis
