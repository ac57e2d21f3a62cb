// The process's CPG handles: cpg_handle_t -> Session. A lookup hands out a
// shared_ptr, so a session stays alive while any call on it runs, even when
// another thread finalizes the handle meanwhile; a finalized handle is not
// found again, by any thread, once remove() returned. Handles are never reused
// (a stale handle is CS_ERR_BAD_HANDLE, never someone else's session), and
// start from a random value so that a handle from another process or run
// does not happen to match.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "client/session.hpp"
#include "ringcast/cpg.h"

namespace ringcast::client {

// A snapshot of cpg_iteration_initialize, walked by cpg_iteration_next.
struct Iteration {
  std::mutex mutex;  // cpg_iteration_next from several threads
  cpg_handle_t owner = 0;
  std::vector<cpg_iteration_description_t> items;
  std::size_t next = 0;
};

class HandleTable {
 public:
  static HandleTable& instance();

  cpg_handle_t add(std::shared_ptr<Session> session);
  std::shared_ptr<Session> find(cpg_handle_t handle) const;
  // Removes it and the iterations it owns; null when unknown.
  std::shared_ptr<Session> remove(cpg_handle_t handle);

  cpg_iteration_handle_t add_iteration(std::shared_ptr<Iteration> iteration);
  std::shared_ptr<Iteration> find_iteration(cpg_iteration_handle_t handle) const;
  bool remove_iteration(cpg_iteration_handle_t handle);
  // The iterations of a handle of another table (a client-mode handle).
  void remove_iterations_of(cpg_handle_t owner);

 private:
  HandleTable();
  mutable std::mutex mutex_;
  std::uint64_t next_;
  std::unordered_map<cpg_handle_t, std::shared_ptr<Session>> sessions_;
  // Handles removed so far: a thread's cached lookup (find) is valid while
  // this has not moved.
  std::atomic<std::uint64_t> removals_{0};
  std::unordered_map<cpg_iteration_handle_t, std::shared_ptr<Iteration>> iterations_;
};

}  // namespace ringcast::client
