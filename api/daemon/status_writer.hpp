// Keeps <run_dir>/ringcastd-<node>.status (node_status.hpp) current while
// the daemon runs, and removes it when the daemon stops.
#pragma once

#include <string>
#include <vector>

#include "config/cluster_config.hpp"
#include "daemon/node_status.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::daemon {

class StatusWriter {
 public:
  StatusWriter(const config::LocalConfig& local, std::string path);
  ~StatusWriter();
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;

  // Rewrites the file when what it says changed. A failure is logged once
  // (the daemon goes on: the file serves the tools only). extra: counters
  // after the ring's (the client server's).
  void update(runtime::RingTransport& transport,
              const std::vector<std::pair<std::string, std::uint64_t>>& extra = {});

 private:
  NodeStatus status_;
  std::vector<std::uint32_t> others_;  // the file's other nodes
  std::string path_;
  std::string written_;
  bool failed_ = false;
};

}  // namespace ringcast::daemon
