#pragma once
// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (READY=1, WATCHDOG=1, ...).
#include <chrono>
#include <optional>
#include <string_view>

namespace nox {

// False when not run by systemd (no NOTIFY_SOCKET) or the send failed.
bool systemd_notify(std::string_view state);
// How often to send WATCHDOG=1 (half of WATCHDOG_USEC), when systemd asks for it.
std::optional<std::chrono::milliseconds> systemd_watchdog_interval();

}  // namespace nox
