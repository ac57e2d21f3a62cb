// The ring's state machine (sans I/O): one member of a Totem single ring
// whose records and token travel as RDMA writes.
//
// Events in: start, submit, completions (records landed, token arrived, wake,
// write done, failures), release, tick(now). Actions out, drained by the
// caller: chains of writes per destination (pending_chain / chain_posted),
// deliveries in total order (next_delivery), zero-copy sources free again
// (next_zero_copy_done), and the time it wants to be called again
// (next_deadline_ns). It never sleeps, reads a clock or touches a link; it
// only reads and writes the registered memory it was given.
//
// docs/protocol.md states the protocol and the invariants this code keeps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "ring/flow_control.hpp"
#include "ring/outbox.hpp"
#include "ring/receive_log.hpp"
#include "ring/ring_config.hpp"
#include "ring/ring_id.hpp"
#include "ring/send_queue.hpp"
#include "ring/token.hpp"
#include "ring/zero_copy_tracker.hpp"

namespace ringcast::ring {

inline constexpr std::uint64_t kNever = UINT64_MAX;

// Index of each region in the ConnectInfo every member advertises.
inline constexpr std::uint8_t kLogRegion = 0;
inline constexpr std::uint8_t kMailboxRegion = 1;

// Local-only staging: the outgoing token copies, then 64 bytes: the wake word
// (8 bytes) and, 32 bytes in, this member's repair request.
constexpr std::size_t staging_bytes(const RingConfig& c) noexcept {
  return c.token_staging_slots * kTokenSlotBytes + 64;
}

// The registered memory a member needs; the driver allocates it.
struct LocalMemory {
  const fabric::MemoryRegion* log = nullptr;          // remote_write, log_bytes
  const fabric::MemoryRegion* mailbox = nullptr;      // remote_write, mailbox_bytes()
  const fabric::MemoryRegion* send_buffer = nullptr;  // local, send_buffer_bytes
  const fabric::MemoryRegion* staging = nullptr;      // local, staging_bytes()
};

// Where a ring starts. The first ring of a process starts at position 0 with
// nothing held; a ring formed by membership continues the global positions of
// the rings before it (docs/protocol.md "Membership"): its seq 1 goes at
// base_position, and each member may still hold older records from its
// released position on, which the representative's first token carries so
// that the space rule protects them.
struct RingStart {
  std::uint64_t base_position = 0;
  std::uint64_t my_released_position = 0;  // <= base_position
  // Per member (ring order), for the representative's first token; empty: all
  // at base_position.
  std::vector<std::uint64_t> member_released;
  // Tells this ring's work requests from those of the rings before it.
  std::uint8_t generation = 0;
};

struct RingCounters {
  std::uint64_t tokens_received = 0;
  std::uint64_t tokens_passed = 0;
  std::uint64_t tokens_dropped = 0;  // stale, duplicate or invalid
  TokenFault last_token_fault = TokenFault::none;
  std::uint64_t token_holds = 0;  // visits that kept an idle ring's token
  std::uint64_t busy_holds = 0;   // visits that sent and kept the token for more local work
  std::uint64_t wakes_sent = 0;
  std::uint64_t wakes_received = 0;
  std::uint64_t imm_dropped = 0;  // immediates of unknown kind or argument
  std::uint64_t visits = 0;
  std::uint64_t records_sent = 0;
  std::uint64_t visits_space_limited = 0;  // stopped by the space rule
  // Visits stopped because this member's own log refused the seq or the
  // position the token gave (a forged or corrupted token: an honest ring
  // never does).
  std::uint64_t placements_refused = 0;
  std::uint64_t visits_outbox_limited = 0;  // a destination's outbox was full
  std::uint64_t catch_up_waits = 0;         // tokens kept until this member had every seq before it
  // Busy holds that waited for a local resource (a destination's outbox, the
  // zero-copy table) instead of passing the token for want of it.
  std::uint64_t busy_hold_waits = 0;
  std::uint64_t tokens_retransmitted = 0;  // passed tokens written again (token_retransmit_ns)
  // Tokens, wakes and batches refused because they came on a link other than
  // the one their kind may come on (also counted as dropped by kind).
  std::uint64_t writes_wrong_link = 0;
  // Repair (docs/protocol.md "Repair").
  std::uint64_t repairs_requested = 0;  // requests this member sent for a stalled log
  std::uint64_t repairs_received = 0;   // repairs that let its delivery go on
  std::uint64_t repairs_served = 0;     // records runs it wrote again for others
  std::uint64_t repairs_refused = 0;    // requests its own copy could not serve
  // Relay (docs/protocol.md "Relay").
  std::uint64_t records_relayed = 0;  // others' records this member forwarded to its successor
  std::uint64_t relay_waits = 0;      // forwards that waited for room in the successor's outbox
};

// How long a log whose record failed here waits before it asks for it again
// (and at least between two requests), and how often it asks each holder
// before it gives up (then membership forms a new ring, whose recovery writes
// the records again from a member that holds them). A seq only missing is
// never asked for: its write is on its way (repair.cpp).
inline constexpr std::uint64_t kRepairAfterNs = 1'000'000;
inline constexpr std::uint32_t kRepairRoundsPerMember = 2;
// Most a repair writes at once (its first record whatever its size).
inline constexpr std::uint32_t kRepairMaxRecords = 64;
inline constexpr std::uint64_t kRepairMaxBytes = 256u << 10;

class RingState {
 public:
  // The config must have passed validate(); the memory must match it.
  RingState(const RingConfig& config, RingMembership membership, const LocalMemory& memory,
            const RingStart& where = {});
  RingState(const RingState&) = delete;
  RingState& operator=(const RingState&) = delete;

