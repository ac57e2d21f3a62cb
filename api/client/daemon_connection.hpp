// One CPG handle in client mode: its own connection to the node's ringcastd
// (a SOCK_SEQPACKET unix socket, then the request and event rings of
// api/ipc). A call pushes its request and waits for the reply with its
// request id; events read meanwhile (deliveries, confchgs) are queued in
// order for the next cpg_dispatch().
//
// One thread at a time reads the event ring (the reader): a call waiting
// for its reply, or a dispatch. The reader files replies by request id and
// events in the queue, and hands the role on; the others wait on a
// condition variable. A dispatch gives the role up before it runs a
// callback, so a callback may call into the handle.
//
// The descriptor of cpg_fd_get() is an epoll set of the event doorbell, an
// eventfd readable while the queue holds events, and the socket: readable
// when events wait and when the daemon is gone (the socket hangs up).
// Neither is touched per message while the stream is busy: the doorbell
// rings only for a frame the daemon writes while no thread of the program
// reads the ring (every reader announces a sleep when it hands the role on
// with nothing queued, so a program that polls the fd is always woken),
// and the queue's eventfd is cleared only by a dispatch that found nothing.
//
// When the daemon goes away or sends what cannot be decoded, the handle is
// dead: every call but finalize, fd_get and the context returns
// CS_ERR_LIBRARY. After fork() the child's copy refuses every call the same
// way, and its finalize closes the child's descriptors only.
//
// A quorum handle in client mode is such a connection too (open_quorum):
// its requests are the quorum ones, its events quorum notifications, each
// queued as the callbacks of its model (daemon_quorum.cpp).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/uio.h>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "client/client_mode.hpp"
#include "ipc/channel.hpp"
#include "ipc/frame_codec.hpp"
#include "ringcast/cpg.h"
#include "ringcast/quorum.h"

namespace ringcast::client {

struct DaemonCallbacks {
  cpg_deliver_fn_t deliver = nullptr;
  cpg_confchg_fn_t confchg = nullptr;
  cpg_totem_confchg_fn_t totem = nullptr;
  bool initial_totem = false;
};

struct DaemonQuorumCallbacks {
  quorum_model_t model = QUORUM_MODEL_V0;
  quorum_notification_fn_t v0 = nullptr;
  quorum_v1_quorum_notification_fn_t v1 = nullptr;
  quorum_v1_nodelist_notification_fn_t nodelist = nullptr;
};

// An event taken out of the ring, kept until its callback runs.
struct QueuedEvent {
  std::vector<std::byte> frame;  // the frame or the assembled message: payload points in
  ipc::EventBody body;           // DeliverInline, Confchg, TotemConfchg or QuorumNotify
  bool nodelist = false;         // a QuorumNotify for V1's node-list callback
};

class DaemonConnection {
 public:
  // Connects, says hello, maps the channel and sends initialize.
  static cpg::Result<std::shared_ptr<DaemonConnection>> open(const DaemonAddress& address,
                                                             const DaemonCallbacks& callbacks);
  // Connects, says hello, maps the channel and sends quorum_initialize.
  static cpg::Result<std::shared_ptr<DaemonConnection>> open_quorum(
      const DaemonAddress& address, const DaemonQuorumCallbacks& callbacks);
  ~DaemonConnection();
  DaemonConnection(const DaemonConnection&) = delete;
  DaemonConnection& operator=(const DaemonConnection&) = delete;

  // The C handle, set once by the table before any callback can run.
  cpg_handle_t handle = 0;
  void* context = nullptr;

  cs_error_t finalize();
  int fd() const noexcept { return epoll_.get(); }
  cs_error_t usable() const noexcept;
  // CPG_FLOW_CONTROL_ENABLED while the daemon holds a credited mcast.
  bool held_by_daemon();
  cs_error_t dispatch(cs_dispatch_flags_t mode);
  cs_error_t join(std::string_view group);
  cs_error_t leave(std::string_view group);
  cs_error_t mcast(cpg_guarantee_t guarantee, std::span<const struct iovec> pieces);
  // The program holds undispatched deliveries of at least
  // DaemonAddress::undispatched_max_bytes: sends get CS_ERR_TRY_AGAIN (and
  // cpg_flow_control_state_get says enabled) until it dispatches, so a
  // program that sends without dispatching cannot grow its queue for ever.
  bool holds_too_much();
  std::uint64_t sends_refused_undispatched() const noexcept {
    return sends_refused_undispatched_.load();
  }
  cs_error_t membership(std::string_view group, std::vector<ipc::ProcessId>& out);
  cs_error_t local_node(unsigned int& node);
  cs_error_t iterate(cpg_iteration_type_t kind, std::string_view group,
                     std::vector<ipc::IterationEntry>& out);
  // quorum_getquorate, quorum_trackstart, quorum_trackstop (daemon_quorum.cpp).
  cs_error_t getquorate(int& quorate);
  cs_error_t track(unsigned int flags);
  cs_error_t untrack();
  std::uint64_t atomic_message_bytes() const noexcept;
  std::uint64_t largest_message_bytes() const noexcept;

