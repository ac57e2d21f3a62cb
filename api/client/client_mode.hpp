// Which way a cpg_initialize() reaches the ring (docs/api.md, "Embedded
// and client mode"): as a ring member itself (embedded), or through the
// node's ringcastd over its unix socket (daemon, the default).
// RINGCAST_MODE=daemon|embedded in the environment wins over the cluster
// file's system.mode; a thread with a Node::Override (the simulated
// clusters of the tests) is always embedded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ringcast/ringcast.hpp"

namespace ringcast::client {

inline constexpr const char* kModeEnv = "RINGCAST_MODE";

// The daemon a client-mode handle connects to.
struct DaemonAddress {
  std::string socket_path;  // <system.run_dir>/ringcastd-<nodeid>.sock
  std::uint32_t node = 0;
  std::string config_file;  // for the line that says how to start it
  // totem.handle_unreleased_max_bytes + handle_spill_max_bytes: the
  // undispatched deliveries a handle's library holds before its sends get
  // CS_ERR_TRY_AGAIN (0: no bound).
  std::uint64_t undispatched_max_bytes = 0;
  // totem.handle_unreleased_max_bytes: the references to the daemon's log
  // a send that meets CS_ERR_TRY_AGAIN copies out (spills) once they reach
  // it, or half the mapped log (0: half the mapped log).
  std::uint64_t spill_from_bytes = 0;
};

// nullopt: embedded. An unknown RINGCAST_MODE or a cluster file that cannot
// be read is CS_ERR_LIBRARY, logged.
cpg::Result<std::optional<DaemonAddress>> choose_mode();

std::string daemon_socket_path(const std::string& run_dir, std::uint32_t node);

}  // namespace ringcast::client
