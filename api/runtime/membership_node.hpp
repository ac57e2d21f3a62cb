// MembershipNode: one member per process over verbs, with membership: a member
// that fails (its process dies, its connection breaks, it stops forwarding)
// is left out of a new ring, a restarted process or a healed partition is
// merged back (transport/membership, docs/protocol.md "Membership").
//
//   MemberNodeOptions o{.members = {{1, "10.0.0.1", 7405}, {2, "10.0.0.2", 7405}}, .me = 2};
//   o.on_events = [](EventSource& events) { ... };  // messages, configuration changes
//   auto node = MembershipNode::start(o);               // returns once the member runs
//   (*node)->submit(message);                       // any thread; Errc::try_again when full
//
// Start-up: it listens on its address, dials the members with lower node ids
// and accepts the higher ones (LinkKeeper) for at most startup_window_ns.
// With every member linked, and every one of them started within that window
// of this process (their incarnations say when), it is a fresh cluster: the
// first ring is everyone (MembershipDriver::start). Otherwise some members
// already run a ring without it (it restarted, or came late) or could not be
// reached: it starts alone with the links it has, above an epoch floor
// (membership::epoch_floor of its incarnation and options.epochs_kept), and
// membership merges it in (start_joining). The
// CPG layer's first handles wait for that merge (linked_nodes(): the nodes
// the ring must hold; client/node_startup.cpp).
//
// Incarnation: options.incarnation, which open_transport takes from the
// state directory (runtime/incarnation.hpp: max(last + 1, clock), so it only
// grows from one process of a node to the next whatever the clock does); 0:
// clock_incarnation(), the start time in 100 ms units since 2024-01-01
// (CLOCK_REALTIME). A restarted process's epochs start above incarnation
// << 32 and above the bound its node kept on the epochs it named
// (options.epochs_kept, runtime/kept_epochs.hpp): the incarnation alone is
// not enough, its earlier processes took epochs from peers of higher
// incarnations. So it never reuses a ring id of its previous life. Peers whose
// clocks differ by more than the window never count as starting together:
// each starts alone and membership merges them (docs/operations.md).
//
// Afterwards the keeper's thread accepts new links and re-dials the lower
// members this member has no live link to; each new link goes to
// MembershipDriver::add_link, or, while the driver still has the old one up (the
// peer restarted before anything failed here), waits until the old one, cut
// now, is seen down. Membership's fencing cuts links by rdma_disconnect.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "membership/membership_config.hpp"
#include "membership/membership_driver.hpp"
#include "ring/ring_config.hpp"
#include "runtime/link_replacement.hpp"
#include "runtime/progress_thread.hpp"
#include "runtime/ring_node.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::fabric::verbs {
class VerbsEndpoint;
}  // namespace ringcast::fabric::verbs

namespace ringcast::runtime {

class LinkKeeper;

struct MemberNodeOptions {
  std::vector<MemberAddress> members;  // every node of the cluster, sorted by node id, unique
  fabric::NodeId me = 0;               // one of members
  std::string device;                  // empty: the device serving my ip
  int gid_index = -1;                  // RoCE GID index to check, -1: none
  ring::RingConfig ring;
  // Timeouts (token, join, consensus); `nodes` is filled from members.
  membership::MembershipConfig membership;
  ProgressOptions progress;
  // Required: runs on the progress thread after every round, lock held;
  // drains the event stream (RingTransport).
  RoundCallback on_events;
  std::uint64_t startup_window_ns = 3'000'000'000;  // see the top
  std::uint64_t reconnect_interval_ns =
      200'000'000;  // a missing lower member is dialled this often
  // One link set-up (either side) at most; a dial to a dead host blocks the
  // re-dialling of the other lower members this long.
  std::uint64_t dial_timeout_ns = 2'000'000'000;
  std::uint32_t incarnation = 0;  // 0: from the clock (see the top)
  // The ring epochs this node's earlier processes named stay below
  // epochs_kept; keep_epochs raises it (open_transport: KeptEpochs, a file
  // in the state directory). No keeper: nothing is kept, and a restart
  // starts at its incarnation << 32 alone.
  std::uint64_t epochs_kept = 0;
  membership::EpochKeeper keep_epochs;
  // From the cluster key: AuthKey::derive(config.auth.key.secret_bytes()).
  // Empty: links are not authenticated (logged once as a warning).
  fabric::auth::AuthKey key;
  // Empty: the endpoint allocates the receive log. Else the log's memory,
  // exactly ring.log_bytes, registered as it is (ringcastd's memfd, mapped
  // read-only by its clients); it must outlive the member.
  std::span<std::byte> log_memory;
};

// Errc::invalid_argument when the member list is unusable, on_events is
// missing, or the ring or membership config is.
Status validate(const MemberNodeOptions& options);

// The incarnation a process starting now takes (see the top).
std::uint32_t clock_incarnation() noexcept;

using MemberProgressThread = BasicProgressThread<membership::MembershipDriver>;

class MembershipNode final : public RingTransport {
  struct Passkey {};