  // cpg_zcb_* without a zcb segment (a daemon that offers none): the
  // library's own page-aligned memory; a send is an mcast.
  cs_error_t zcb_alloc(std::size_t bytes, void** buffer);
  cs_error_t zcb_free(void* buffer);
  bool owns_buffer(void* buffer);
  // cpg_zcb_* with the daemon's zcb segment mapped (daemon_zero_copy.cpp):
  // buffers inside it, named to the daemon by offset; the NIC reads a send
  // from the program's pages, and the reply comes once it has (or at once
  // when the daemon copied the bytes). A free is checked here and not
  // answered.
  bool has_zcb_segment() const noexcept { return !channel_.zcb_segment.bytes().empty(); }
  bool in_zcb_segment(const void* p, std::size_t bytes = 1) const noexcept;
  cs_error_t segment_alloc(std::size_t bytes, void** buffer);
  cs_error_t segment_free(void* buffer);
  cs_error_t segment_mcast(cpg_guarantee_t guarantee, void* buffer, std::size_t bytes);
  std::uint64_t zcb_bytes_from_buffer() const noexcept { return zcb_in_place_.load(); }

  // Deliveries read in the mapped receive log and copied out of the event
  // ring, and their bytes (counters).
  std::uint64_t deliveries_by_reference() const noexcept { return refs_delivered_.load(); }
  std::uint64_t bytes_by_reference() const noexcept { return ref_bytes_.load(); }
  std::uint64_t deliveries_copied() const noexcept { return copies_delivered_.load(); }
  std::uint64_t refs_spilled() const noexcept { return refs_spilled_.load(); }
  std::uint64_t ref_bytes_spilled() const noexcept { return ref_bytes_spilled_.load(); }
  std::uint64_t bytes_delivered_copied() const noexcept { return copy_bytes_.load(); }

  // Sends and bytes copied into the request ring (counters).
  std::uint64_t bytes_copied() const noexcept { return bytes_copied_.load(); }
  std::uint64_t zcb_sends() const noexcept { return zcb_sends_.load(); }
  std::uint64_t zcb_bytes_copied() const noexcept { return zcb_bytes_.load(); }
  void count_zcb_send(std::uint64_t bytes) noexcept {
    zcb_sends_.fetch_add(1, std::memory_order_relaxed);
    zcb_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }

 private:
  DaemonConnection() = default;
  static cpg::Result<std::shared_ptr<DaemonConnection>> connect(const DaemonAddress& address);
  cs_error_t initialize(const ipc::RequestBody& body);
  cs_error_t make_poll_set();

  // ---- requests (daemon_requests.cpp)
  using Reply = ipc::EventBody;
  cs_error_t call(const ipc::RequestBody& body, Reply& reply);
  cs_error_t await_reply(std::uint64_t id, Reply& reply);
  cs_error_t push_frame(const ipc::EncodedFrame& frame);
  cs_error_t push_parts(std::span<const std::span<const std::byte>> parts);
  cs_error_t push_payload(ipc::RequestBody body, std::uint64_t id, std::span<const iovec> pieces,
                          std::size_t offset, std::size_t length);
  cs_error_t simple_call(const ipc::RequestBody& body, std::uint64_t* value = nullptr);
  cs_error_t wrong_reply(const char* expected);

  // ---- credit (daemon_credit.cpp, docs/protocol.md "Credit")
  // Under push_mutex_: CS_OK and credited when the mcast of `bytes` may go
  // as mcast_credited (it is counted); CS_OK and not credited when no
  // credit was granted (a plain mcast, waiting for its reply); else the
  // call's error: a refusal of an earlier credited mcast, not in a group,
  // or CS_ERR_TRY_AGAIN while the daemon holds one for the ring.
  // Under push_mutex_, never waiting: credited, or not to be (a daemon
  // without credit, a message above the atomic size), or out of credit.
  cs_error_t take_credit(std::uint64_t bytes, bool& credited, bool& out_of_credit);
  cs_error_t wait_for_credit();
  bool credit_available_locked() const noexcept;
  bool route_ack(const ipc::McastAck& ack);

