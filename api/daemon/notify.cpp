#include "daemon/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.hpp"

namespace ringcast::daemon {

Status notify_to(std::string_view socket, std::string_view state) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const bool abstract = !socket.empty() && socket.front() == '@';
  const bool absolute = !socket.empty() && socket.front() == '/';
  if ((!abstract && !absolute) || socket.size() >= sizeof address.sun_path)
    return make_error(Errc::invalid_argument, "sd_notify",
                      std::string(kNotifySocketEnv) + " is no unix socket address");
  std::memcpy(address.sun_path, socket.data(), socket.size());
  if (abstract) address.sun_path[0] = '\0';
  // An abstract name has no terminating NUL: the length says where it ends.
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size() + (abstract ? 0 : 1));
  const UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return system_error("socket", errno, "for sd_notify");
  const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent != static_cast<ssize_t>(state.size()))
    return system_error("sendto", errno, std::string(kNotifySocketEnv) + " " + std::string(socket));
  return {};
}

Status notify(std::string_view state) {
  const char* socket = std::getenv(std::string(kNotifySocketEnv).c_str());
  if (socket == nullptr || socket[0] == '\0') return {};
  return notify_to(socket, state);
}

}  // namespace ringcast::daemon