  // The representative (members[0]) creates the first token.
  void start(std::uint64_t now_ns);

  // --- Events.
  // Errc::try_again when the queue or the send buffer is full, Errc::too_big,
  // Errc::invalid_argument (bad zero-copy segment), Errc::link_failed once
  // the ring failed.
  Status submit(const OutgoingMessage& message);
  void on_completion(const fabric::Completion& completion, std::uint64_t now_ns);
  // A post on the link to `member` failed for good.
  void on_link_failed(std::size_t member, const Error& error);
  // The application is done with every delivered record up to seq.
  Status release_through_seq(std::uint64_t seq);
  // The application released more of the older rings' records (membership).
  void release_inherited(std::uint64_t position) noexcept {
    const std::uint64_t before = log_.released_position();
    log_.release_inherited(position);
    if (log_.released_position() != before) solo_dirty_ = true;  // space may be free now
  }

  // --- Membership.
  // Stops the ring for good: no more visits, tokens or wakes; chains not yet
  // posted are dropped (their signaled writes count as finished). Records
  // still land (recovery needs them); submit() still queues for adopt_queue().
  void freeze() noexcept;
  bool frozen() const noexcept { return frozen_; }
  // A signaled write of this ring finished without a write_done (flushed by
  // a failed link): its staging slot and zero-copy entry are free.
  void on_write_finished(std::uint64_t wr_id) noexcept { on_write_done(wr_id); }
  // Takes over the other ring's queued (not yet sent) messages, in order.
  void adopt_queue(RingState& from) noexcept { std::swap(queue_, from.queue_); }
  ReceiveLog& mutable_log() noexcept { return log_; }
  // This ring's first token reached this member (or it created it).
  bool token_seen() const noexcept { return last_token_seq_ > 0; }
  // Every member has seen the token this member holds or held last: the
  // representative makes it with token_seq 1 and each pass adds 1, so in the
  // first rotation member k holds token_seq k + 1 and members 0..k have seen
  // it. Nobody holds the token before (docs/protocol.md "Busy hold"): a
  // member installs a ring formed by membership when its first token
  // arrives, and a hold on the way would delay that.
  bool token_seen_by_all() const noexcept { return token_.token_seq >= membership_.size(); }
  std::uint8_t generation() const noexcept { return start_.generation; }
  // Visits whose zero-copy sources the NIC may still read.
  std::uint32_t zero_copy_in_use() const noexcept { return zero_copy_.in_use(); }
  // Forwards posted and not completed yet: a frozen ring's may still land,
  // so its member is not ready for the next ring until they did.
  std::uint32_t forwards_in_flight() const noexcept { return forwards_in_flight_; }
  // Relayed batches landed here and not forwarded yet.
  std::size_t relays_pending() const noexcept { return relay_queue_.size(); }
  // Lets the state machine act on time and queued work; true when it did
  // (visited with the token, or sent wakes).
  bool tick(std::uint64_t now_ns);

