#include "client/daemon_handles.hpp"

#include <random>

namespace ringcast::client {

DaemonHandles& DaemonHandles::instance() {
  // Never destroyed: handles may be used from atexit handlers and threads
  // that outlive main's statics.
  static DaemonHandles* table = new DaemonHandles();  // NOLINT: intentionally leaked
  return *table;
}

DaemonHandles::DaemonHandles() {
  std::random_device rd;
  // 32 random bits above, the mode's bit, then a counter: never 0, never reused.
  next_ = (static_cast<std::uint64_t>(rd()) << 32) | kDaemonHandleBit | 1;
}

cpg_handle_t DaemonHandles::add(std::shared_ptr<DaemonConnection> connection) {
  std::lock_guard lock(mutex_);
  const cpg_handle_t h = next_++;
  connection->handle = h;
  connections_.emplace(h, std::move(connection));
  return h;
}

std::shared_ptr<DaemonConnection> DaemonHandles::find(cpg_handle_t handle) const {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(handle);
  return it == connections_.end() ? nullptr : it->second;
}

std::shared_ptr<DaemonConnection> DaemonHandles::remove(cpg_handle_t handle) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(handle);
  if (it == connections_.end()) return nullptr;
  auto c = std::move(it->second);
  connections_.erase(it);
  return c;
}

}  // namespace ringcast::client
