// How ringcastd serves its clients (client_server.hpp): where it listens,
// who may connect, and what one client may hold.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ipc/channel.hpp"
#include "ipc/peer_credentials.hpp"
#include "ipc/quota.hpp"

namespace ringcast::daemon {

struct ServerOptions {
  // <system.run_dir>/ringcastd-<nodeid>.sock (client_socket_path).
  std::string socket_path;
  // Besides root: the cluster file's uidgid entries; the daemon's own user
  // is added when allow_own_user.
  ipc::AccessPolicy access;
  bool allow_own_user = true;
  // Frames of 256 KiB: an iteration reply of 1,024 entries fits one.
  ipc::ChannelSizes sizes{256 << 10, 1 << 20, 1 << 20, 0};
  ipc::ClientQuota quota;
  // A client that connects and sends no hello within this is dropped.
  std::chrono::milliseconds hello_timeout{2000};
  // Clients at once (each has a thread); more are refused with
  // CS_ERR_NO_RESOURCES.
  std::size_t max_clients = 256;
  // The connection's busy-poll window after its last activity
  // (runtime::SpinPolicy), short and fixed: long enough for a client's next
  // request in a send loop (its reply read, the next mcast pushed: a few
  // microseconds) to find the thread awake, so a busy client rings no
  // doorbell; short because the thread spins beside the node's progress
  // thread and the client itself, and on a host of two cores a connection
  // spinning through the gaps of a stream of deliveries (a window grown to
  // a millisecond) takes the core the ring and the client need next, and
  // every message then waits for a scheduler slice.
  std::uint64_t spin_ns = 20'000;
  std::uint64_t max_spin_ns = 20'000;
};

// <run_dir>/ringcastd-<node>.sock
std::string client_socket_path(const std::string& run_dir, std::uint32_t node);

}  // namespace ringcast::daemon
