// Optimization progress from xtb 6.5.1 stdout (format in tests/fixtures/xtb/water_optimize_gfn2/xtb.log).
#include "engines/xtb/progress.hpp"

#include <charconv>
#include <cmath>

namespace nox::xtb {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '.')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '.'))
    s.remove_suffix(1);
  return s;
}

// The number right after `label` and a colon, e.g. "* total energy  :    -5.0703759 Eh".
std::optional<double> number_after(std::string_view line, std::string_view label) {
  auto at = line.find(label);
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = line.substr(at + label.size());
  auto colon = rest.find_first_not_of(' ');
  if (colon == std::string_view::npos || rest[colon] != ':') return std::nullopt;
  rest.remove_prefix(colon + 1);
  auto start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(start);
  double value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<boost::json::object> XtbProgressParser::feed(std::string_view line) {
  // Banner: "............ CYCLE    3 ............"
  auto banner = trim(line);
  if (banner.starts_with("CYCLE ")) {
    int n = 0;
    auto digits = trim(banner.substr(6));
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      cycle_ = n;
      energy_.reset();
    }
    return std::nullopt;
  }
  if (cycle_ == 0) return std::nullopt;
  // "* total energy" (with the star) is the cycle's line; ":: total energy" is a summary box.
  if (line.find("* total energy") != std::string_view::npos) {
    energy_ = number_after(line, "* total energy");
    return std::nullopt;
  }
  if (!energy_) return std::nullopt;
  auto gnorm = number_after(line, "gradient norm");
  if (!gnorm || line.find("::") != std::string_view::npos) return std::nullopt;
  boost::json::object step{{"cycle", cycle_}, {"energy_eh", *energy_}, {"gradient_norm", *gnorm}};
  energy_.reset();
  return step;
}

}  // namespace nox::xtb
