// Node: a ring member as the CPG layer sees it. It owns the RingTransport,
// the group table every member computes alike from the total order, the
// sessions (CPG handles) it serves, and their zero-copy buffer pool.
//
// A group member is a process, (node, pid). Each session carries the pid it
// acts for: the node's own (getpid(), the embedded library) unless opened
// with another (a daemon serving the processes of its host). One process is
// one member, so at most one of a pid's sessions is in a given group; two
// pids of this node may both be. Every record a session causes goes out
// with its pid.
//
// Deliveries arrive on the transport's thread (on_round): control records
// change the group table and queue view changes, data records are queued to
// every local session that is a member of their group, one per local pid
// listed there, and stay pinned in the receive log until that session's
// callback returned. The log is released up to the oldest pinned record of
// any session.
//
// Configuration changes (node_sync.cpp): nodes that leave the ring take
// their members out of every group (NODEDOWN); nodes that come together
// (a restart, a healed partition) learn each other's groups from announces
// (NODEUP), during a sync in which new sends, joins and leaves get TRY_AGAIN.
// docs/api.md "Configuration changes" says what users see. Start-up
// (node_startup.cpp): the first sessions wait until the node is settled in
// the ring of the nodes it reaches, so that they do not meet its merge.
//
// Lock order: control_mutex_ -> gate_ -> transport's lock -> mutex_, and
// settle_mutex_ -> transport's lock -> mutex_. mutex_
// guards everything below it and every session's queue and state; it is
// never held while calling the transport or running an application
// callback.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "client/event.hpp"
#include "client/quorum_tracker.hpp"
#include "config/cluster_config.hpp"
#include "groups/fragment_assembly.hpp"
#include "groups/group_table.hpp"
#include "ringcast/ringcast.hpp"
#include "runtime/ring_transport.hpp"
#include "zcb/segment_regions.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::client {

class Session;

// A zero-copy pool a send reads from, and its number in the ring's tags of
// those sends (0: the node's own pool, made on first use; pool is then
// ignored). The ring's tag of a send is the pool's token with the number in
// bits 16..31, which a token leaves 0 (its slot is below 2^16:
// PoolConfig::max_sends_in_flight).
struct PoolRef {
  zcb::ZeroCopyPool* pool = nullptr;
  std::uint32_t number = 0;
};
inline constexpr std::uint32_t kMaxAttachedPools = 0xffff;
inline constexpr std::uint64_t ring_tag(std::uint32_t pool_number, std::uint64_t token) noexcept {
  return token | std::uint64_t{pool_number} << 16;
}
inline constexpr std::uint32_t pool_number_of(std::uint64_t tag) noexcept {
  return static_cast<std::uint32_t>(tag >> 16) & 0xffff;
}
inline constexpr std::uint64_t token_of(std::uint64_t tag) noexcept {
  return tag & ~(std::uint64_t{0xffff} << 16);
}

// The public guarantee (CPG_TYPE_*) in the transport's vocabulary: the same
// numbers.
static_assert(static_cast<int>(runtime::DeliveryGuarantee::unordered) == CPG_TYPE_UNORDERED);
static_assert(static_cast<int>(runtime::DeliveryGuarantee::fifo) == CPG_TYPE_FIFO);
static_assert(static_cast<int>(runtime::DeliveryGuarantee::agreed) == CPG_TYPE_AGREED);
static_assert(static_cast<int>(runtime::DeliveryGuarantee::safe) == CPG_TYPE_SAFE);
inline runtime::DeliveryGuarantee to_transport(Guarantee guarantee) {
  return static_cast<runtime::DeliveryGuarantee>(guarantee);
}

// The receive-log bytes a delivered message takes: the ring's record, a
// 64-byte header and the payload padded to 64 bytes (ring/record.hpp, which
// this layer does not see).
constexpr std::uint64_t log_span_bytes(std::uint64_t payload_bytes) noexcept {
  return (64 + payload_bytes + 63) / 64 * 64;
}

