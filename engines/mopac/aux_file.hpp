#pragma once
// MOPAC's .aux file ("AUX(PRECISION=9)"): KEY[:UNITS][[COUNT]]=values, the values on the same
// line and/or the lines after it, numbers with Fortran exponents (-0.57D+02). A file holds one
// section per job in the input ("START OF MOPAC FILE").
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nox::mopac {

struct AuxEntry {
  std::string name;                 // e.g. "HEAT_OF_FORMATION"
  std::string units;                // e.g. "KCAL/MOL"; "" when none
  std::vector<std::string> values;  // tokens; a quoted string is one value without its quotes
};

class AuxSection {
 public:
  std::vector<AuxEntry> entries;  // in file order; a key may repeat (HEAT_OF_FORM_UPDATED)

  // The last entry named `name`, or nullptr.
  const AuxEntry* last(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  std::optional<double> number(std::string_view name) const;  // the last entry's first value
  std::optional<std::vector<double>> numbers(std::string_view name) const;  // all of the last entry's
  std::optional<std::string> text(std::string_view name) const;  // the last entry's values joined by ' '
};

// Every section of the file, in order; empty for text that holds none.
std::vector<AuxSection> parse_aux(std::string_view text);

}  // namespace nox::mopac
