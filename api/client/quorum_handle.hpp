// QuorumHandle: one quorum_* handle. Like a CPG session it has an eventfd
// that is readable exactly while a notification is queued (or the handle is
// finalized, so that a blocked dispatcher wakes), and callbacks run only in
// quorum_dispatch, in the caller's thread, with no lock held: a callback may
// call any quorum_* function, quorum_finalize of its own handle included.
//
// The handle keeps the process's node alive; the node's QuorumTracker holds
// it (raw) while it tracks, and the handle leaves the tracker before it dies.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "client/handle_registry.hpp"
#include "client/quorum_tracker.hpp"
#include "ringcast/quorum.h"

namespace ringcast::client {

class Node;

class QuorumHandle {
 public:
  // model_data: NULL, or the model's data (v0 or v1 layout, by `model`).
  static std::pair<cs_error_t, std::shared_ptr<QuorumHandle>> open(
      std::shared_ptr<Node> node, quorum_model_t model, const quorum_model_data_t* model_data);
  ~QuorumHandle();
  QuorumHandle(const QuorumHandle&) = delete;
  QuorumHandle& operator=(const QuorumHandle&) = delete;

  void close();
  int fd() const noexcept { return event_fd_; }
  bool quorate() const;
  cs_error_t track(unsigned int flags);
  void untrack();
  cs_error_t dispatch(cs_dispatch_flags_t mode);
  // The tracker queues a notification (its mutex held).
  void push(std::shared_ptr<const QuorumView> view);
  // The oldest queued notification, taken without a callback (ringcastd
  // forwards it to its client; open such a handle with QUORUM_MODEL_V0, one
  // entry per notification); nullptr when none is queued.
  std::shared_ptr<const QuorumView> take_view();

  const void* context = nullptr;  // quorum_context_get / _set (the C API's lock)
  quorum_handle_t handle = 0;

 private:
  QuorumHandle(std::shared_ptr<Node> node, quorum_model_t model, int event_fd);
  struct Pending {
    bool nodelist = false;  // V1's node-list callback, else the quorum callback
    std::shared_ptr<const QuorumView> view;
  };
  bool run_one();
  void run_callback(const Pending& p);
  bool wait_readable();
  void set_readable_locked(bool readable);
  bool closed() const;

  std::shared_ptr<Node> node_;
  quorum_model_t model_;
  quorum_model_v0_data_t v0_{};
  quorum_model_v1_data_t v1_{};
  int event_fd_ = -1;
  std::recursive_mutex dispatch_mutex_;  // a callback may dispatch again
  mutable std::mutex mutex_;
  std::deque<Pending> pending_;
  bool readable_ = false;
  bool closed_ = false;
};

// The process's embedded-mode quorum handles: quorum_handle_t ->
// QuorumHandle (HandleRegistry says what a lookup guarantees). Their values
// never carry kDaemonHandleBit (a counter in the low 31 bits), which
// client-mode quorum handles (DaemonHandles::quorum) always do.
class QuorumHandles {
 public:
  static QuorumHandles& instance();
  quorum_handle_t add(std::shared_ptr<QuorumHandle> handle) {
    return handles_.add(std::move(handle));
  }
  std::shared_ptr<QuorumHandle> find(quorum_handle_t handle) const { return handles_.find(handle); }
  std::shared_ptr<QuorumHandle> remove(quorum_handle_t handle) { return handles_.remove(handle); }
  std::mutex& context_mutex() noexcept { return context_mutex_; }

 private:
  QuorumHandles() : handles_(random_first_handle()) {}
  std::mutex context_mutex_;
  HandleRegistry<QuorumHandle> handles_;
};

}  // namespace ringcast::client