// What one handle may leave unreleased (docs/api.md, "Eviction"). Once the
// log it holds from its oldest undispatched message on (its own messages
// and everything delivered after them, which cannot be released either)
// reached max_bytes and that message waited spill_after, its queued messages
// are copied out of the log into the process's memory, up to
// spill_max_bytes of copies, and the log is
// released past them: a program that sends without dispatching (corosync's
// programs retry CS_ERR_TRY_AGAIN in a loop) holds memory, as its queue
// under corosync would, instead of every sender's room. Beyond that, a
// handle whose oldest pinned message has also waited max_age is evicted.
// Both must hold, so a handle that is slow but keeps dispatching, or one
// that holds a message in a quiet cluster, is never evicted. max_bytes
// zero: neither; max_age zero: no eviction.
struct EvictionLimits {
  std::uint64_t max_bytes = 0;
  std::chrono::milliseconds max_age{0};
  std::uint64_t spill_max_bytes = 0;
  // Short: the copies are for a handle that waits on something else, not
  // for one that dispatches a moment later.
  std::chrono::milliseconds spill_after{100};
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  // A node without a ring yet: attach() one, whose round callback is
  // round_callback().
  static std::shared_ptr<Node> create();
  runtime::RoundCallback round_callback();
  // startup_window: how long the first sessions may wait for the node to
  // settle (wait_settled); zero: they never wait.
  void attach(std::unique_ptr<runtime::RingTransport> transport,
              std::chrono::milliseconds startup_window = std::chrono::milliseconds(0));
  // node_startup.cpp. Returns once the node is settled: operational in a
  // ring that holds every node it has a live link to, with that ring's sync
  // done; or once the startup window after attach() ended (logged). A
  // process that starts on a running cluster is so merged into its ring
  // before its first handle opens, and that handle's join and sends do not
  // meet the merge. From then on it returns at once.
  void wait_settled();

  // The node new sessions use: the calling thread's Override when one is
  // set (tests run several nodes in one process), else the process's node,
  // started from the cluster file on first use and kept until exit.
  static cpg::Result<std::shared_ptr<Node>> current();
  // The calling thread has an Override: its handles are embedded.
  static bool overridden() noexcept;
  // The process's node (started on first use); see process_node.cpp.
  static cpg::Result<std::shared_ptr<Node>> process_node();
  class Override {
   public:
    explicit Override(std::shared_ptr<Node> node);
    ~Override();
    Override(const Override&) = delete;
    Override& operator=(const Override&) = delete;

   private:
    std::shared_ptr<Node> previous_;
  };

  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  std::uint32_t node_id() const noexcept { return node_id_; }
  // The pid of sessions opened without one: this process's.
  std::uint32_t pid() const noexcept { return pid_; }
  std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
  // The largest message a send accepts (totem.max_fragmented_message_bytes);
  // above max_message_bytes() it is sent in fragments (node_fragments.cpp).
  std::uint64_t max_fragmented_bytes() const noexcept { return max_fragmented_bytes_; }
  // Before attach(); every member of a cluster must use the same value.
  void set_max_fragmented_bytes(std::uint64_t bytes);
  runtime::RingTransport& transport() noexcept { return *transport_; }

  // --- Sessions (called by Session; the node keeps raw pointers, a session
  // unregisters before it dies).
  // initial_ring: queue the ring it starts in as its first event
  // (CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF), before any event after it.
  void add_session(Session* session, bool initial_ring);
  void remove_session(Session* session);
  // Whether `group` (or a group with the same key) is joined or being
  // joined by a session of process `pid` other than `except`.
  bool group_taken(std::string_view group, std::uint32_t pid, const Session* except) const;
  // What the ring would answer to a join of `group` by process `pid`, as far
  // as the table this node has delivered tells (the table is the same at
  // every member): CS_ERR_NO_RESOURCES beyond a bound, CS_ERR_TRY_AGAIN
  // while an evicted handle's finalize for that key and pid is still to go
  // out.
  cpg::Status join_check_locked(std::string_view group, std::uint32_t pid) const;
  RingEvent ring_event() const;

  // Submits a control record (join, leave, finalize) of session `session_id`
  // of process `pid`. try_again passes up unless wait_for_room.
  cpg::Status submit_control(std::uint64_t session_id, std::uint32_t pid,
                             groups::GroupMessageKind kind, std::string_view group,
                             bool wait_for_room);
  // A message of process `pid` (its sender in every member's delivery).
  cpg::Status send(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                   std::span<const std::span<const std::byte>> pieces);

