// How ringcastd serves its clients (client_server.hpp): where it listens,
// who may connect, and what one client may hold.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ipc/channel.hpp"
#include "ipc/peer_credentials.hpp"
#include "ipc/quota.hpp"

namespace ringcast::daemon {

inline constexpr std::uint64_t kDefaultZcbSegmentBytes = std::uint64_t{64} << 20;

struct ServerOptions {
  // <system.run_dir>/ringcastd-<nodeid>.sock (client_socket_path).
  std::string socket_path;
  // Besides root: the cluster file's uidgid entries; the daemon's own user
  // is added when allow_own_user.
  ipc::AccessPolicy access;
  bool allow_own_user = true;
  // Frames of 256 KiB: an iteration reply of 1,024 entries fits one. A zcb
  // segment of kDefaultZcbSegmentBytes per client (system.client_zcb_segment_bytes):
  // address space, memfd pages are used (and registered) only as buffers are
  // handed out.
  ipc::ChannelSizes sizes{256 << 10, 1 << 20, 1 << 20, kDefaultZcbSegmentBytes};
  ipc::ClientQuota quota;
  // A client that connects and sends no hello within this is dropped.
  std::chrono::milliseconds hello_timeout{2000};
  // Clients at once (each has a thread); more are refused with
  // CS_ERR_NO_RESOURCES.
  std::size_t max_clients = 256;
  // The connection's busy-poll window (runtime::SpinPolicy).
  std::uint64_t spin_ns = 50'000;
  std::uint64_t max_spin_ns = 1'000'000;
  // The node's receive log, passed to every client read-only (log_fd, opened
  // O_RDONLY, of the sealed memfd whose memory `log` is): a delivery of at
  // least deliver_copy_below_bytes lying whole in it goes by reference.
  // log_fd < 0: none; every delivery is copied into the event ring.
  int log_fd = -1;
  std::span<const std::byte> log;
  std::uint32_t deliver_copy_below_bytes = 256;
};

// <run_dir>/ringcastd-<node>.sock
std::string client_socket_path(const std::string& run_dir, std::uint32_t node);

}  // namespace ringcast::daemon
