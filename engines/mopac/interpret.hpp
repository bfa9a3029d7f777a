#pragma once
// What a MOPAC 22 run left behind -> result or a failure a chemist can act on. MOPAC exits 0
// whatever happens: success is judged from its files (no ERROR in the .aux, no error box in the
// .out, the results present).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.hpp"
#include "engines/engine.hpp"

namespace nox::mopac {

// The messages of the .out's "Error and normal termination messages" box, without "JOB ENDED
// NORMALLY" (which MOPAC prints after errors too).
std::vector<std::string> termination_messages(std::string_view out);
// The total energy in eV from ENPART's "ETOT (EONE + ETWO)" line: the one number the .aux lacks.
std::optional<double> enpart_total_energy_ev(std::string_view out);

// The files MOPAC may leave that are worth keeping, in listing order.
std::vector<std::string> artifact_candidates();

// Reads what MOPAC left in `dir` (mol.out, mol.arc, mol.aux).
EngineOutput interpret_mopac_run(const JobSpec& spec, const std::filesystem::path& dir,
                                 const ProcessOutcome& outcome);

}  // namespace nox::mopac
