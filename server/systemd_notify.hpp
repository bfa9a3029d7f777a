#pragma once
// systemd integration through libsystemd (sd-daemon): readiness, status, watchdog and
// stopping notifications, and socket activation (noxd.socket hands over the listening socket).
#include <chrono>
#include <optional>
#include <string_view>

namespace nox {

// sd_notify(3): "READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1". False when not run by
// systemd (no NOTIFY_SOCKET) or the send failed.
bool systemd_notify(std::string_view state);
// How often to send WATCHDOG=1 (half of the unit's WatchdogSec), when systemd asks for it.
std::optional<std::chrono::milliseconds> systemd_watchdog_interval();
// The listening TCP socket systemd passed (LISTEN_FDS, from noxd.socket), or nullopt when none
// was. An error text when one was passed that noxd cannot use (not a listening TCP socket, or
// more than one).
struct ActivatedSocket {
  std::optional<int> fd;
  std::optional<std::string_view> problem;
};
ActivatedSocket systemd_listening_socket();

}  // namespace nox
