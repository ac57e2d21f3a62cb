#include "ipc/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ringcast::ipc {
namespace {

// Control buffer for kMaxPassedFds descriptors, aligned as cmsghdr wants.
union ControlBuffer {
  char bytes[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  cmsghdr align;
};

// Takes ownership of every descriptor in the message's control data.
std::vector<UniqueFd> take_fds(msghdr& msg, bool& foreign) {
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      foreign = true;
      continue;
    }
    const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  return fds;
}

}  // namespace

Status send_fds(int socket_fd, std::span<const std::byte> data, std::span<const int> fds) {
  if (data.empty() || fds.size() > kMaxPassedFds)
    return make_error(Errc::invalid_argument, "send_fds",
                      std::to_string(data.size()) + " bytes with " + std::to_string(fds.size()) +
                          " descriptors (needs 1 byte or more, at most " +
                          std::to_string(kMaxPassedFds) + " descriptors)");
  iovec iov{const_cast<std::byte*>(data.data()), data.size()};
  ControlBuffer control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return system_error("sendmsg", errno, "passing descriptors");
  if (static_cast<std::size_t>(sent) != data.size())
    return make_error(Errc::system, "sendmsg", "short send while passing descriptors");
  return {};
}

Result<ReceivedFds> receive_fds(int socket_fd, std::span<std::byte> data, std::size_t max_fds) {
  if (data.empty() || max_fds > kMaxPassedFds)
    return make_error(Errc::invalid_argument, "receive_fds", "empty buffer or too many fds");
  iovec iov{data.data(), data.size()};
  ControlBuffer control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t got;
  do {
    got = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return system_error("recvmsg", errno, "receiving descriptors");
  bool foreign = false;
  ReceivedFds out{static_cast<std::size_t>(got), take_fds(msg, foreign)};
  if (got == 0) return make_error(Errc::closed, "recvmsg", "the peer closed the socket");
  if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 || foreign)
    return make_error(Errc::protocol, "recvmsg", "message or its control data was cut");
  if (out.fds.size() > max_fds)
    return make_error(Errc::protocol, "recvmsg",
                      std::to_string(out.fds.size()) + " descriptors, at most " +
                          std::to_string(max_fds) + " expected");
  return out;
}

}  // namespace ringcast::ipc
