#pragma once
// What each engine's specs may say: methods, tasks, solvents, keywords, outputs. Kept in core,
// not behind the engine registry, because an instance must validate (and GET /engines describe)
// a spec for an engine it does not run itself: an API instance without MOPAC still accepts PM7
// jobs for the workers that have it.
#include <span>
#include <string_view>

namespace nox {

struct NamedSolvent {
  std::string_view name;
  double dielectric = 0;  // relative permittivity at 25 °C; 0 where the model takes no constant
};

struct SolventModel {
  std::string_view name;                    // "alpb", "gbsa", "cosmo"
  std::span<const NamedSolvent> solvents;   // the names this model knows (per method, see below)
  bool takes_dielectric = false;            // cosmo: any constant may be given instead of a name
};

struct EngineVocabulary {
  std::string_view engine;
  std::string_view default_method;
  std::span<const std::string_view> methods;
  std::span<const std::string_view> tasks;
  std::span<const SolventModel> solvent_models;  // the first is the default model
  std::span<const std::string_view> keywords;
  std::span<const std::string_view> outputs;      // extra files on request
};

// Every engine Nox knows, in the order GET /engines lists them.
std::span<const EngineVocabulary> engine_vocabularies();
// nullptr for an engine Nox does not know.
const EngineVocabulary* engine_vocabulary(std::string_view engine);

// The solvents `model` knows for `method`: xtb's GBSA has fewer for GFN1, GFN0 has none.
std::span<const NamedSolvent> solvents_for(const SolventModel& model, std::string_view method);
const NamedSolvent* find_solvent(std::span<const NamedSolvent> list, std::string_view name);

}  // namespace nox
