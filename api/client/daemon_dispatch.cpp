// cpg_dispatch() of a client-mode handle: the queued events' callbacks,
// in the order the daemon sent them, in the calling thread.
#include <algorithm>
#include <array>

#include "client/cpg_checks.hpp"
#include "client/daemon_connection.hpp"

namespace ringcast::client {

namespace {

std::size_t fill(std::array<cpg_address, CPG_MEMBERS_MAX>& out,
                 const std::vector<ipc::ConfchgEntry>& in) {
  const std::size_t n = std::min<std::size_t>(in.size(), CPG_MEMBERS_MAX);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = {in[i].process.node, in[i].process.pid, in[i].reason};
  return n;
}

}  // namespace

void DaemonConnection::run_callback(QueuedEvent& e) {
  if (auto* r = std::get_if<ipc::DeliverRef>(&e.body)) {
    run_ref_callback(*r);
  } else if (auto* d = std::get_if<ipc::DeliverInline>(&e.body)) {
    copies_delivered_.fetch_add(1, std::memory_order_relaxed);
    copy_bytes_.fetch_add(d->payload.size(), std::memory_order_relaxed);
    if (callbacks_.deliver == nullptr) return;
    const cpg_name name = to_cpg_name(d->group.view());
    callbacks_.deliver(handle, &name, d->sender.node, d->sender.pid,
                       const_cast<std::byte*>(d->payload.data()), d->payload.size());
  } else if (auto* c = std::get_if<ipc::Confchg>(&e.body)) {
    if (callbacks_.confchg == nullptr) return;
    const cpg_name name = to_cpg_name(c->group.view());
    std::array<cpg_address, CPG_MEMBERS_MAX> members{}, left{}, joined{};
    const std::size_t nm = fill(members, c->members);
    const std::size_t nl = fill(left, c->left);
    const std::size_t nj = fill(joined, c->joined);
    callbacks_.confchg(handle, &name, members.data(), nm, left.data(), nl, joined.data(), nj);
  } else if (auto* t = std::get_if<ipc::TotemConfchg>(&e.body)) {
    if (callbacks_.totem == nullptr) return;
    const cpg_ring_id id{t->ring_node, t->ring_seq};
    callbacks_.totem(handle, id, static_cast<uint32_t>(t->nodes.size()), t->nodes.data());
  } else if (auto* q = std::get_if<ipc::QuorumNotify>(&e.body)) {
    run_quorum_callback(*q, e.nodelist);
  }
}

// The oldest queued event's callback; false when none is queued.
bool DaemonConnection::run_one() {
  QueuedEvent e;
  bool drained = false;
  {
    std::lock_guard lock(state_mutex_);
    if (queue_.empty()) return false;
    e = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= e.frame.size();
    drained = queue_.empty();
  }
  ++callbacks_running_;
  run_callback(e);
  const auto* ref = std::get_if<ipc::DeliverRef>(&e.body);
  callback_done(ref != nullptr ? ref->delivery_id : 0, drained);
  return true;
}

cs_error_t DaemonConnection::dispatch_all() {
  bool any = false;
  {
    std::lock_guard lock(state_mutex_);
    dispatch_reading_ = true;
  }
  cs_error_t e = CS_OK;
  for (;;) {
    while (run_one())
      any = true;
    // A callback may have finalized the handle: its dispatch ends there.
    if (finalized_.load(std::memory_order_acquire)) break;
    if (e = usable(); e != CS_OK) break;
    e = pump([this] { return !queue_.empty(); }, false);
    if (e == CS_ERR_LIBRARY) break;
    if (e != CS_OK) {
      e = CS_OK;
      break;
    }
  }
  {
    // What another thread's reader queued meanwhile keeps the fd readable.
    std::lock_guard lock(state_mutex_);
    dispatch_reading_ = false;
    if (!queue_.empty()) {
      set_ready_locked();
    } else if (any && !reader_active_) {
      announce_locked();
    }
  }
  if (e != CS_OK || finalized_.load(std::memory_order_acquire)) return e;
  if (!any) {
    settle_idle();
    if (liveness_check_due() && !daemon_alive()) return CS_ERR_LIBRARY;
  } else {
    std::lock_guard lock(state_mutex_);
    idle_dispatches_ = 0;
  }
  return CS_OK;
}

// CS_DISPATCH_ONE (one callback, waiting for it) and CS_DISPATCH_BLOCKING
// (callbacks until the handle is finalized).
cs_error_t DaemonConnection::dispatch_blocking(bool one) {
  for (;;) {
    if (run_one() && one) return CS_OK;
    if (finalized_.load(std::memory_order_acquire)) return CS_OK;
    if (cs_error_t e = usable(); e != CS_OK) return e;
    const cs_error_t e = pump(
        [this] { return !queue_.empty() || finalized_.load(std::memory_order_acquire); }, true);
    // The daemon closes the connection once it answered finalize.
    if (e != CS_OK) return finalizing_.load(std::memory_order_acquire) ? CS_OK : e;
  }
}

cs_error_t DaemonConnection::dispatch(cs_dispatch_flags_t mode) {
  if (cs_error_t e = usable(); e != CS_OK) return e;
  std::lock_guard lock(dispatch_mutex_);
  switch (mode) {
    case CS_DISPATCH_ONE_NONBLOCKING: {
      if (run_one()) return CS_OK;
      const cs_error_t e = pump([this] { return !queue_.empty(); }, false);
      if (e == CS_ERR_LIBRARY) return e;
      if (run_one()) return CS_OK;
      settle_idle();
      return daemon_alive() ? CS_ERR_TRY_AGAIN : CS_ERR_LIBRARY;
    }
    case CS_DISPATCH_ALL:
      return dispatch_all();
    case CS_DISPATCH_ONE:
      return dispatch_blocking(true);
    case CS_DISPATCH_BLOCKING:
      return dispatch_blocking(false);
  }
  return CS_ERR_INVALID_PARAM;
}

}  // namespace ringcast::client
