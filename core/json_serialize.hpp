#pragma once
// JSON text as Nox writes it everywhere (responses, events, stored records): Boost.JSON's
// text, except that each floating-point number is in its shortest plain form. Boost.JSON 1.81
// writes every double with an exponent ("wall_time_s":2.5E0, 0E0, -5.0705E0), which is valid
// JSON but reads as a glitch; here it is 2.5, 0.0, -5.0705 (1e-05 or 1.5e+300 where an
// exponent is shorter, or where the digits would be too many for Boost.JSON's parser to read
// back exactly). A double keeps a '.' or an exponent, so a reader that tells integers from
// doubles (Boost.JSON does) reads back the type it was written with.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>

namespace nox {

std::string serialize_json(const boost::json::value& value);
std::string serialize_json(const boost::json::object& object);
std::string serialize_json(const boost::json::array& array);

// The same rewrite on a text Boost.JSON serialized (for one serialized in pieces).
std::string with_plain_doubles(std::string text);

}  // namespace nox
