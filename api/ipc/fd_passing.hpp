// Descriptors over a unix socket (SCM_RIGHTS): the daemon hands a client its
// rings, doorbells, zcb segment and the read-only receive log this way, with
// a few bytes of message alongside (which descriptor is which).
//
// Received descriptors arrive close-on-exec. Anything unexpected (more
// descriptors than asked for, a cut control message, a peer that closed)
// is an error, and every descriptor that did arrive is closed.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace ringcast::ipc {

// At most this many descriptors per message (SCM_MAX_FD is 253).
inline constexpr std::size_t kMaxPassedFds = 16;

// Sends data (at least one byte: a message of descriptors alone is not
// delivered) with the descriptors. Retries on EINTR; a short send is an error.
Status send_fds(int socket_fd, std::span<const std::byte> data, std::span<const int> fds);

struct ReceivedFds {
  std::size_t bytes = 0;      // of data received
  std::vector<UniqueFd> fds;  // in the order they were sent
};

// Receives one message into data with at most max_fds descriptors (<=
// kMaxPassedFds). Errc::closed when the peer closed the socket.
Result<ReceivedFds> receive_fds(int socket_fd, std::span<std::byte> data, std::size_t max_fds);

}  // namespace ringcast::ipc
