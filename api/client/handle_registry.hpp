// HandleRegistry<T>: the C handles of one kind -> the objects behind them.
//
// A lookup hands out a shared_ptr, so an object stays alive while a call on
// it runs, even when another thread removes its handle meanwhile; a removed
// handle is not found again, by any thread, once remove() returned. Handles
// are never reused (a stale handle is CS_ERR_BAD_HANDLE, never someone else's
// object): they count up from a first value that the owner draws at random,
// so that a handle from another process or run does not happen to match.
//
// Programs call into the same handles over and over (a send and a dispatch
// per message; corosync's stress_cpgcontext sets and gets the context of 100
// handles in turn), so each thread keeps the objects it found, a slot per
// handle modulo kCached (handles are consecutive), valid while no
// handle was removed since: a repeated lookup then takes one atomic load and
// a weak_ptr lock instead of the table's mutex and hash lookup.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace ringcast::client {

// A first handle: 32 random bits above a counter that starts at 1 (never 0;
// the counter stays below bit 31, which marks client-mode handles).
std::uint64_t random_first_handle();

template <class T, std::size_t kCached = 128>
class HandleRegistry {
 public:
  using Handle = std::uint64_t;

  explicit HandleRegistry(Handle first) noexcept : id_(next_registry_id()), next_(first) {}
  HandleRegistry(const HandleRegistry&) = delete;
  HandleRegistry& operator=(const HandleRegistry&) = delete;

  // A new handle for `object`, also stored in its `handle` member before any
  // other thread can find it.
  Handle add(std::shared_ptr<T> object) {
    std::lock_guard lock(mutex_);
    const Handle h = next_++;
    object->handle = h;
    objects_.emplace(h, std::move(object));
    return h;
  }

  std::shared_ptr<T> find(Handle handle) const {
    thread_local std::array<Cached, kCached> cache;
    Cached& slot = cache[handle % kCached];
    const std::uint64_t removals = removals_.load(std::memory_order_acquire);
    if (slot.registry == id_ && slot.handle == handle && slot.removals == removals) {
      if (auto object = slot.object.lock()) return object;
    }
    std::shared_ptr<T> object;
    {
      std::lock_guard lock(mutex_);
      auto it = objects_.find(handle);
      if (it == objects_.end()) return nullptr;
      object = it->second;
    }
    slot = Cached{id_, handle, removals, object};
    return object;
  }

  // Removes the handle; null when unknown.
  std::shared_ptr<T> remove(Handle handle) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(handle);
    if (it == objects_.end()) return nullptr;
    auto object = std::move(it->second);
    objects_.erase(it);
    note_removal();
    return object;
  }

  // Removes every handle whose object satisfies `pred`.
  template <class Pred>
  void remove_if(Pred pred) {
    std::lock_guard lock(mutex_);
    if (std::erase_if(objects_, [&pred](const auto& kv) { return pred(*kv.second); }) > 0)
      note_removal();
  }

 private:
  struct Cached {
    std::uint64_t registry = 0;  // one cache for every registry of T: whose entry
    Handle handle = 0;
    std::uint64_t removals = 0;
    std::weak_ptr<T> object;
  };

  // Never 0 and never reused, unlike an address: a registry made where
  // another one was cannot see its entries.
  static std::uint64_t next_registry_id() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // Every thread's cached lookups are looked up again.
  void note_removal() noexcept { removals_.fetch_add(1, std::memory_order_release); }

  const std::uint64_t id_;
  mutable std::mutex mutex_;
  Handle next_;
  std::unordered_map<Handle, std::shared_ptr<T>> objects_;
  std::atomic<std::uint64_t> removals_{0};
};

}  // namespace ringcast::client
