#pragma once
// Reading a stored JSON record (a spec, an error, a result): the string member `key`, or "" when
// it is absent or not a string. One helper for the many places that only want the text; and
// lists of names (tags, queues, engines) to and from JSON arrays.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nox {

inline std::string text_of(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The same for a value that may not be an object at all (then "").
inline std::string text_of(const boost::json::value& v, std::string_view key) {
  const boost::json::object* o = v.if_object();
  return o ? text_of(*o, key) : std::string();
}

// The number member `key`, or nothing when it is absent or not a number.
inline std::optional<double> number_of(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_number() ? std::optional<double>(v->to_number<double>()) : std::nullopt;
}

// Names as a JSON array of strings, and back (members that are not strings are skipped).
template <typename Names>
boost::json::array names_json(const Names& names) {
  boost::json::array out;
  out.reserve(names.size());
  for (std::string_view name : names) out.emplace_back(name);
  return out;
}

inline std::vector<std::string> names_of(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const boost::json::value* list = o.if_contains(key); list && list->is_array())
    for (const boost::json::value& name : list->get_array())
      if (name.is_string()) out.emplace_back(name.get_string());
  return out;
}

}  // namespace nox
