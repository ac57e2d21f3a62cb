// The node's receive log as ringcastd keeps it: a memfd it creates, maps,
// seals and registers with the NIC (runtime::MemberNodeOptions::log_memory),
// so that each client maps it read-only and reads its deliveries where the
// ring wrote them (docs/architecture.md, "Serving clients"). Sealed against
// shrinking, growing and writable mappings by anyone but the daemon's own,
// and handed out through a descriptor opened O_RDONLY.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "daemon/server_options.hpp"
#include "ipc/shared_segment.hpp"

namespace ringcast::daemon {

struct SharedLog {
  ipc::SharedSegment segment;  // the daemon's writable mapping
  UniqueFd read_only;          // what clients get

  std::span<std::byte> memory() const noexcept { return segment.mapping.bytes(); }
  // Serves it to the clients of `o` (deliveries from copy_below bytes on).
  void share_with(ServerOptions& o, std::uint32_t copy_below) const noexcept;
};

// bytes: the ring's log_bytes, a power of two of at least a page.
Result<SharedLog> create_shared_log(std::uint32_t node, std::size_t bytes);

}  // namespace ringcast::daemon
