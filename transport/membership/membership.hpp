// Membership: one process's membership in a Totem ring, sans I/O. It runs the
// ring (ring/RingState) and, when the ring breaks, Totem's gather, commit and
// recovery to form a new ring among the members that can still reach each
// other, on the same registered log and mailbox (docs/protocol.md
// "Membership").
//
// Events in: start, submit, completions, link failures, release, tick(now).
// Actions out: chains of writes per node (the running ring's, then
// membership's own), one stream of events in order (messages and
// configuration changes, next_event), zero-copy sources free again, and the
// time it wants to run again. It never sleeps, reads a clock or touches a
// link.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/status_snapshot.hpp"
#include "fabric/fabric.hpp"
#include "membership/membership_config.hpp"
#include "membership/membership_message.hpp"
#include "ring/outbox.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::membership {

// A configuration change, at the same point of the event stream at every
// member that moves from one configuration to the next (extended virtual
// synchrony). A ring's end is announced as a transitional configuration
// (transitional = true; ring = the ring left; members = those of it that go
// on together; left = its other members); the old ring's messages that only
// those members can still deliver follow it; then the new ring as a regular
// configuration (ring = the new ring; left = members of the previous regular
// configuration not in it; joined = members new to this member's view).
struct ConfigurationChange {
  RingId ring;
  std::vector<NodeId> members;
  std::vector<NodeId> left;
  std::vector<NodeId> joined;
  bool transitional = false;
};

struct MemberEvent {
  // A message (change == nullptr) or a configuration change.
  const ConfigurationChange* change = nullptr;  // valid until the next next_event()
  ring::Delivery message;                       // payload valid until released
  RingId ring;                                  // the ring the message was ordered in
  // Messages are numbered 1, 2, 3, ... across rings; release_through takes
  // this number. A configuration change carries the number of the last message.
  std::uint64_t index = 0;
};

enum class Phase : std::uint8_t { operational, gather, commit, left };
const char* phase_name(Phase phase) noexcept;

struct MembershipCounters {
  std::uint64_t reformations = 0;   // rings installed after the first
  std::uint64_t gathers = 0;        // gathers started
  std::uint64_t token_losses = 0;   // gathers started by the token timeout
  std::uint64_t link_failures = 0;  // links seen failing
  std::uint64_t consensus_timeouts = 0;
  std::uint64_t commits_abandoned = 0;
  std::uint64_t control_sent = 0;
  std::uint64_t control_received = 0;
  std::uint64_t control_dropped = 0;  // invalid, or not making sense now
  MembershipMessageFault last_control_fault = MembershipMessageFault::none;
  std::uint64_t control_stale = 0;             // overwritten by a newer one before read
  std::uint64_t control_wrong_link = 0;        // naming a sender other than its link's peer
  std::uint64_t recovery_writes = 0;           // record ranges written to members lacking them
  std::uint64_t records_recovered = 0;         // seqs this member got from a recovery source
  std::uint64_t messages_unsent_on_leave = 0;  // queued when it left the ring for good
  // Gathers started because a record failed its checks here and no member
  // wrote it again (ring/repair.cpp); beyond kMaxUnrepairedGathers it leaves.
  std::uint64_t unrepaired_gathers = 0;
};

// A member whose log keeps failing records no member can write again (its
// memory or NIC is broken, or a peer keeps sending garbage) would form ring
// after ring: after this many it leaves and says why (left_reason()).
inline constexpr std::uint64_t kMaxUnrepairedGathers = 4;

// A ring's delivery stopped at a record that failed its checks here (its
// log's stall counter grew), for the driver's log line.
struct StallNotice {
  RingId ring;
  std::uint64_t seq = 0;  // the seq the log waits for
  ring::RecordFault fault = ring::RecordFault::none;
  // The ring still runs here, so it asks the members that hold the record to
  // write it again; otherwise the ring has ended (or ends now), and only a
  // new ring's recovery brings its records, from copies that check.
  bool running = false;
};

struct MemberMemory {
  ring::LocalMemory ring;                                 // mailbox: mailbox_bytes()
  const fabric::MemoryRegion* control_staging = nullptr;  // local, nodes x kControlSlotBytes
};

