#include "client/daemon_handles.hpp"

namespace ringcast::client {

DaemonHandles& DaemonHandles::instance() {
  // Never destroyed: handles may be used from atexit handlers and threads
  // that outlive main's statics.
  static DaemonHandles* table = new DaemonHandles();  // NOLINT: intentionally leaked
  return *table;
}

DaemonHandles& DaemonHandles::quorum() {
  static DaemonHandles* table = new DaemonHandles();  // NOLINT: intentionally leaked
  return *table;
}

DaemonHandles::DaemonHandles() : connections_(random_first_handle() | kDaemonHandleBit) {}

}  // namespace ringcast::client
