#pragma once
// JobSpec -> MOPAC input file (mol.mop) and command line. Pure: writes nothing.
#include <filesystem>
#include <string>

#include "core/field_error.hpp"
#include "core/job_spec.hpp"
#include "engines/engine.hpp"

namespace nox::mopac {

// MOPAC names its outputs after the input: mol.out, mol.arc, mol.aux.
inline constexpr const char* input_file = "mol.mop";
inline constexpr const char* out_file = "mol.out";
inline constexpr const char* arc_file = "mol.arc";
inline constexpr const char* aux_file = "mol.aux";
// Where the runner saves MOPAC's stdout (one line saying it ended; kept for a crash's sake).
inline constexpr const char* log_file = "mopac.log";
// MOPAC's THERMO takes whole kelvins: 298.15 becomes 298 (the default; keyword
// thermo_temperature, rounded).
inline constexpr int thermo_temperature_k = 298;

// What MOPAC cannot run although parse_job_spec accepts it (which already checks the
// charge/multiplicity parity MOPAC would "correct" silently): more than 8 unpaired electrons, for
// which MOPAC has no keyword. Empty when fine.
FieldErrors validate_mopac_spec(const JobSpec& spec);

// The whole mol.mop for a spec validate_mopac_spec accepts (throws std::invalid_argument
// otherwise). optimize_hessian is two jobs in one file: the optimization, then FORCE on its
// geometry (OLDGEO).
std::string mopac_input(const JobSpec& spec);
PreparedCommand mopac_command(const std::filesystem::path& mopac_path);

}  // namespace nox::mopac