  std::vector<Member> members_of(std::string_view group) const;
  std::vector<cpg_iteration_description_t> describe_groups(cpg_iteration_type_t type,
                                                           std::string_view group) const;

  // --- Zero-copy buffers.
  // CS_ERR_NO_MEMORY at the pool's bound. A buffer of owner (a session id;
  // 0: nobody's, the C++ API's RAII buffers) is freed by zcb_free_owned(owner)
  // unless zcb_free() freed it first.
  cpg::Result<void*> zcb_alloc(std::size_t bytes, std::uint64_t owner = 0);
  cpg::Status zcb_free(void* buffer);
  void zcb_free_owned(std::uint64_t owner);
  // The bound on registered zero-copy memory and what raises it (named when
  // an allocation is refused there); before the first zcb_alloc. Default:
  // config::default_zero_copy_max_bytes().
  void set_zero_copy_limit(std::uint64_t max_bytes, std::string hint);
  // Returns once the send is queued. Below the crossover (set_zcb_copy_below)
  // and above the atomic size the bytes are copied and the buffer is free on
  // return; otherwise it is in flight until the NIC has read it (zcb_wait).
  cpg::Status send_zero_copy(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                             void* buffer, std::size_t bytes);
  // The same from `pool` (PoolRef{}: the node's own pool).
  cpg::Status send_zero_copy(const PoolRef& pool, std::uint32_t pid, std::string_view group,
                             Guarantee guarantee, void* buffer, std::size_t bytes);
  // Whether a zero-copy send of `bytes` is copied (below the crossover and
  // within the atomic size) rather than read by the NIC from the buffer.
  bool zcb_copies(std::size_t bytes) const noexcept {
    return bytes <= max_message_bytes_ && bytes < zcb_copy_below_bytes_;
  }
  // --- Pools that are not the node's own (node_pools.cpp): ringcastd's pool
  // over one client's shared segment. The node ends their sends (on_round)
  // and calls on_done after each round that ended any (on the transport's
  // thread, no lock held: it should only wake someone). CS_ERR_NO_RESOURCES
  // when kMaxAttachedPools are attached, CS_ERR_INVALID_PARAM when the pool
  // allows more sends in flight than its tags can carry.
  cpg::Result<PoolRef> attach_pool(std::shared_ptr<zcb::ZeroCopyPool> pool,
                                   std::function<void()> on_done);
  // The owner is done with the pool (it freed its buffers): the node keeps it
  // until its last send ended; reap_pools() (or the node's end) destroys it.
  void detach_pool(const PoolRef& pool);
  // Destroys the detached pools with no send in flight (their regions are
  // deregistered here, on the caller's thread); returns how many remain.
  std::size_t reap_pools();
  std::size_t attached_pools() const;
  // What every pool over foreign memory may register together: the node's
  // zero-copy limit (set_zero_copy_limit, else the default), made on first use.
  std::shared_ptr<zcb::RegisteredBudget> attached_budget();
  // totem.zcb_copy_below_bytes; before the first send.
  void set_zcb_copy_below(std::uint32_t bytes) noexcept { zcb_copy_below_bytes_ = bytes; }
  bool zcb_in_flight(const void* buffer);
  cpg::Status zcb_wait(const void* buffer);

  // The group table's bounds (tests make them small); before the first
  // session.
  void set_group_limits(groups::GroupLimits limits);
  // Before the first session; max_bytes is raised to the largest message
  // (a handle must be able to hold one).
  void set_eviction_limits(EvictionLimits limits);

  // A session dispatched a message: unpin it; what nobody holds is released
  // now once enough waits, else by the transport's next round.
  void unpin(Session& session, std::uint64_t seq);
  void release_unpinned();
  // A client of ringcastd released the session's messages held by reference
  // through `id` (Session::release_held_locked); the log is released as
  // after unpin.
  HeldRelease release_held(Session& session, std::uint64_t id);

