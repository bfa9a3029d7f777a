#pragma once
// Names the calling thread, so that `top -H`, `ps -L` and perf tell noxd's threads apart
// (the loop is "noxd"; the others are named where they start: nox-log, nox-files, nox-engine).

namespace nox {

// At most 15 characters are kept (the kernel's limit).
void name_calling_thread(const char* name);

}  // namespace nox
