#include "server/loop_guard.hpp"

#include <stdexcept>

#include "core/log.hpp"

namespace nox {

void LoopGuard::ended(const std::string& name, std::exception_ptr error) {
  if (!error) return;  // a loop that returns has finished its work (the drain stops them)
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  log_error("the " + name + " loop stopped: " + what + "; noxd exits so that it is restarted whole");
  if (!failure_) failure_ = name + ": " + what;
  io_.stop();
}

}  // namespace nox