  // --- Actions.
  std::span<const fabric::WriteOp> pending_chain(std::size_t member) const noexcept {
    return outbox_.front(member);
  }
  void chain_posted(std::size_t member) noexcept { outbox_.pop(member); }
  std::optional<Delivery> next_delivery() noexcept { return log_.next_delivery(safe_up_to_); }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept;
  // When tick() wants to run next: 0 for at once, kNever for "only on an event".
  std::uint64_t next_deadline_ns() const noexcept;

  // --- State, for drivers, tests and the oracle.
  const RingMembership& membership() const noexcept { return membership_; }
  const RingConfig& config() const noexcept { return config_; }
  const ReceiveLog& log() const noexcept { return log_; }
  const SendQueue& send_queue() const noexcept { return queue_; }
  const Outbox& outbox() const noexcept { return outbox_; }
  const RingCounters& counters() const noexcept { return counters_; }
  bool holds_token() const noexcept { return token_in_hand_; }
  bool holding_idle() const noexcept {
    return token_in_hand_ && idle_at_arrival_ && queue_.empty();
  }
  // Kept the token after a visit that sent, for more local work.
  bool holding_busy() const noexcept { return token_in_hand_ && keeping_; }
  std::uint64_t safe_up_to() const noexcept { return safe_up_to_; }
  bool failed() const noexcept { return failed_; }
  const Error& failure() const noexcept { return failure_; }
  // Delivery is stalled at a record no member wrote again in time: every
  // member that held it was asked kRepairRoundsPerMember times. Membership
  // then forms a new ring; a ring on its own fails (fail_unrepaired).
  bool repair_exhausted() const noexcept { return repair_.exhausted; }
  void fail_unrepaired();

  // --- Repair answers (repair.cpp). A holder answers every request with
  // exactly one write on the asker's link: the records, or none (a refusal).
  // The answer to the request from member `from` (in the request's slot of
  // this member's repair area), or nothing when the request is not from that
  // member of this ring.
  std::optional<fabric::WriteOp> repair_answer(std::uint32_t from, fabric::NodeId peer);
  // The answer to a request whose ring this member no longer runs.
  static fabric::WriteOp repair_refusal() noexcept;
  // This member waits for the answer of `node` (membership routes answers to
  // the ring that asked: a link carries them in the order it carried the
  // requests).
  bool awaits_answer_from(fabric::NodeId node) const noexcept {
    return awaited_.pending && membership_.members[awaited_.from] == node;
  }
  bool awaits_answer() const noexcept { return awaited_.pending; }
  std::uint64_t answer_hold() const noexcept { return awaited_.hold; }
  // The link to `node` failed: nothing more lands from it, its answer
  // included.
  void forget_answer_from(fabric::NodeId node) noexcept {
    if (awaits_answer_from(node)) awaited_ = Awaited{};
  }
  // Membership: an older ring of this member still waits for an answer that
  // may write from this position on; this ring reports no release beyond it.
  void set_release_cap(std::uint64_t position) noexcept { release_cap_ = position; }
  // The released position this member reports on the token (and to a new
  // ring): its log's, but none of the bytes an awaited answer may still
  // write (a late answer must never land on a record placed after a release).
  std::uint64_t released_for_peers() const noexcept {
    std::uint64_t r = std::min(log_.released_position(), release_cap_);
    return awaited_.pending ? std::min(r, awaited_.hold) : r;
  }

