#pragma once
// A loopback TCP port nobody listens on right now (for test servers; never 6379 or 8080).
#include <cstdint>

namespace nox::test {

std::uint16_t free_loopback_port();

}  // namespace nox::test