// Ring ids name the representative and an epoch, so a node must never name
// two rings with one epoch, in this process or a later one. The keeper
// makes a bound durable (the runtime: a file in the state directory, next
// to the incarnation) before the node names a ring with an epoch up to it;
// false: it could not, and no ring is named. A process starts above the
// bound its node's last one kept (epoch_floor), so the epochs it names are
// new even when its incarnation << 32 lies below epochs it took from peers
// before (a peer's epoch carries the peer's incarnation in its high bits).
using EpochKeeper = std::function<bool(std::uint64_t kept_through)>;
// How far past the epoch it needs a keeper is asked to keep: one durable
// write per this many rings the node names.
inline constexpr std::uint64_t kEpochsKeptAhead = std::uint64_t{1} << 16;

// Where a restarted process's epochs start: above its incarnation's range
// (incarnation << 32, for a node without a state directory) and above every
// epoch its node's keeper kept.
constexpr std::uint64_t epoch_floor(std::uint32_t incarnation, std::uint64_t kept) noexcept {
  const std::uint64_t from_incarnation = std::uint64_t{incarnation} << 32;
  return kept > from_incarnation ? kept : from_incarnation;
}

class Membership {
 public:
  // The configs must have passed validate(); me must be in config.nodes.
  Membership(const ring::RingConfig& ring_config, const MembershipConfig& config, NodeId me,
             const MemberMemory& memory);
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;
  ~Membership();

  // The first ring: `members` (this node among them, in node order), with
  // live links to each. Announced as the first regular configuration. A
  // process that starts later (or restarts) starts alone, with live links to
  // the nodes it reached: `links`; merge detection takes it in.
  // epoch_floor: every gather after the first ring names epochs above it.
  void start(NodeMask members, std::uint64_t now_ns, std::uint64_t epoch_floor = 0);
  // epoch_floor: at or above every ring epoch this node used before
  // (corosync keeps its ring sequence on disk for the same reason): its
  // rings' ids stay new. False: the keeper could not keep the first epoch
  // (nothing started).
  [[nodiscard]] bool start_joining(NodeMask links, std::uint64_t epoch_floor, std::uint64_t now_ns);
  // Before start; without one (tests of a single process) nothing is kept.
  void keep_epochs_with(EpochKeeper keeper) { epoch_keeper_ = std::move(keeper); }

  // --- Events.
  Status submit(const ring::OutgoingMessage& message);
  void on_completion(const fabric::Completion& completion, std::uint64_t now_ns);
  // The link to node index `peer` failed (or a post on it did).
  void on_link_failed(std::size_t peer, std::uint64_t now_ns);
  // A new link to `peer` (after its failure was reported here): a restarted
  // process or a healed partition. The peer is a new sender (its message seqs
  // start again); if it was in the running ring, that ring is over.
  void on_link_up(std::size_t peer, std::uint64_t now_ns);
  Status release_through(std::uint64_t index);
  bool tick(std::uint64_t now_ns);

  // --- Actions. Chains for node index `peer`: first the running ring's, then
  // membership's own; post them in this order and report each posted.
  std::span<const fabric::WriteOp> pending_chain(std::size_t peer) const noexcept;
  void chain_posted(std::size_t peer) noexcept;
  std::optional<MemberEvent> next_event();
  std::optional<std::uint64_t> next_zero_copy_done() noexcept;
  std::uint64_t next_deadline_ns() const noexcept;
  // A node whose link the driver must cut now: it was in this member's ring
  // and is not in the next one. Its writes of the old ring may still be on
  // the wire (a slow or cut-off member is alive); once the link is down none
  // of them can land on records of the rings after it (fencing).
  std::optional<std::size_t> next_disconnect() noexcept;
  // Each stall once, of whichever ring it happened in: the running one, one
  // that ended in the same round (the installed ring changed before anyone
  // looked), or one dropped since. A forming ring's stalls are told once it
  // is installed here, or when it is dropped without running.
  std::optional<StallNotice> next_stall() noexcept;

  // --- State, for drivers, tests and status.
  Phase phase() const noexcept { return phase_; }
  RingId ring_id() const noexcept;
  std::vector<NodeId> ring_members() const;
  const ring::RingState& ring() const noexcept;  // the ring installed last
  const MembershipCounters& counters() const noexcept { return counters_; }
  // Where it stands and its counters, summed over every ring it was in.
  StatusSnapshot status() const;
  std::size_t my_index() const noexcept { return me_; }
  const MembershipConfig& config() const noexcept { return config_; }
  std::size_t generations() const noexcept { return gens_.size(); }
  NodeMask live_links() const noexcept { return link_ok_; }
  // Writes refused for the link they came on, every ring included.
  std::uint64_t writes_wrong_link() const noexcept;
  // Why phase() is left; empty otherwise.
  const std::string& left_reason() const noexcept { return left_reason_; }

