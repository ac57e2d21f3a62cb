// Session: one CPG handle. Its state (which group, joined or not) and its
// queue of pending callbacks are guarded by the node's mutex, because the
// node's delivery path fills them; the application's calls (join, leave,
// finalize) are serialized by api_mutex_ and callbacks by dispatch_mutex_,
// so a thread may dispatch while others multicast on the same handle.
//
// The eventfd is readable exactly while the queue is not empty (or the
// session is closed, so that a blocked dispatcher wakes and returns).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "client/event.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::client {

class Node;
struct PoolRef;

class Session {
 public:
  enum class State : std::uint8_t { unjoined, joining, joined, leaving };

  // A handle of this process (the node's pid).
  static cpg::Result<std::shared_ptr<Session>> open(std::shared_ptr<Node> node,
                                                    Callbacks callbacks);
  // A handle of process `pid` on this node: its joins, leaves, finalize and
  // messages name it, and it is in a group as that process.
  static cpg::Result<std::shared_ptr<Session>> open(std::shared_ptr<Node> node, Callbacks callbacks,
                                                    std::uint32_t pid);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  cpg::Status close();
  cpg::Status join(std::string_view group);
  cpg::Status leave(std::string_view group);
  cpg::Status send(Guarantee guarantee, std::span<const std::span<const std::byte>> pieces);
  cpg::Status send_zero_copy(Guarantee guarantee, void* buffer, std::size_t bytes);
  // The same from a pool that is not the node's own (ringcastd's pool over a
  // client's segment, Node::attach_pool).
  cpg::Status send_zero_copy(const PoolRef& pool, Guarantee guarantee, void* buffer,
                             std::size_t bytes);
  // cpg_zcb_alloc: a buffer the node records as this handle's, so that
  // close() frees it if the application did not (corosync's finalize frees
  // the handle's buffers too). Any handle of the process may free it.
  cpg::Result<void*> zcb_alloc(std::size_t bytes);
  cpg::Status dispatch(DispatchMode mode);
  int fd() const noexcept { return event_fd_; }
  // The eventfd's state without reading it: a callback is pending, or the
  // handle was closed or evicted, or its node left the ring.
  bool readable() const noexcept { return readable_.load(std::memory_order_acquire); }
  bool closed() const;
  // Evicted by the node (Node::EvictionLimits): every call but finalize and
  // the local queries returns this.
  cpg::Status evicted_status() const;
  bool evicted() const;

  Node& node() const noexcept { return *node_; }
  std::uint32_t pid() const noexcept { return pid_; }
  const std::shared_ptr<Node>& node_ptr() const noexcept { return node_; }
  void* context = nullptr;   // cpg_context_get / cpg_context_set
  std::uint64_t handle = 0;  // the C handle, set by the handle table
  std::uint64_t id = 0;      // unique in the process, set by the node

  // --- For the node, with its mutex held.
  State state_locked() const noexcept { return state_; }
  const std::string& group_locked() const noexcept { return *group_; }
  const std::shared_ptr<const std::string>& group_ptr_locked() const noexcept { return group_; }
  void push_locked(Event&& event);
  // A queued or running message: its event index, the node's log bytes
  // before it, and when it was queued.
  struct Pin {
    std::uint64_t seq = 0;
    std::uint64_t log_mark = 0;
    std::chrono::steady_clock::time_point at;
    std::uint64_t held_bytes = 0;  // of a message held by reference
  };
  bool has_pinned_locked() const noexcept { return !pinned_.empty(); }
  std::uint64_t oldest_pinned_locked() const noexcept { return pinned_.front().seq; }
  const Pin& oldest_pin_locked() const noexcept { return pinned_.front(); }
  void unpin_locked(std::uint64_t seq);
  // Copies queued messages out of the receive log, oldest first, while the
  // handle's copies stay within `budget` bytes; they are unpinned, so the
  // log can be released past them. A message whose callback runs stays
  // pinned (the application holds its pointer).
  struct Spill {
    std::uint64_t messages = 0;
    std::uint64_t bytes_copied = 0;
  };
  Spill spill_locked(std::uint64_t budget);
  // Bytes of queued messages held outside the log (copies and messages put
  // together from fragments that are unpinned).
  std::uint64_t spilled_bytes_locked() const noexcept { return spilled_bytes_; }
  // The node evicts it: nothing more is queued, what was is dropped and
  // unpinned, and it is out of its group here (the node sends its
  // finalize). Returns the state it was in.
  State evict_locked(std::string why);
  bool evicted_locked() const noexcept { return evicted_; }
  // Wakes a blocked dispatcher (the node left the ring).
  void wake_locked() { set_readable_locked(true); }
  // Our own join came back refused: out of the group again; sends return
  // CS_ERR_NOT_EXIST with `why`. False when the handle was not joining.
  bool join_refused_locked(std::string why);
  // In the group's membership: from our own join's delivery to our own
  // leave's. Only then does the node queue the group's events here; before,
  // (node, pid) may still name an earlier handle of the same process.
  bool member_locked() const noexcept { return member_; }
  // Our own join / leave came back in the total order.
  void joined_locked() noexcept {
    member_ = true;
    if (state_ == State::joining) state_ = State::joined;
  }
  void left_locked() noexcept {
    member_ = false;
    state_ = State::unjoined;
  }
  // A way around the queue for a handle served by ringcastd: the sink is
  // offered each event as it is pushed, on the delivery thread with the
  // node's mutex held, while nothing is queued or being dispatched (so the
  // order stays the queue's). copied: it copied what it needs (the payload
  // lives only as long as the call), and the event is neither queued nor
  // pinned nor signalled on the eventfd. held: it handed the message on by
  // reference as `ref_id`; it stays pinned until a release passes that id.
  // no: queued as always. It must not call into the node. Cleared by close().
  enum class Taken : std::uint8_t { no, copied, held };
  using Sink = std::function<Taken(const Event&, std::uint64_t ref_id)>;
  void set_sink(Sink sink);

