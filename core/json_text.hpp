#pragma once
// Reading a stored JSON record (a spec, an error, a result): the string member `key`, or "" when
// it is absent or not a string. One helper for the many places that only want the text.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

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

}  // namespace nox