 private:
  struct Generation;
  struct JoinSeen {
    bool valid = false;
    NodeMask proc = 0;
    NodeMask fail = 0;
    OldRingInfo info;
  };
  struct Commit {
    RingId ring;
    NodeMask members = 0;
    std::array<OldRingInfo, kMaxNodes> infos{};  // by node index
    // This member's old ring, as the commit decides it.
    NodeMask group = 0;  // members coming from the same ring
    std::size_t source = 0;
    std::uint64_t regular_through = 0;  // delivered by someone in the old configuration
    std::uint64_t through = 0;          // every member of the group delivers up to it
    std::uint64_t end_position = 0;     // where the record after `through` starts
    std::uint64_t base_position = 0;    // the new ring's seq 1
    bool recovered = false;
    NodeMask recovery_written = 0;               // source: peers its recovery writes went to
    NodeMask ready = 0;                          // representative: members that reported ready
    std::array<std::uint8_t, kMaxNodes> turn{};  // per peer: the next of its due messages
    std::array<std::uint8_t, kMaxNodes> sent{};  // per peer: bit per type sent once
  };

  // membership.cpp: completions, routing, time.
  void start_with(NodeMask members, NodeMask links, std::uint64_t epoch, std::uint64_t now_ns);
  // Whether this node may name a ring with `epoch`: kept, or the keeper keeps it now.
  bool may_name(std::uint64_t epoch);
  Generation& installed() noexcept;
  const Generation& installed() const noexcept;
  Generation& newest() noexcept { return *gens_.back(); }
  ring::RingState* sending_ring() const noexcept;
  void route_records(const fabric::Completion& c, std::uint64_t now_ns);
  void on_write_completion(const fabric::Completion& c);
  void watch_token(std::uint64_t now_ns);
  void watch_repair(std::uint64_t now_ns);
  std::uint64_t next_probe_deadline() const noexcept;
  NodeMask mask_of(const ring::RingMembership& m) const;
  std::vector<NodeId> nodes_of(NodeMask m) const;
  std::unique_ptr<Generation> make_generation(NodeMask members, RingId id,
                                              const ring::RingStart& where);

  // Our control writes' work request ids: this tag, then the peer's index.
  static constexpr std::uint64_t kControlWrTag = 0x4D454D42;  // "MEMB"

  // gather.cpp: joins, consensus, commit.
  // send_now = false: the caller merges a join first and sends then (joins
  // that would be outdated at once cost the others a round).
  void enter_gather(std::uint64_t now_ns, bool send_now = true);
  void on_consensus_timeout(std::uint64_t now_ns);
  void on_control(const fabric::Completion& c, std::uint64_t now_ns);
  void drop_control(MembershipMessageFault fault) noexcept;
  void on_join(const MembershipMessage& m, std::uint64_t now_ns);
  bool merge_join(const MembershipMessage& m);
  void sets_changed(std::uint64_t now_ns);
  bool can_merge(const MembershipMessage& m, NodeMask ours) const noexcept;
  bool everyone_installed(const Generation& g) const noexcept;
  void probe_outsiders(std::uint64_t now_ns);
  void check_consensus(std::uint64_t now_ns);
  void assert_gather_sets() const noexcept;
  OldRingInfo my_info() const;
  // `to`: only these peers (a message skipped for a busy slot, sent again).
  void send_joins(std::uint64_t now_ns, NodeMask to = ~NodeMask{0});
  void on_commit(const MembershipMessage& m, std::uint64_t now_ns);
  bool plan_commit(const MembershipMessage& m, Commit* c) const;
  void accept_commit(const Commit& c, std::uint64_t now_ns);
  void abandon_commit();
  void send_control(std::size_t peer, MembershipMessage m, std::span<const fabric::WriteOp> before);