 private:
  struct Batch {
    std::uint32_t records = 0;
    std::uint64_t last_offset = 0;  // log offset of the batch's last record
    std::optional<std::uint32_t> zero_copy_entry;
    std::size_t ops = 0;        // writes in batch_ops_
    bool run_open = false;      // the last write is a run of copied records
    std::uint64_t run_end = 0;  // position where that run ends
    std::uint64_t bytes = 0;    // log bytes of its records
    bool relayed = false;       // written to the successor only (relay.cpp)
  };
  // A relayed batch this member forwards once it received all of it, or
  // (first_seq 0) the immediate of one it refused.
  struct Forward {
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::uint32_t imm = 0;
  };

  void on_imm(const fabric::Completion& c, std::uint64_t now_ns);
  void on_token_imm(std::uint32_t imm, fabric::NodeId from, std::uint64_t now_ns);
  void on_wake_imm(const fabric::Completion& c) noexcept;
  TokenFault check_token_against_me(const Token& t) const noexcept;
  void on_write_done(std::uint64_t wr_id) noexcept;
  void fail(Error error);

  // relay.cpp: batches written to the successor only, forwarded by each
  // member to its own.
  bool relays(const Batch& batch) const noexcept;
  void on_records_imm(const fabric::Completion& c);
  bool forward_relayed();
  void post_forward(std::span<fabric::WriteOp> ops, std::size_t n, std::uint32_t imm);
  bool forward_due() const noexcept;

  // repair.cpp: a stalled log asks another member for the record again; a
  // member whose copy checks writes it again.
  struct Repair {
    bool watching = false;  // the log is stalled (or may be) since since_ns
    std::uint64_t since_ns = 0;
    std::uint64_t mark = 0;         // the seq it stalls at: a new one starts over
    bool failed = false;            // it failed here (not only on its way)
    std::uint64_t next_ask_ns = 0;  // the next request (or giving up) is due then
    std::uint32_t attempts = 0;
    bool exhausted = false;
    std::uint64_t drops = 0;  // records_dropped when it was found failed
  };
  // The one request whose answer is still to land: until it has, the bytes
  // from `hold` on may still be written by it, so this member reports no
  // release beyond them.
  struct Awaited {
    bool pending = false;
    std::size_t from = 0;  // the holder's member index
    std::uint64_t hold = 0;
  };
  // Stalled: delivery stopped at a record that failed, or this member lacks
  // seqs the token says exist (a batch it dropped, or one still on its way).
  bool stall_suspected() const noexcept {
    if (frozen_ || failed_ || membership_.size() == 1) return false;
    return log_.stuck() || log_.received_up_to() < token_.highest_seq;
  }
  bool failed_here() const noexcept;
  void watch_repair(std::uint64_t now_ns);
  void ask_repair(std::uint64_t now_ns);
  std::uint64_t repair_deadline_ns() const noexcept;
  void on_repair_request(std::uint32_t from, fabric::NodeId peer);
  void answer_owed_repairs();
  void on_repaired(std::uint32_t records, fabric::NodeId peer);

  void accept_token(std::uint64_t now_ns) noexcept;
  bool should_hold(std::uint64_t now_ns) const noexcept;
  bool may_keep(std::uint64_t now_ns) const noexcept;
  bool nobody_else_needs_token() const noexcept;
  bool kept_visit_blocked() const noexcept;
  void post_records(const Batch& batch);
  bool advance(std::uint64_t now_ns);
  void visit(std::uint64_t now_ns);
  void absorb_progress() noexcept;
  bool every_destination_has_room() const noexcept;
  void place_batch(std::uint32_t allowed, Batch* batch);
  void place_one(const QueuedMessage& m, std::uint64_t position, Batch* batch);
  void append_write(const QueuedMessage& m, std::uint64_t position, Batch* batch);
  std::optional<std::uint32_t> free_staging_slot() const noexcept;
  void pass_token(const Batch& batch, std::uint64_t now_ns);
  std::size_t fill_chain(std::size_t member, const Batch& batch, std::span<fabric::WriteOp> ops,
                         std::optional<std::uint32_t> staging_slot,
                         std::size_t token_bytes) const noexcept;
  bool maybe_wake(std::uint64_t now_ns);
  std::uint64_t token_deadline_ns() const noexcept;
  bool maybe_retransmit(std::uint64_t now_ns);
  // Not when the token this member passed last carries a backlog of its own:
  // then nobody holds it (no idle hold with a backlog, no busy hold with
  // another's) and it comes straight back; under load a wake per rotation
  // would only cost every member a post and a wake-up.
  bool wake_due() const noexcept {
    return !queue_.empty() && !token_in_hand_ && !wake_sent_ && flow_.my_last_backlog() == 0;
  }
  // The token names seqs that have not all landed here yet (docs/protocol.md
  // "Catching up"): this member places nothing until they have.
  bool behind() const noexcept {
    return membership_.size() > 1 && log_.received_up_to() < token_.highest_seq;
  }

