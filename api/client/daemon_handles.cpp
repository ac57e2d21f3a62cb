#include "client/daemon_handles.hpp"

#include <random>

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
  // As HandleTable::find: each thread keeps the handle it found last, so
  // that a program's stream of sends and dispatches skips the table's lock.
  struct Last {
    const DaemonHandles* table = nullptr;  // one cache for both tables
    cpg_handle_t handle = 0;
    std::uint64_t removals = 0;
    std::weak_ptr<DaemonConnection> connection;
  };
  thread_local Last last;
  const std::uint64_t removals = removals_.load(std::memory_order_acquire);
  if (last.table == this && last.handle == handle && last.removals == removals) {
    if (auto c = last.connection.lock()) return c;
  }
  std::shared_ptr<DaemonConnection> c;
  {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(handle);
    if (it == connections_.end()) return nullptr;
    c = it->second;
  }
  last = Last{this, handle, removals, c};
  return c;
}

std::shared_ptr<DaemonConnection> DaemonHandles::remove(cpg_handle_t handle) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(handle);
  if (it == connections_.end()) return nullptr;
  auto c = std::move(it->second);
  connections_.erase(it);
  removals_.fetch_add(1, std::memory_order_release);  // every thread's find() looks again
  return c;
}

}  // namespace ringcast::client
