#include "core/api_keys.hpp"

#include <boost/json/parse.hpp>
#include "core/json_serialize.hpp"
#include "core/random.hpp"
#include "core/sha256.hpp"

namespace nox {

namespace json = boost::json;

bool is_valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_api_key() { return "nox_" + secure_random_base64url(32); }

namespace {

bool is_hex_digest(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A limit field: absent is 0 (none); present, a number >= 0.
bool read_limit(const json::object& o, std::string_view name, double& out) {
  const json::value* v = o.if_contains(name);
  if (!v) return true;
  if (!v->is_number()) return false;
  out = v->to_number<double>();
  return out >= 0;
}

std::optional<std::string> record_from(const json::object& o, ApiKeyRecord& r) {
  const json::value* name = o.if_contains("name");
  if (!name || !name->is_string() || !is_valid_key_name(name->get_string()))
    return "\"name\" must be 1-64 of A-Z a-z 0-9 . _ @ -";
  r.name = std::string(name->get_string());
  const json::value* scopes = o.if_contains("scopes");
  std::string why;
  if (!scopes || !scopes->is_string()) return "\"scopes\" must be a text like \"compute:read,compute:write\"";
  auto parsed = parse_scopes(scopes->get_string(), &why);
  if (!parsed) return "\"scopes\": " + why;
  r.scopes = *parsed;
  const json::value* hash = o.if_contains("sha256");
  if (!hash || !hash->is_string() || !is_hex_digest(hash->get_string()))
    return "\"sha256\" must be 64 lowercase hex digits";
  r.sha256 = std::string(hash->get_string());
  double streams = 0, queued = 0;
  if (!read_limit(o, "requests_per_s", r.limits.requests_per_s) ||
      !read_limit(o, "submissions_per_s", r.limits.submissions_per_s) ||
      !read_limit(o, "max_streams", streams) || !read_limit(o, "max_queued", queued))
    return "limits (requests_per_s, submissions_per_s, max_streams, max_queued) must be numbers >= 0";
  r.limits.max_streams = static_cast<std::uint64_t>(streams);
  r.limits.max_queued = static_cast<std::uint64_t>(queued);
  if (const json::value* created = o.if_contains("created_at"); created && created->is_number())
    r.created_at = created->to_number<TimeMs>();
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<ApiKeyRecord>, std::string> parse_keys_file(std::string_view text) {
  std::vector<ApiKeyRecord> records;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return where + "not a JSON object";
    ApiKeyRecord record;
    if (auto error = record_from(v.get_object(), record)) return where + *error;
    for (const auto& other : records)
      if (other.name == record.name) return where + "a second key named " + record.name;
    records.push_back(std::move(record));
  }
  return records;
}

std::string key_record_line(const ApiKeyRecord& r) {
  json::object o{{"name", r.name}, {"scopes", scopes_text(r.scopes)}, {"sha256", r.sha256},
                 {"created_at", r.created_at}};
  if (r.limits.requests_per_s > 0) o["requests_per_s"] = r.limits.requests_per_s;
  if (r.limits.submissions_per_s > 0) o["submissions_per_s"] = r.limits.submissions_per_s;
  if (r.limits.max_streams > 0) o["max_streams"] = r.limits.max_streams;
  if (r.limits.max_queued > 0) o["max_queued"] = r.limits.max_queued;
  return serialize_json(o);
}

bool KeyRing::KeyEqual::operator()(std::string_view a, std::string_view b) const {
  return equal_in_constant_time(a, b);
}

const ApiKeyRecord* KeyRing::find(std::string_view presented_key) const {
  if (presented_key.empty()) return nullptr;
  if (auto seen = remembered_.find(presented_key); seen != remembered_.end()) return &records_[seen->second];
  const std::string digest = sha256_hex(presented_key);
  const ApiKeyRecord* found = nullptr;
  for (const auto& record : records_)
    if (equal_in_constant_time(record.sha256, digest)) found = &record;
  if (found) {
    if (remembered_.size() >= max_remembered) remembered_.clear();
    remembered_.emplace(std::string(presented_key), static_cast<std::size_t>(found - records_.data()));
  }
  return found;
}

}  // namespace nox
