// The process's client-mode handles: cpg_handle_t -> DaemonConnection, in
// two tables, one for CPG handles (instance) and one for quorum handles
// (quorum), so that neither API takes the other's handle.
// Their values carry kDaemonHandleBit, which the embedded handles of
// HandleTable never do, so that each C call goes to its mode's table at
// once. HandleRegistry says what a lookup guarantees.
#pragma once

#include <cstdint>
#include <memory>

#include "client/daemon_connection.hpp"
#include "client/handle_registry.hpp"
#include "ringcast/cpg.h"

namespace ringcast::client {

inline constexpr cpg_handle_t kDaemonHandleBit = cpg_handle_t{1} << 31;

inline bool is_daemon_handle(cpg_handle_t handle) noexcept {
  return (handle & kDaemonHandleBit) != 0;
}

class DaemonHandles {
 public:
  static DaemonHandles& instance();
  static DaemonHandles& quorum();
  cpg_handle_t add(std::shared_ptr<DaemonConnection> connection) {
    return connections_.add(std::move(connection));
  }
  std::shared_ptr<DaemonConnection> find(cpg_handle_t handle) const {
    return connections_.find(handle);
  }
  std::shared_ptr<DaemonConnection> remove(cpg_handle_t handle) {
    return connections_.remove(handle);
  }

 private:
  DaemonHandles();
  HandleRegistry<DaemonConnection> connections_;
};

}  // namespace ringcast::client
