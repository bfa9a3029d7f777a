#pragma once
// The shape of a SMILES string, checked before any chemistry: balanced branches and brackets,
// ring bonds that close. Open Babel reads "CC(=O" as if the branch were closed and says only
// "1 unmatched ring bonds" for "C1CC"; a chemist wants to know where.
#include <optional>
#include <string>
#include <string_view>

namespace nox {

// nullopt when the structure of `smiles` is sound; otherwise what is wrong and where, with
// 1-based character positions ("ring bond 1 opened at position 2 is never closed").
std::optional<std::string> smiles_syntax_error(std::string_view smiles);

}  // namespace nox