  Counters counters() const;
  // The node left the ring for good (node_evict.cpp): every handle's
  // dispatch returns left_status() once its queue is empty.
  bool has_left() const noexcept { return left_.load(std::memory_order_acquire); }
  cpg::Status left_status() const;
  bool flow_control_enabled();
  // Quorum from the ring's nodes and the cluster file's votes (quorum_*).
  QuorumTracker& quorum() noexcept { return quorum_; }
  std::mutex& mutex() const noexcept { return mutex_; }

 private:
  Node() = default;
  void on_round(runtime::EventSource& events);
  bool settled_now();
  void log_unsettled();
  void on_change(const runtime::TransportConfiguration& change);
  // node_sync.cpp: regular configurations, the announces, the sync.
  void apply_regular(const runtime::TransportConfiguration& change);
  void on_announce(const groups::GroupMessage& message, groups::GroupMember sender);
  bool from_unannounced_locked(std::uint32_t node) const;
  bool sync_blocks_locked(groups::GroupMessageKind kind) const;
  void end_sync_locked();
  void finish_sync_locked();
  void run_announcer();
  void announce(runtime::TransportRingId ring);
  bool submit_announce(const groups::GroupMessage& message, std::uint32_t pid,
                       runtime::TransportRingId ring);
  void on_delivery(const runtime::TransportMessage& d, std::uint64_t index);
  void on_control(const runtime::TransportMessage& d);
  void on_data(const runtime::TransportMessage& d, std::uint64_t index);
  // record_bytes: the payload size of the record delivered now (the last
  // fragment's, for a message in fragments), for the eviction bound.
  void deliver_data_locked(groups::GroupMember sender, std::uint32_t key, std::byte* payload,
                           std::size_t bytes, std::shared_ptr<std::vector<std::byte>> assembled,
                           std::uint64_t index, std::size_t record_bytes);
  // A zcb buffer sent in fragments: the NIC reads each slice from it.
  struct ZeroCopySource {
    zcb::ZeroCopyPool* pool = nullptr;
    std::uint32_t pool_number = 0;  // carried in its sends' tags
    void* buffer = nullptr;
    fabric::Segment whole;  // the buffer's bytes in its registered region
  };
  // node_fragments.cpp: messages above the ring's atomic size; the slices
  // come from `pieces` (copied at submit) or, when set, from `zero_copy`.
  cpg::Status send_fragmented(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                              std::span<const std::span<const std::byte>> pieces,
                              std::uint64_t total, const ZeroCopySource* zero_copy = nullptr);
  std::uint64_t start_own_large_message(std::uint32_t pid);
  void end_own_large_message_locked(std::uint32_t pid);
  cpg::Status submit_fragment(const runtime::OutgoingTransportMessage& m,
                              std::chrono::steady_clock::time_point give_up);
  cpg::Status wait_own_large_message(std::uint32_t pid);
  // node_zero_copy.cpp: one fragment's slice read from a zcb buffer.
  cpg::Status submit_zero_copy_fragment(const ZeroCopySource& source,
                                        runtime::OutgoingTransportMessage m, std::uint64_t offset,
                                        std::size_t slice,
                                        std::chrono::steady_clock::time_point give_up);
  cpg::Status send_zero_copy_fragmented(const PoolRef& pool, std::uint32_t pid,
                                        std::string_view group, Guarantee guarantee, void* buffer,
                                        std::size_t bytes);
  // node_zero_copy.cpp: a zero-copy send that is copied instead.
  cpg::Status send_zero_copy_copied(zcb::ZeroCopyPool& pool, std::uint32_t pid,
                                    std::string_view group, Guarantee guarantee, void* buffer,
                                    std::size_t bytes);
  void on_fragment(const runtime::TransportMessage& d, std::uint64_t index);
  void note_abandoned_locked();
  void queue_ring_change_locked();
  void queue_view(const groups::GroupViewChange& change, Session* leaver);
  void refuse_join_locked(Session& session, const groups::Ignored& why);
  // Whether `pid` is one this node acts for now: its own, a session's, or
  // an evicted session's whose finalize is still to go out.
  bool local_pid_locked(std::uint32_t pid) const;
  // The delivered control from (node_id_, pid) is the front of own_controls_.
  bool own_control_locked(groups::GroupMember sender) const;
  // The session that submitted the delivered control of ours at the front
  // (null when it closed since), popped.
  Session* take_own_control_locked(groups::GroupMessageKind kind);
  Session* session_by_id(std::uint64_t id) const;
  std::uint64_t release_frontier() const;
  std::uint64_t release_mark_locked() const;
  // After an unpin: the index to release through now (batched), or 0.
  std::uint64_t batched_release_locked();
  // node_evict.cpp.
  void evict_stalled_locked();
  // Whether it copied any: the session's oldest pin changed.
  bool spill_locked(Session& session, std::uint64_t held_bytes);
  void on_left_locked(std::uint64_t unsent);
  void evict_locked(Session& session, std::uint64_t held_bytes, std::chrono::milliseconds age);
  void run_evictor();
  zcb::ZeroCopyPool* pool();
  // node_pools.cpp: ends the send of a ring tag in its pool; a detached pool's
  // on_done is not called.
  using Woken = std::vector<std::pair<std::uint32_t, std::function<void()>>>;
  void end_zero_copy_send_locked(std::uint64_t tag, Woken& woken);

