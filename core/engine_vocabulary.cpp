#include "core/engine_vocabulary.hpp"

#include <algorithm>
#include <array>

namespace nox {
namespace {

constexpr std::array<std::string_view, 5> kTasks = {"energy", "gradient", "optimize", "hessian",
                                                    "optimize_hessian"};

// ---- xtb 6.5.1 (Debian's build) ----
constexpr std::array<std::string_view, 4> kXtbMethods = {"gfn2", "gfn1", "gfn0", "gfnff"};
constexpr std::array<std::string_view, 7> kXtbKeywords = {"opt_level",          "accuracy",       "electronic_temperature",
                                                          "max_iterations",     "max_opt_cycles", "thermo_temperature",
                                                          "ensure_minimum"};
constexpr std::array<std::string_view, 4> kXtbOutputs = {"molden", "density_cube", "spin_density_cube", "wbo"};

// Solvents as xtb 6.5.1 accepts them, tried one by one with each method: every name below ran,
// and every name missing for a method stopped xtb with an error. gfn0 has no implicit solvation.
// xtb's --help spells "hexandecane", but only "hexadecane" works.
constexpr std::array<NamedSolvent, 24> kAlpbSolvents = {{{"acetone"},      {"acetonitrile"}, {"aniline"},
                                                         {"benzaldehyde"}, {"benzene"},      {"ch2cl2"},
                                                         {"chcl3"},        {"cs2"},          {"dioxane"},
                                                         {"dmf"},          {"dmso"},         {"ether"},
                                                         {"ethylacetate"}, {"furane"},       {"hexadecane"},
                                                         {"hexane"},       {"methanol"},     {"nitromethane"},
                                                         {"octanol"},      {"woctanol"},     {"phenol"},
                                                         {"toluene"},      {"thf"},          {"water"}}};
constexpr std::array<NamedSolvent, 14> kGbsaSolventsGfn2 = {{{"acetone"},
                                                             {"acetonitrile"},
                                                             {"benzene"},
                                                             {"ch2cl2"},
                                                             {"chcl3"},
                                                             {"cs2"},
                                                             {"dmf"},
                                                             {"dmso"},
                                                             {"ether"},
                                                             {"hexane"},
                                                             {"methanol"},
                                                             {"thf"},
                                                             {"toluene"},
                                                             {"water"}}};
// GFN1 lacks dmf and hexane; GFN-FF takes the GFN2 set.
constexpr std::array<NamedSolvent, 12> kGbsaSolventsGfn1 = {{{"acetone"},
                                                             {"acetonitrile"},
                                                             {"benzene"},
                                                             {"ch2cl2"},
                                                             {"chcl3"},
                                                             {"cs2"},
                                                             {"dmso"},
                                                             {"ether"},
                                                             {"methanol"},
                                                             {"thf"},
                                                             {"toluene"},
                                                             {"water"}}};
constexpr std::array<SolventModel, 2> kXtbSolventModels = {{{"alpb", kAlpbSolvents, false},
                                                            {"gbsa", kGbsaSolventsGfn2, false}}};

// ---- MOPAC 22 (Debian's build) ----
constexpr std::array<std::string_view, 5> kMopacMethods = {"pm7", "pm6", "pm6-d3h4", "am1", "rm1"};
constexpr std::array<std::string_view, 2> kMopacKeywords = {"max_opt_cycles", "thermo_temperature"};
// COSMO takes a dielectric constant. The names are xtb's where both know the solvent; the
// constants (25 °C) are those of the Minnesota Solvent Descriptor Database, the table most
// quantum-chemistry programs' solvent keywords use.
constexpr std::array<NamedSolvent, 23> kCosmoSolvents = {{{"acetone", 20.493},
                                                          {"acetonitrile", 35.688},
                                                          {"aniline", 6.8882},
                                                          {"benzene", 2.2706},
                                                          {"ch2cl2", 8.93},
                                                          {"chcl3", 4.7113},
                                                          {"cs2", 2.6105},
                                                          {"cyclohexane", 2.0165},
                                                          {"dioxane", 2.2099},
                                                          {"dmf", 37.219},
                                                          {"dmso", 46.826},
                                                          {"ethanol", 24.852},
                                                          {"ether", 4.24},
                                                          {"ethylacetate", 5.9867},
                                                          {"heptane", 1.9113},
                                                          {"hexane", 1.8819},
                                                          {"methanol", 32.613},
                                                          {"nitromethane", 36.562},
                                                          {"octanol", 9.8629},
                                                          {"pyridine", 12.978},
                                                          {"thf", 7.4257},
                                                          {"toluene", 2.3741},
                                                          {"water", 78.3553}}};
constexpr std::array<SolventModel, 1> kMopacSolventModels = {{{"cosmo", kCosmoSolvents, true}}};

constexpr std::array<EngineVocabulary, 3> kEngines = {{
    {"xtb", "gfn2", kXtbMethods, kTasks, kXtbSolventModels, kXtbKeywords, kXtbOutputs},
    {"mopac", "pm7", kMopacMethods, kTasks, kMopacSolventModels, kMopacKeywords, {}},
    // The built-in test engine takes what xtb takes, so a spec tried with echo runs with xtb.
    {"echo", "gfn2", kXtbMethods, kTasks, kXtbSolventModels, kXtbKeywords, kXtbOutputs},
}};

}  // namespace

std::span<const EngineVocabulary> engine_vocabularies() { return kEngines; }

const EngineVocabulary* engine_vocabulary(std::string_view engine) {
  for (const EngineVocabulary& v : kEngines) {
    if (v.engine == engine) return &v;
  }
  return nullptr;
}

std::span<const NamedSolvent> solvents_for(const SolventModel& model, std::string_view method) {
  if (method == "gfn0") return {};
  if (model.name == "gbsa" && method == "gfn1") return kGbsaSolventsGfn1;
  return model.solvents;
}

const NamedSolvent* find_solvent(std::span<const NamedSolvent> list, std::string_view name) {
  auto it = std::find_if(list.begin(), list.end(), [&](const NamedSolvent& s) { return s.name == name; });
  return it == list.end() ? nullptr : &*it;
}

}  // namespace nox