  // recovery.cpp: old records to those lacking them, ready, install.
  void send_commit_messages(std::uint64_t now_ns, NodeMask to = ~NodeMask{0});
  void resend_skipped(std::uint64_t now_ns);
  void send_commit_message(std::size_t peer, MembershipMessageType type);
  void send_recovery(std::size_t peer);
  void on_recovered(const MembershipMessage& m, std::uint64_t now_ns);
  void on_ready(const MembershipMessage& m, std::uint64_t now_ns);
  void check_install(std::uint64_t now_ns);
  // Every forward the frozen ring's relay posted has landed (or its link
  // failed): none can land after the new ring reuses its log positions, so
  // this member may say it is ready.
  bool old_forwards_landed() const noexcept;
  void install(std::uint64_t now_ns);
  void leave(std::uint64_t now_ns, std::string reason);

  // repair_answers.cpp: repair requests and answers, across the rings.
  void on_repair_request(const fabric::Completion& c);
  void answer_repairs(std::size_t peer);
  void route_repair_answer(const fabric::Completion& c, std::uint64_t now_ns);
  void update_release_caps() noexcept;
  void forget_repairs(std::size_t peer) noexcept;

  // stream.cpp: the event stream and releases.
  std::optional<MemberEvent> next_from(Generation& g);
  void drop_released_generations() noexcept;

  ring::RingConfig ring_config_;
  MembershipConfig config_;
  std::size_t me_;
  MemberMemory memory_;
  NodeMask cluster_ = 0;
  NodeMask link_ok_ = 0;
  Phase phase_ = Phase::operational;
  std::deque<std::unique_ptr<Generation>> gens_;  // oldest first; bounded by kMaxGenerations
  std::size_t stream_ = 0;                        // the generation the event stream reads
  std::uint8_t next_generation_ = 0;
  std::uint64_t max_epoch_ = 0;
  EpochKeeper epoch_keeper_;
  std::uint64_t epochs_kept_through_ = 0;  // what the keeper said it kept last
  std::uint64_t next_index_ = 1;
  ConfigurationChange change_;  // the one next_event() returned last

  // Token loss detection (operational).
  std::uint64_t activity_ = 0;
  std::uint64_t last_activity_ns_ = 0;

  std::uint64_t next_probe_ns_ = 0;  // merge detection, by a ring's representative

  // Gather.
  NodeMask proc_ = 0;
  NodeMask fail_ = 0;
  std::array<JoinSeen, kMaxNodes> joins_{};
  std::uint64_t consensus_deadline_ns_ = 0;
  std::uint64_t next_send_ns_ = 0;
  // Commit.
  std::optional<Commit> commit_;
  std::uint64_t commit_deadline_ns_ = 0;

  NodeMask to_disconnect_ = 0;

  // Control writes: one staging slot per peer, busy until its write finished.
  ring::Outbox outbox_;
  std::vector<bool> staging_busy_;
  // Peers a message was skipped for (slot busy): it goes again as soon as
  // the slot frees, not a join interval later (resend_skipped).
  NodeMask skipped_ = 0;
  bool ready_after_forwards_ = false;  // a ready waits for the old ring's forwards
  std::uint64_t message_seq_ = 0;
  std::vector<std::uint64_t> last_seq_seen_;  // per peer: newest message accepted
  // Per peer: the member indexes of its repair requests not answered yet
  // (the outbox was full), in the order they came.
  std::vector<std::vector<std::uint32_t>> repair_owed_;
  std::size_t repair_owed_total_ = 0;

  MembershipCounters counters_;
  std::string left_reason_;
  struct Retired {  // counters of the rings dropped so far
    std::uint64_t tokens = 0;
    std::uint64_t records_dropped = 0;
    std::uint64_t tokens_dropped = 0;
    std::uint64_t tokens_retransmitted = 0;
    std::uint64_t writes_wrong_link = 0;
    std::uint64_t record_stalls = 0;
    std::uint64_t records_repaired = 0;
    std::uint64_t records_relayed = 0;
    std::uint64_t relay_waits = 0;
  } retired_;
  // Rings dropped with a stall not told yet (next_stall): room for
  // kMaxGenerations is reserved at the start, and the driver asks every
  // round, far more often than rings end.
  std::vector<StallNotice> untold_stalls_;
  StallNotice stall_notice(const Generation& g) const noexcept;
  void retire(Generation& g) noexcept;
};

}  // namespace ringcast::membership