  // --- Messages held by reference (ringcastd's clients read them in the
  // log). Ids count up from 1 per session; held pins are always the oldest
  // (a message is held by the sink only while nothing else is pinned, or by
  // the callback that runs the oldest queued one), so releases, cumulative,
  // unpin from the front.
  // From the message callback now running (dispatch thread): keep its
  // message pinned as held, for `bytes`; returns its id.
  std::uint64_t hold_running(std::uint64_t bytes);
  using Released = HeldRelease;
  // Every held message through `id`; refused when id was already released or
  // never given. Node::release_held calls it.
  Released release_held_locked(std::uint64_t through);
  // The held bytes not released yet, then 0 (the handle is closed or
  // evicted: its pins are gone already).
  std::uint64_t take_held_bytes();

  // Fixed at open: the totem confchg goes to sessions with that callback.
  bool wants_ring_changes() const noexcept { return static_cast<bool>(callbacks_.on_ring_change); }

 private:
  Session(std::shared_ptr<Node> node, Callbacks callbacks, int event_fd, std::uint32_t pid);
  bool run_one();
  bool wait_readable();
  cpg::Status dispatch_loop(DispatchMode mode);
  cpg::Status not_in_group_locked() const;
  void run_callback(const Event& e);
  void set_readable_locked(bool readable);

  std::shared_ptr<Node> node_;
  Callbacks callbacks_;
  const std::uint32_t pid_;
  int event_fd_ = -1;
  std::mutex api_mutex_;
  std::recursive_mutex dispatch_mutex_;  // a callback may dispatch again

  // Guarded by the node's mutex.
  State state_ = State::unjoined;
  std::shared_ptr<const std::string> group_ = std::make_shared<const std::string>();
  std::deque<Event> events_;
  std::deque<Pin> pinned_;     // held, running or queued messages, in queue order
  std::size_t held_pins_ = 0;  // the first ones of pinned_
  std::uint64_t refs_issued_ = 0, refs_released_ = 0, held_bytes_ = 0;
  std::uint64_t spilled_bytes_ = 0;
  bool member_ = false;
  // Also read without the lock by a dispatch loop: false means the queue is
  // empty, so the loop ends without another trip through the node's lock.
  std::atomic<bool> readable_{false};
  bool closed_ = false;
  bool evicted_ = false;
  Sink sink_;
  // Callbacks running (set under the node's mutex as their event leaves the
  // queue): the sink waits for them, or it would overtake their event.
  std::atomic<int> dispatching_{0};
  // The message callback running (dispatch thread only): its seq, and
  // whether it asked to keep the message held (hold_running).
  std::uint64_t running_seq_ = 0;
  bool keep_pinned_ = false;
  std::string evicted_why_;
  std::string join_refused_why_;  // since the last refused join, until the next join

  // Held by zcb_alloc and by close() while it frees the handle's buffers, so
  // that no buffer is recorded for a handle already closed.
  void free_buffers();
  std::mutex zcb_mutex_;
  bool zcb_closed_ = false;
};

}  // namespace ringcast::client
