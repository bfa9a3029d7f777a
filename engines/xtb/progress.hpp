#pragma once
// Live progress of an xtb geometry optimization, read from stdout as it is written.
#include <optional>

#include "engines/engine.hpp"

namespace nox::xtb {

// Each optimization cycle prints a "CYCLE N" banner, then "* total energy  :  E Eh" and
// "gradient norm :  G Eh/α"; the gradient-norm line completes a step:
// {"cycle": N, "energy_eh": E, "gradient_norm": G} (Eh/bohr).
class XtbProgressParser final : public ProgressParser {
 public:
  std::optional<boost::json::object> feed(std::string_view line) override;

 private:
  int cycle_ = 0;
  std::optional<double> energy_;
};

}  // namespace nox::xtb
