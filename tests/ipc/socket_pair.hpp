// A connected SOCK_SEQPACKET pair, as the daemon's listener and a client
// would hold after accept(): the ipc tests' stand-in for the daemon socket.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "base/unique_fd.hpp"

namespace ringcast::ipc {

struct SocketPair {
  UniqueFd daemon, client;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    daemon = UniqueFd(fds[0]);
    client = UniqueFd(fds[1]);
  }
};

}  // namespace ringcast::ipc
