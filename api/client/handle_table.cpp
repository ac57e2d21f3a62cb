#include "client/handle_table.hpp"

#include <array>
#include <random>

namespace ringcast::client {

HandleTable& HandleTable::instance() {
  // Never destroyed: handles may be used from atexit handlers and threads
  // that outlive main's statics.
  static HandleTable* table = new HandleTable();  // NOLINT: intentionally leaked
  return *table;
}

HandleTable::HandleTable() {
  std::random_device rd;
  // 48 random bits above, a counter below: never 0, never reused.
  next_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) & 0xffff'ffff'0000'0000ull;
  next_ |= 1;
}

cpg_handle_t HandleTable::add(std::shared_ptr<Session> session) {
  std::lock_guard lock(mutex_);
  const cpg_handle_t h = next_++;
  session->handle = h;
  sessions_.emplace(h, std::move(session));
  return h;
}

std::shared_ptr<Session> HandleTable::find(cpg_handle_t handle) const {
  // A program calls cpg_mcast_joined and cpg_dispatch on the same handles
  // over and over: each thread keeps the last ones it found (a slot per
  // handle modulo kCached; handles are consecutive), valid while no handle
  // was removed since, so that those calls skip the table's lock.
  struct Last {
    cpg_handle_t handle = 0;
    std::uint64_t removals = 0;
    std::weak_ptr<Session> session;
  };
  constexpr std::size_t kCached = 4;
  thread_local std::array<Last, kCached> cache;
  Last& last = cache[handle % kCached];
  const std::uint64_t removals = removals_.load(std::memory_order_acquire);
  if (last.handle == handle && last.removals == removals) {
    if (auto s = last.session.lock()) return s;
  }
  std::shared_ptr<Session> s;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(handle);
    if (it == sessions_.end()) return nullptr;
    s = it->second;
  }
  last = Last{handle, removals, s};
  return s;
}

std::shared_ptr<Session> HandleTable::remove(cpg_handle_t handle) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(handle);
  if (it == sessions_.end()) return nullptr;
  auto s = std::move(it->second);
  sessions_.erase(it);
  removals_.fetch_add(1, std::memory_order_release);  // every thread's find() looks again
  std::erase_if(iterations_, [handle](const auto& kv) { return kv.second->owner == handle; });
  return s;
}

cpg_iteration_handle_t HandleTable::add_iteration(std::shared_ptr<Iteration> iteration) {
  std::lock_guard lock(mutex_);
  const cpg_iteration_handle_t h = next_++;
  iterations_.emplace(h, std::move(iteration));
  return h;
}

std::shared_ptr<Iteration> HandleTable::find_iteration(cpg_iteration_handle_t handle) const {
  std::lock_guard lock(mutex_);
  auto it = iterations_.find(handle);
  return it == iterations_.end() ? nullptr : it->second;
}

bool HandleTable::remove_iteration(cpg_iteration_handle_t handle) {
  std::lock_guard lock(mutex_);
  return iterations_.erase(handle) > 0;
}

}  // namespace ringcast::client

namespace ringcast::client {

void HandleTable::remove_iterations_of(cpg_handle_t owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(iterations_, [owner](const auto& kv) { return kv.second->owner == owner; });
}

}  // namespace ringcast::client
