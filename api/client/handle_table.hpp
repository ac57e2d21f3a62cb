// The process's embedded-mode CPG handles: cpg_handle_t -> Session, and the
// iterations of cpg_iteration_initialize (HandleRegistry says what a lookup
// guarantees).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "client/handle_registry.hpp"
#include "client/session.hpp"
#include "ringcast/cpg.h"

namespace ringcast::client {

// A snapshot of cpg_iteration_initialize, walked by cpg_iteration_next.
struct Iteration {
  std::mutex mutex;  // cpg_iteration_next from several threads
  cpg_iteration_handle_t handle = 0;
  cpg_handle_t owner = 0;
  std::vector<cpg_iteration_description_t> items;
  std::size_t next = 0;
};

class HandleTable {
 public:
  static HandleTable& instance();

  cpg_handle_t add(std::shared_ptr<Session> session) { return sessions_.add(std::move(session)); }
  std::shared_ptr<Session> find(cpg_handle_t handle) const { return sessions_.find(handle); }
  // Removes it and the iterations it owns; null when unknown.
  std::shared_ptr<Session> remove(cpg_handle_t handle);

  cpg_iteration_handle_t add_iteration(std::shared_ptr<Iteration> iteration) {
    return iterations_.add(std::move(iteration));
  }
  std::shared_ptr<Iteration> find_iteration(cpg_iteration_handle_t handle) const {
    return iterations_.find(handle);
  }
  bool remove_iteration(cpg_iteration_handle_t handle) {
    return iterations_.remove(handle) != nullptr;
  }
  // The iterations of a handle of another table (a client-mode handle).
  void remove_iterations_of(cpg_handle_t owner) {
    iterations_.remove_if([owner](const Iteration& it) { return it.owner == owner; });
  }

 private:
  HandleTable();
  HandleRegistry<Session> sessions_;
  HandleRegistry<Iteration> iterations_;
};

}  // namespace ringcast::client