  // ---- the event ring (daemon_events.cpp)
  // Reads as reader until done() holds (with state_mutex_ held) or the
  // handle dies; may_sleep: wait for frames, else one pass only.
  template <class Done>
  cs_error_t pump(Done done, bool may_sleep);
  // The reader's pass over what the ring holds now: true when it read a
  // frame (a frame that cannot be decoded kills the handle).
  bool read_available();
  bool route(std::vector<std::byte>& frame);
  bool route_delivery(std::vector<std::byte>& frame, ipc::Event& event);
  bool route_quorum(ipc::Event& event);
  // Spins on the ring, then sleeps on the doorbell and the socket; true
  // when it slept.
  bool sleep_for_frames();
  bool daemon_alive();  // false (and dead) once the socket hung up
  // At the hand-off: a queued event keeps the fd readable; else the sleep
  // is announced, whether or not this reader slept, so that the next frame
  // rings the doorbell for a program that polls the fd.
  void after_reading_locked();
  void die(const std::string& why);
  void set_ready_locked();
  // A dispatch that found nothing: the fd's stale readiness is cleared, the
  // sleep announced, and the socket checked (the daemon may be gone).
  void settle_idle();
  void announce_locked();
  // Whether an idle dispatch looks at the socket: always, but only every
  // 32nd in a row while credited mcasts are in flight (a stream's
  // dispatches mostly find nothing; its next mcast out of credit sleeps on
  // the socket and finds a dead daemon there).
  bool liveness_check_due();

  // ---- deliveries by reference (daemon_refs.cpp)
  // A deliver_ref checked against the mapped log (a daemon that names bytes
  // outside it kills the handle), then queued.
  bool route_ref(ipc::Event& event);
  void run_ref_callback(const ipc::DeliverRef& d);
  // A callback is done (dispatch thread): what it held may be released once
  // no callback of this handle runs any more (a callback may dispatch).
  void callback_done(std::uint64_t ref_id, bool queue_drained);
  void flush_release();
  // A send met CS_ERR_TRY_AGAIN: spills the queued references when they
  // hold the handle's share of the log or the refusals have lasted.
  void spill_refs();
  void send_taken() noexcept;  // a send went through: the refusals ended
  // Copies the queued references out of the log and releases them: all of
  // them, or only once they hold the handle's share. `why` is for the log.
  void spill_queued_refs(const char* why, bool whatever_they_hold);
  // A wait for a reply that lasts until this (steady clock) spills.
  static std::int64_t spill_deadline_ns();
  static bool past(std::int64_t deadline_ns);
  bool refs_hold_the_log_locked() const;

  // ---- dispatch (daemon_dispatch.cpp)
  bool run_one();
  void run_callback(QueuedEvent& e);
  void run_quorum_callback(const ipc::QuorumNotify& n, bool nodelist);
  cs_error_t dispatch_all();
  cs_error_t dispatch_blocking(bool one);

  UniqueFd socket_, epoll_, ready_;
  ipc::ClientChannel channel_;
  std::uint64_t remote_handle_ = 0;  // from the initialize reply, read by the reader
  std::uint64_t initialize_id_ = 0;
  std::uint64_t generation_ = 0;  // fork generation at open
  DaemonCallbacks callbacks_;
  bool quorum_service_ = false;  // opened by open_quorum
  DaemonQuorumCallbacks quorum_callbacks_;

  std::mutex push_mutex_;                          // a message's parts and its mcast stay together
  std::atomic<std::uint64_t> next_request_id_{1};  // taken under push_mutex_

  std::mutex state_mutex_;
  std::condition_variable cv_;
  bool reader_active_ = false;
  std::deque<QueuedEvent> queue_;
  std::uint64_t queued_bytes_ = 0;  // the queue's frames
  std::uint64_t undispatched_max_bytes_ = 0;
  std::uint64_t spill_from_bytes_ = 0;  // DaemonAddress::spill_from_bytes
  // The first refusal of the current run of them (0: none since a send
  // went through) and the last one (steady clock).
  std::atomic<std::int64_t> refused_since_ns_{0}, last_refused_ns_{0};
  std::vector<std::pair<std::uint64_t, Reply>> replies_;
  bool ready_set_ = false;
  bool announced_ = false;  // a sleep announced, the doorbell not drained since
  // The daemon took an announcement (so rang the doorbell) that a reader
  // withdrew since: the next settle drains the doorbell.
  std::atomic<bool> bell_rung_{false};
  // A CS_DISPATCH_ALL reads: it runs what it queues itself, so queueing
  // makes the fd readable only once it returns with something left.
  bool dispatch_reading_ = false;
  std::uint32_t idle_dispatches_ = 0;  // in a row, with credited mcasts in flight
  std::vector<std::byte> partial_;     // deliver_part bytes (reader only)
  std::vector<std::byte> frame_;       // the reader's buffer

