// The process's client-mode handles: cpg_handle_t -> DaemonConnection, in
// two tables, one for CPG handles (instance) and one for quorum handles
// (quorum), so that neither API takes the other's handle.
// Their values carry kDaemonHandleBit, which the embedded handles of
// HandleTable never do, so that each C call goes to its mode's table at
// once. As in HandleTable, a handle is never reused and a lookup keeps its
// connection alive while the call runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "client/daemon_connection.hpp"
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
  cpg_handle_t add(std::shared_ptr<DaemonConnection> connection);
  std::shared_ptr<DaemonConnection> find(cpg_handle_t handle) const;
  std::shared_ptr<DaemonConnection> remove(cpg_handle_t handle);

 private:
  DaemonHandles();
  mutable std::mutex mutex_;
  std::uint64_t next_;
  // Handles removed so far: a thread's cached lookup is valid while this
  // has not moved.
  std::atomic<std::uint64_t> removals_{0};
  std::unordered_map<cpg_handle_t, std::shared_ptr<DaemonConnection>> connections_;
};

}  // namespace ringcast::client