 public:
  // Returns once the member runs (after at most startup_window_ns plus one
  // dial), or fails naming what could not be set up.
  static Result<std::unique_ptr<MembershipNode>> start(const MemberNodeOptions& options);
  MembershipNode(Passkey, const MemberNodeOptions& options);
  ~MembershipNode() override;
  MembershipNode(const MembershipNode&) = delete;
  MembershipNode& operator=(const MembershipNode&) = delete;

  Status submit(const OutgoingTransportMessage& message) override;
  // The same, in the ring's vocabulary (tests and benchmarks of the ring).
  Status submit(const ring::OutgoingMessage& message);
  Status release_through(std::uint64_t index) override;
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override;
  Result<std::unique_ptr<fabric::MemoryRegion>> register_memory(
      std::span<std::byte> memory) override;
  StatusSnapshot status() override;
  SendPathSnapshot send_path() override;
  std::vector<std::uint32_t> linked_nodes() override;
  fabric::NodeId me() const noexcept override { return me_; }
  const ring::RingConfig& ring_config() const noexcept { return ring_; }
  std::size_t max_message_bytes() const noexcept override { return ring_.max_message_bytes; }

  // fn(MembershipDriver&) under the driver lock, from any thread.
  template <class Fn>
  auto with_driver(Fn&& fn) {
    return progress_->with_driver(std::forward<Fn>(fn));
  }
  std::uint32_t incarnation() const noexcept { return incarnation_; }
  // Whether it started as one of a fresh cluster (start) or joined (start_joining).
  bool started_fresh() const noexcept { return fresh_; }

  // Stops the keeper and the progress thread; links and regions go with the
  // object. Idempotent.
  void stop() override;

 private:
  struct PeerLinks {
    std::unique_ptr<fabric::Link> given;    // the driver's (or was)
    std::unique_ptr<fabric::Link> waiting;  // new, until the driver sees `given` down
    std::uint32_t given_incarnation = 0;    // the peer's, as it advertised on each link
    std::uint32_t waiting_incarnation = 0;
  };
  Status open(const MemberNodeOptions& options);
  Status begin(const MemberNodeOptions& options);
  bool fresh_cluster(const LinkKeeper& keeper, bool every_link) const;
  // Under the driver lock.
  void adopt(membership::MembershipDriver& d, std::size_t index, std::unique_ptr<fabric::Link> link,
             std::uint32_t incarnation);
  bool may_replace(std::size_t index, std::uint32_t incarnation);
  void adopt_waiting(membership::MembershipDriver& d);
  bool missing(std::size_t index);
  void log_link_changes(membership::NodeMask now);

  fabric::NodeId me_ = 0;
  std::size_t my_index_ = 0;
  std::vector<fabric::NodeId> nodes_;  // by member index
  ring::RingConfig ring_;
  std::uint32_t incarnation_ = 0;
  std::uint64_t startup_window_ns_ = 0;
  bool fresh_ = false;
  // Destroyed bottom-up once stop() ended both threads: keeper (listener),
  // links, thread, driver (regions), endpoint.
  std::unique_ptr<fabric::verbs::VerbsEndpoint> endpoint_;
  std::unique_ptr<membership::MembershipDriver> driver_;
  std::unique_ptr<MemberProgressThread> progress_;
  std::vector<PeerLinks> peers_;  // by member index; guarded by the driver lock
  bool any_waiting_ = false;      // guarded by the driver lock
  // Replacing a live link (guarded by the driver lock): bounded, see
  // link_replacement.hpp; refusals counted and logged rate-limited.
  LinkReplacement replacement_{0};
  std::uint64_t replacements_refused_ = 0;
  LogLimiter replacement_log_;
  membership::NodeMask logged_links_ = 0;  // live links last logged; the driver lock
  std::unique_ptr<LinkKeeper> keeper_;
};

}  // namespace ringcast::runtime