  struct Credit {
    std::uint32_t window_messages = 0;  // 0: none granted
    std::uint64_t window_bytes = 0;
    std::uint32_t messages = 0;  // credited mcasts sent and not acknowledged
    std::uint64_t bytes = 0;
    std::uint64_t through = 0;   // the last one acknowledged
    bool holding = false;        // the daemon holds one for the ring
    cs_error_t refused = CS_OK;  // of one acknowledged as refused: the next mcast's
  };
  Credit credit_;  // under state_mutex_
  // A join was answered CS_OK and no leave since (credited mcasts are
  // refused here, not by the daemon, when it is not).
  std::atomic<bool> joined_{false};

  std::atomic<bool> dead_{false};
  std::atomic<bool> finalized_{false};
  // Finalize was sent: the daemon's hang-up that may follow is no failure.
  std::atomic<bool> finalizing_{false};
  std::string dead_why_;  // under state_mutex_
  std::recursive_mutex dispatch_mutex_;

  std::mutex zcb_mutex_;
  std::set<void*> buffers_;
  std::set<std::uint64_t> segment_live_;  // offsets of the zcb segment's live buffers
  std::atomic<std::uint64_t> bytes_copied_{0}, zcb_sends_{0}, zcb_bytes_{0};
  std::atomic<std::uint64_t> sends_refused_undispatched_{0};
  // Deliveries spill_refs() copied out of the log, and their bytes.
  std::atomic<std::uint64_t> refs_spilled_{0}, ref_bytes_spilled_{0};
  std::atomic<std::uint64_t> zcb_in_place_{0};  // bytes of zcb sends the NIC read in place
  std::atomic<std::uint64_t> refs_delivered_{0}, ref_bytes_{0}, copies_delivered_{0},
      copy_bytes_{0};
  // Under dispatch_mutex_: callbacks running (nested by a callback that
  // dispatches), the highest delivery id whose callback returned, the id
  // released so far and deliveries done since.
  int callbacks_running_ = 0;
  std::uint64_t done_through_ = 0, released_through_ = 0;
  std::uint32_t unreleased_ = 0;
};

// A line of the library's log, at most a few per window for each source.
void log_bounded(LogLevel level, std::string_view source, const std::string& line);

// The fork generation: bumped in every child (pthread_atfork), so that a
// handle opened before a fork knows it is the parent's.
std::uint64_t fork_generation() noexcept;

}  // namespace ringcast::client

namespace ringcast::client {

// One reader at a time; the others wait for it to hand the role on, then
// look at what it filed (done()) before they read themselves.
template <class Done>
cs_error_t DaemonConnection::pump(Done done, bool may_sleep) {
  std::unique_lock lock(state_mutex_);
  for (;;) {
    if (done()) return CS_OK;
    if (dead_.load(std::memory_order_acquire)) return CS_ERR_LIBRARY;
    if (reader_active_) {
      if (!may_sleep) return CS_ERR_TRY_AGAIN;
      cv_.wait(lock);
      continue;
    }
    reader_active_ = true;
    // While a reader is here the daemon need not ring: the announcement
    // is made again at the hand-off.
    if (!channel_.events->end_sleep() && announced_) bell_rung_ = true;
    lock.unlock();
    bool read = read_available();
    lock.lock();
    if (!read && may_sleep && !done() && !dead_.load(std::memory_order_acquire)) {
      lock.unlock();
      (void)sleep_for_frames();
      lock.lock();
    }
    reader_active_ = false;
    after_reading_locked();
    cv_.notify_all();
    if (!may_sleep) {
      if (done()) return CS_OK;
      return dead_.load(std::memory_order_acquire) ? CS_ERR_LIBRARY : CS_ERR_TRY_AGAIN;
    }
  }
}

// What a client-mode handle counted (counters.cpp): every send copied into
// its request ring, zero-copy ones included; the daemon holds the ring's.
cpg::Counters counters_of(const DaemonConnection& connection);

}  // namespace ringcast::client
