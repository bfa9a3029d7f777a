#pragma once
// One reason a request was refused, tied to the field (JSON pointer-ish path) it concerns.
#include <string>
#include <vector>

namespace nox {

struct FieldError {
  std::string field;    // e.g. "molecule.xyz", "solvent.name", "charge"
  std::string message;  // a sentence a person understands
};

using FieldErrors = std::vector<FieldError>;

}  // namespace nox