  RingConfig config_;
  RingMembership membership_;
  RingStart start_;
  LocalMemory memory_;
  ReceiveLog log_;
  SendQueue queue_;
  FlowControl flow_;
  Outbox outbox_;
  ZeroCopyTracker zero_copy_;
  std::vector<fabric::WriteOp> batch_ops_;  // this visit's record writes, same for every member
  std::vector<bool> staging_busy_;          // token staging slot in flight

  Token token_;
  bool token_in_hand_ = false;
  std::uint64_t last_token_seq_ = 0;  // newest token accepted
  std::uint64_t safe_up_to_ = 0;      // min received_up_to seen on a token
  std::uint64_t min_released_ = 0;    // min released_position seen on a token

  // Idle detection, from what this member saw at its previous visit.
  std::uint64_t last_visit_highest_ = UINT64_MAX;
  bool last_visit_settled_ = false;  // every member had received everything
  bool idle_at_arrival_ = false;
  std::uint64_t hold_until_ns_ = 0;
  std::uint64_t last_visit_ns_ = 0;
  // A ring of one: something changed since its last visit (a submit, a
  // release, a returned zero-copy entry, or the visit sent and may send more).
  bool solo_dirty_ = true;
  bool wake_pending_ = false;  // a wake arrived since this member's last visit
  bool wake_sent_ = false;     // this member sent a wake since its last visit

  // Busy hold (docs/protocol.md "Busy hold"): the holder keeps the token
  // after a visit that sent while nobody else needs it.
  bool keeping_ = false;
  std::uint64_t passed_safe_up_to_ = 0;  // safe_up_to_ on the token this member last passed
  std::uint64_t safe_everywhere_ = 0;    // every member has seen a token showing this many
  std::uint64_t foreign_seq_ = 0;        // highest seq known placed by another member
  std::uint64_t own_safe_seq_ = 0;       // highest SAFE seq this member placed

  bool waiting_catch_up_ = false;
  bool waiting_resource_ = false;  // a kept token waits for kept_visit_blocked() to clear
  // Token retransmission (config.token_retransmit_ns): armed at a pass.
  bool retransmit_armed_ = false;
  std::uint64_t retransmit_at_ns_ = 0;
  std::uint64_t passed_highest_ = 0;
  Repair repair_;
  Awaited awaited_;
  std::deque<Forward> relay_queue_;  // in landing order: the successor gets them in that order
  bool relay_waiting_ = false;       // the front forward waits for outbox room
  struct Refusal {
    std::uint32_t imm = 0;
    std::uint64_t received = 0;  // received_up_to when it was passed on
  } last_refusal_;
  std::uint32_t forwards_in_flight_ = 0;
  std::uint64_t drops_answered_ = 0;         // records_dropped an answer made up for
  std::vector<std::uint32_t> answers_owed_;  // per member: requests not answered yet (full outbox)
  std::uint64_t answers_owed_total_ = 0;
  std::uint64_t release_cap_ = UINT64_MAX;  // set_release_cap
  bool frozen_ = false;
  bool failed_ = false;
  Error failure_;
  RingCounters counters_;
};

}  // namespace ringcast::ring
