#include "core/smiles_syntax.hpp"

#include <cctype>
#include <map>
#include <vector>

namespace nox {

std::optional<std::string> smiles_syntax_error(std::string_view smiles) {
  auto at = [](std::size_t i) { return " at position " + std::to_string(i + 1); };
  if (smiles.empty()) return "is empty";
  std::vector<std::size_t> branches;               // positions of open '('
  std::map<int, std::size_t> open_rings;           // ring-bond number -> where it was opened
  for (std::size_t i = 0; i < smiles.size(); ++i) {
    const char c = smiles[i];
    if (c == ' ' || c == '\t') {
      // A SMILES ends at the first blank; the rest is a title. A line break is not allowed.
      break;
    }
    if (c == '\n' || c == '\r') return "holds a line break" + at(i) + "; give one molecule per string";
    if (c == '[') {
      const std::size_t close = smiles.find(']', i + 1);
      const std::size_t next_open = smiles.find('[', i + 1);
      if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close)) {
        return "bracket atom opened" + at(i) + " is never closed with ']'";
      }
      i = close;
    } else if (c == ']') {
      return "']'" + at(i) + " closes no bracket atom";
    } else if (c == '(') {
      branches.push_back(i);
    } else if (c == ')') {
      if (branches.empty()) return "')'" + at(i) + " closes no branch";
      branches.pop_back();
    } else if ((c >= '0' && c <= '9') || c == '%') {
      int number = c - '0';
      std::size_t start = i;
      if (c == '%') {
        if (i + 2 >= smiles.size() || !std::isdigit(static_cast<unsigned char>(smiles[i + 1])) ||
            !std::isdigit(static_cast<unsigned char>(smiles[i + 2]))) {
          return "'%'" + at(i) + " must be followed by a two-digit ring-bond number";
        }
        number = (smiles[i + 1] - '0') * 10 + (smiles[i + 2] - '0');
        i += 2;
      }
      if (auto it = open_rings.find(number); it != open_rings.end()) {
        open_rings.erase(it);
      } else {
        open_rings.emplace(number, start);
      }
    }
  }
  if (!branches.empty()) return "branch opened" + at(branches.back()) + " is never closed with ')'";
  if (!open_rings.empty()) {
    // The earliest unclosed ring is the one a reader looks for first.
    std::pair<int, std::size_t> first{0, smiles.size()};
    for (const auto& [number, position] : open_rings) {
      if (position < first.second) first = {number, position};
    }
    return "ring bond " + std::to_string(first.first) + " opened" + at(first.second) + " is never closed";
  }
  return std::nullopt;
}

}  // namespace nox