  mutable std::mutex mutex_;
  std::unique_ptr<runtime::RingTransport> transport_;
  std::uint32_t node_id_ = 0;
  std::uint32_t pid_ = 0;
  std::size_t max_message_bytes_ = 0;
  groups::GroupTable table_;
  std::vector<Session*> sessions_;
  std::uint64_t next_session_id_ = 1;
  // This node's control records in submission order, whichever pid sent
  // them. The ring delivers a node's records in the order it submitted them,
  // so the front is always the next of ours to come back: that is how a
  // delivered join or leave finds its session, even when an earlier handle
  // of the process used the same group name (the record itself only names
  // (node, pid)).
  struct OwnControl {
    std::uint64_t session = 0;
    std::uint32_t pid = 0;
    groups::GroupMessageKind kind = groups::GroupMessageKind::join;
  };
  std::deque<OwnControl> own_controls_;
  std::mutex control_mutex_;  // one control submit at a time: keeps own_controls_ in ring order
  // The last regular configuration delivered (the totem confchg's ring).
  std::optional<RingEvent> ring_;
  std::vector<std::uint32_t> members_;  // of that configuration
  std::vector<std::uint32_t> side_;     // the transitional one since: who goes on with us
  QuorumTracker quorum_;

  // The sync after a configuration that brought nodes together: every node
  // of the new ring announces its processes' groups (announce records, then
  // announce_done), in the ring's order. Records of a node whose groups we
  // lack (unknown) are skipped; announces are held. The sync ends with the
  // last node's announce_done, at the same point of the stream everywhere:
  // the held announces are applied there (NODEUP).
  struct Sync {
    runtime::TransportRingId ring;
    std::vector<std::uint32_t> awaiting;  // nodes whose announce_done is still to come
    std::vector<std::uint32_t> unknown;   // of those, the ones whose groups we lack
    std::vector<std::pair<groups::GroupMember, std::string>> held;  // announces until their done
    bool announced = false;                                         // ours is out (or going out)
  };
  std::optional<Sync> sync_;
  std::atomic<bool> sync_blocks_data_{false};
  std::uint64_t sync_skipped_ = 0;     // records of unknown nodes, skipped
  std::uint64_t announces_stale_ = 0;  // of another ring, or beyond the bounds
  // Shared by a session's submit, exclusive for our announce: no record of
  // ours falls between the announce's first record and its announce_done.
  std::shared_mutex gate_;
  std::thread announcer_;  // submits our announce (not from on_round: the transport's lock)
  std::condition_variable announce_wake_;
  bool stopping_ = false;
  // The start-up wait (wait_settled): one caller polls at a time.
  std::mutex settle_mutex_;
  std::atomic<bool> settled_{true};
  std::chrono::steady_clock::time_point settle_deadline_;
  std::uint64_t highest_delivered_ = 0;  // event index
  std::uint64_t released_ = 0;
  // The log bytes delivered before the oldest record still held at the last
  // release (release_mark_locked). A dispatcher releases through the
  // transport's lock only once this many records or bytes wait (unpin).
  std::uint64_t release_mark_ = 0;
  static constexpr std::uint64_t kReleaseBatchRecords = 32;
  static constexpr std::uint64_t kReleaseBatchBytes = 64u << 10;
  std::uint64_t control_invalid_ = 0;

