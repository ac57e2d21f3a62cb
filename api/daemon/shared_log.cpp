#include "daemon/shared_log.hpp"

#include <string>

namespace ringcast::daemon {

void SharedLog::share_with(ServerOptions& o, std::uint32_t copy_below) const noexcept {
  o.log_fd = read_only.get();
  o.log = memory();
  o.deliver_copy_below_bytes = copy_below;
}

Result<SharedLog> create_shared_log(std::uint32_t node, std::size_t bytes) {
  if (bytes == 0 || ipc::page_rounded(bytes) != bytes)
    return make_error(Errc::invalid_argument, "create_shared_log",
                      "a log of " + std::to_string(bytes) + " bytes is no whole number of pages");
  SharedLog log;
  auto segment = ipc::create_sealed_segment("ringcastd-" + std::to_string(node) + "-log", bytes,
                                            ipc::PeerAccess::read_only);
  RC_TRY(segment);
  log.segment = std::move(*segment);
  auto fd = ipc::read_only_descriptor(log.segment);
  RC_TRY(fd);
  log.read_only = std::move(*fd);
  return log;
}

}  // namespace ringcast::daemon
