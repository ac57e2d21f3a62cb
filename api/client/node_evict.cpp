// Spill and eviction: a handle that stops dispatching would hold its node's
// receive log for ever (its messages stay pinned, and the log is released
// only up to the oldest pinned message of any handle). Once the log is full,
// the space rule makes every sender of the cluster wait, while the token
// keeps turning: no timeout fires and nothing says why. Worse, a program
// that retries its own CS_ERR_TRY_AGAIN before it dispatches (as corosync's
// test programs do) waits for room that only its own dispatch would free.
// So once a handle holds EvictionLimits::max_bytes of the log, its queued
// messages are copied out (spilled, up to spill_max_bytes a handle) and the
// log is released past them. A handle that holds the log beyond that, for
// max_age, is evicted: its queue is dropped and released, its next call
// returns CS_ERR_LIBRARY, its finalize goes out (the other members see
// CPG_REASON_PROCDOWN), a log line and a counter say who and why. The node
// stays in the ring; the process may open a new handle.
#include <algorithm>
#include <string>

#include "base/log.hpp"
#include "client/node.hpp"
#include "client/session.hpp"

namespace ringcast::client {

void Node::set_eviction_limits(EvictionLimits limits) {
  std::lock_guard lock(mutex_);
  // A handle must be able to hold the largest message while it runs.
  if (limits.max_bytes != 0)
    limits.max_bytes =
        std::max<std::uint64_t>(limits.max_bytes, log_span_bytes(max_message_bytes_));
  eviction_ = limits;
}

// Each round, on the transport's thread: the oldest pin of each session.
void Node::evict_stalled_locked() {
  if (eviction_.max_bytes == 0) return;
  const auto now = round_now_;
  // evict_locked leaves the list as it is; a session is evicted once.
  for (Session* s : sessions_) {
    if (!s->has_pinned_locked()) continue;
    std::uint64_t held = log_bytes_delivered_ - s->oldest_pin_locked().log_mark;
    if (held < eviction_.max_bytes) continue;
    if (now - s->oldest_pin_locked().at >= eviction_.spill_after && spill_locked(*s, held)) {
      if (!s->has_pinned_locked()) continue;
      held = log_bytes_delivered_ - s->oldest_pin_locked().log_mark;
    }
    const auto age =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - s->oldest_pin_locked().at);
    if (eviction_.max_age.count() != 0 && held >= eviction_.max_bytes && age >= eviction_.max_age)
      evict_locked(*s, held, age);
  }
}

bool Node::spill_locked(Session& session, std::uint64_t held_bytes) {
  const Session::Spill done = session.spill_locked(eviction_.spill_max_bytes);
  if (done.messages == 0) return false;
  messages_spilled_ += done.messages;
  bytes_copied_on_spill_ += done.bytes_copied;
  const auto now_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(round_now_.time_since_epoch()).count());
  spill_log_.log(LogLevel::info, "spill",
                 "node " + std::to_string(node_id_) + ": a handle of pid " +
                     std::to_string(session.pid()) + " in group '" + session.group_locked() +
                     "' held " + std::to_string(held_bytes) +
                     " bytes of the receive log undispatched; " + std::to_string(done.messages) +
                     " queued messages (" + std::to_string(done.bytes_copied) +
                     " bytes) copied out of the log (totem.handle_unreleased_max_bytes, "
                     "handle_spill_max_bytes)",
                 now_ns);
  return true;
}

void Node::evict_locked(Session& session, std::uint64_t held_bytes, std::chrono::milliseconds age) {
  const std::string group = session.group_locked();
  const std::string why = "it held " + std::to_string(held_bytes) +
                          " bytes of the receive log for " + std::to_string(age.count()) +
                          " ms without dispatching; bounds " + std::to_string(eviction_.max_bytes) +
                          " bytes and " + std::to_string(eviction_.max_age.count()) +
                          " ms (totem.handle_unreleased_max_bytes, handle_unreleased_max_ms)";
  const Session::State was = session.evict_locked(why);
  ++handles_evicted_;
  log_line("node " + std::to_string(node_id_) + ": evicted a handle of pid " +
           std::to_string(session.pid()) + " in group '" + group + "': " + why);
  if (was == Session::State::joining || was == Session::State::joined) {
    evictions_.push_back({session.id, session.pid(), group});
    evict_wake_.notify_all();
  }
}

// Sends the finalize of each evicted session, waiting for room (a sync, a
// full send queue) as a finalize does.
void Node::run_evictor() {
  std::unique_lock lock(mutex_);
  for (;;) {
    evict_wake_.wait(lock, [this] { return stopping_ || !evictions_.empty(); });
    if (stopping_) return;
    // Stays queued until submitted: a join of the same group by a new
    // handle waits until then (join_check_locked), so it is ordered after.
    const Eviction e = evictions_.front();
    lock.unlock();
    const cpg::Status s =
        submit_control(e.session, e.pid, groups::GroupMessageKind::finalize, e.group, true);
    if (!s.ok())
      log_line("node " + std::to_string(node_id_) +
               ": the finalize of an evicted handle in group '" + e.group +
               "' could not be sent: " + s.message());
    lock.lock();
    evictions_.pop_front();
  }
}

// The node left the ring for good: nothing it sends goes out again, and
// messages accepted but still queued are lost. Without this, an application
// that only dispatches would wait for ever and never learn either.
void Node::on_left_locked(std::uint64_t unsent) {
  unsent_on_leave_ = unsent;
  left_.store(true, std::memory_order_release);
  log_line("node " + std::to_string(node_id_) + " left the ring for good; " +
           std::to_string(unsent) +
           " accepted messages were still queued and are not sent; every handle's "
           "cpg_dispatch returns CS_ERR_LIBRARY once its queue is empty");
  for (Session* s : sessions_)
    s->wake_locked();
}

cpg::Status Node::left_status() const {
  std::lock_guard lock(mutex_);
  return cpg::Status(CS_ERR_LIBRARY, "this process's node left the ring for good (" +
                                         std::to_string(unsent_on_leave_) +
                                         " queued messages not sent); finalize the handle");
}

}  // namespace ringcast::client