  // Messages in fragments. One large send of a pid at a time, so that a
  // sender's fragments never interleave (a pid's others wait in
  // start_own_large_message), and at most as many pids at once as the
  // assemblers keep in progress for one node; a send returns once its own
  // node assembled the message (CS_OK) or gave it up (CS_ERR_TRY_AGAIN: a
  // configuration change brought nodes in meanwhile), so that a CS_OK is a
  // message every member delivers.
  std::uint64_t max_fragmented_bytes_ = std::uint64_t{64} << 20;
  groups::FragmentAssembler assembler_{max_fragmented_bytes_};
  std::uint64_t next_message_id_ = 1;  // under mutex_
  enum class LargeState : std::uint8_t { pending, delivered, abandoned };
  struct OwnLargeMessage {
    std::uint64_t id = 0;
    LargeState state = LargeState::pending;
  };
  std::unordered_map<std::uint32_t, OwnLargeMessage> own_large_;  // by pid, under mutex_
  // A message of ours assembled or given up: its sender's outcome.
  void own_large_outcome_locked(groups::GroupMember sender, std::uint64_t id, LargeState state);
  std::condition_variable large_done_;
  std::uint64_t large_messages_sent_ = 0;
  std::uint64_t zero_copy_sends_ = 0;
  std::uint64_t zero_copy_bytes_copied_ = 0;       // of zero-copy sends that were copied
  std::uint64_t zero_copy_bytes_from_buffer_ = 0;  // read by the NIC from the buffer
  std::uint32_t zcb_copy_below_bytes_ = config::kDefaultZcbCopyBelowBytes;
  std::condition_variable zero_copy_done_;

  // Eviction (node_evict.cpp).
  EvictionLimits eviction_;
  std::uint64_t log_bytes_delivered_ = 0;  // record spans delivered, ever
  // When the current round began; read once per round, only while eviction
  // is on (a clock read per message would cost more).
  std::chrono::steady_clock::time_point round_now_;
  std::uint64_t handles_evicted_ = 0;
  std::uint64_t messages_spilled_ = 0;
  std::uint64_t bytes_copied_on_spill_ = 0;
  LogLimiter spill_log_;  // a stalled handle spills each round: bounded lines
  std::uint64_t joins_refused_ = 0;
  // The finalizes of evicted sessions, sent by evictor_ (not from on_round:
  // the transport's lock; not by the announcer: a finalize waits out a sync
  // that needs our announce).
  struct Eviction {
    std::uint64_t session = 0;
    std::uint32_t pid = 0;
    std::string group;
  };
  std::deque<Eviction> evictions_;
  std::atomic<bool> left_{false};
  std::uint64_t unsent_on_leave_ = 0;
  std::condition_variable evict_wake_;
  std::thread evictor_;

  // The zero-copy pool, made on first use under zcb_mutex_; on_round reads
  // pool_ptr_ without that lock.
  std::mutex zcb_mutex_;
  std::unique_ptr<zcb::ZeroCopyPool> pool_;
  std::atomic<zcb::ZeroCopyPool*> pool_ptr_{nullptr};
  cpg::Status pool_error_;
  std::uint64_t zero_copy_max_bytes_ = 0;  // 0: the default
  std::string zero_copy_limit_hint_ = "rdma.zero_copy_max_bytes (default: RLIMIT_MEMLOCK)";
  // Live buffers with an owner, by address. Held across the pool's free, so
  // a buffer freed twice at once (by the application and by its handle's
  // finalize) is freed once and never after another thread got it again.
  std::mutex owners_mutex_;
  std::unordered_map<void*, std::uint64_t> zcb_owners_;
  // Attached pools by number (1..kMaxAttachedPools), under mutex_.
  struct AttachedPool {
    std::shared_ptr<zcb::ZeroCopyPool> pool;
    std::function<void()> on_done;
    bool detached = false;
  };
  std::map<std::uint32_t, AttachedPool> attached_;
  std::shared_ptr<zcb::RegisteredBudget> attached_budget_;  // under zcb_mutex_
  std::uint32_t next_pool_number_ = 1;
};

}  // namespace ringcast::client
