#include "server/systemd_notify.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <string>

namespace nox {

bool systemd_notify(std::string_view state) {
  const std::string text(state);
  return sd_notify(0, text.c_str()) > 0;
}

std::optional<std::chrono::milliseconds> systemd_watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::milliseconds(usec / 2000);
}

ActivatedSocket systemd_listening_socket() {
  // unset_environment=1: the engines noxd starts must not think the socket is theirs.
  const int count = sd_listen_fds(1);
  if (count <= 0) return {};
  if (count > 1) return {std::nullopt, "systemd passed more than one socket; noxd.socket must have one ListenStream"};
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0)
    return {std::nullopt, "the socket systemd passed is not a listening TCP socket"};
  return {fd, std::nullopt};
}

}  // namespace nox
