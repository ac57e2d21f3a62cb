// The deterministic simulated fabric: N members in one thread, virtual time,
// one seeded random generator. A seed replays a run exactly.
//
// SimWorld owns everything: endpoints (SimEndpoint, one per member and
// incarnation), links (SimLink, both ends of every connection), the event
// queue, the virtual clock and the random generator. Endpoints and links are
// never destroyed before the world, so pointers to them stay valid (a crashed
// endpoint stays as an inert object). Memory regions belong to whoever
// allocated them and may be destroyed at any time, also after the world.
//
// Semantics are those of reliable-connected queue pairs (see fabric.hpp):
//   * a write lands by memcpy into the target's registered memory, once its
//     rkey names a live remote_write region of that target and the bytes fit;
//     otherwise the requester gets write_failed "remote access error" and both
//     ends fail (link_down), as an RC QP goes to the error state;
//   * the source is read at landing time, not at post time (whatever the
//     write's size): a sender that reuses its buffer before the completion is
//     caught by the data, and a source region destroyed before landing fails
//     the write with "local protection error" instead of a read of freed
//     memory;
//   * per-link FIFO: a write never lands before an earlier write of its link;
//   * received_imm reaches the target's completion queue at landing, write_done
//     the requester's at landing + ACK delay, for signaled writes only. A send
//     queue slot is free again at the ACK.
//   * a failed end reports write_failed for its writes still queued (the one
//     that caused the failure with its cause, even when unsignaled, as verbs
//     reports every error; the others "Work Request Flushed Error", signaled
//     ones only), then link_down. An end that failed stays failed.
//
// A harness drives it like this (members poll only what is due):
//
//   SimWorld world(seed, config);
//   ... add_endpoint per member, allocate regions, connect every pair ...
//   while (!done) {
//     uint64_t t = std::min(world.next_event_ns().value_or(kNever), members.next_timer_ns());
//     if (t == kNever || t > deadline) break;
//     world.run_until(t);                   // the events of instant t only: t <= next event
//     for (auto& m : members)               // feed each member's state machine
//       if (m.endpoint->pending_completions() > 0 || m.timer_due(world.now_ns())) m.progress();
//   }
//
// Members thus react to every instant in order, and may post from progress();
// what they post lands at a later event. A member whose process is paused
// (not polled) keeps its links: the NIC still lands and acknowledges writes.
//
// Faults: crash, restart, partition, heal, break_link_one_way, set_link_delay,
// set_node_bandwidth, disconnect, set_land_hook (bytes changed as they land),
// and schedule() to run one at a given virtual time; rng() gives tests the same seeded stream to
// choose faults and their times (BUGGIFY-style: draw whether and when, the seed replays the
// choice).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "fabric/connect_info.hpp"
#include "fabric/sim/event_queue.hpp"
#include "fabric/sim/pending_write.hpp"
#include "fabric/sim/random.hpp"
#include "fabric/sim/region_table.hpp"
#include "fabric/sim/sim_config.hpp"
#include "fabric/sim/sim_endpoint.hpp"
#include "fabric/sim/sim_link.hpp"
#include "fabric/sim/wc_status.hpp"

namespace ringcast::fabric::sim {

struct LinkPair {
  SimLink* a_to_b = nullptr;  // a's end: a posts here to write into b
  SimLink* b_to_a = nullptr;  // b's end
};

class SimWorld {
 public:
  explicit SimWorld(std::uint64_t seed, SimConfig config = {});
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  // --- Members and links -------------------------------------------------
  // A new endpoint; `node` must not have a live endpoint already.
  SimEndpoint& add_endpoint(NodeId node);
  // The live endpoint of `node`, or nullptr (never added, or crashed).
  SimEndpoint* endpoint(NodeId node) noexcept;
  // Connects two live endpoints. Each info goes through encode() and
  // decode_connect_info(), the path the verbs backend's private data takes,
  // so a bad info fails the same way; an info whose node differs from its
  // endpoint's is Errc::protocol. Errc::unreachable when either endpoint
  // crashed or a partition or one-way break separates them. The regions in
  // the infos are not checked here: a bad one fails the first write into it.
  // Connecting is instantaneous in virtual time.
  Result<LinkPair> connect(SimEndpoint& a, const ConnectInfo& a_info, SimEndpoint& b,
                           const ConnectInfo& b_info);
  // rdma_disconnect: this end fails now (its queued writes flushed), the
  // peer's end after base_latency_ns; both get link_down.
  void disconnect(Link& link);

  // --- Driving -------------------------------------------------------------
  std::uint64_t now_ns() const noexcept { return now_ns_; }
  std::optional<std::uint64_t> next_event_ns() const noexcept;
  // Runs the next event (the clock moves to its time). False when none.
  bool step();
  // Runs every event due at or before t_ns, then sets the clock to t_ns.
  void run_until(std::uint64_t t_ns);
  std::size_t pending_events() const noexcept { return queue_.size(); }

  // --- Faults ----------------------------------------------------------------
  // The node's process dies now: its endpoint stops (no completions, posts
  // fail), writes to it never land nor are acknowledged, and of the writes it
  // had on the wire each link lands a random prefix (seeded), the rest never.
  // Each peer's end fails link_timeout_ns later (see SimConfig) with
  // write_failed "transport retry counter exceeded" and link_down.
  void crash(NodeId node);
  // A fresh endpoint for a crashed node: same id, incarnation + 1, no regions,
  // no links (the old links stay failed; connect again).
  SimEndpoint& restart(NodeId node);
  // Cuts every link between a node of side_a and a node of side_b (both
  // ways); their ends fail after the timeout; new connections across are
  // unreachable until heal(). Writes on the wire at the cut land as a random
  // prefix per direction.
  void partition(std::span<const NodeId> side_a, std::span<const NodeId> side_b);
  // Lifts partitions and one-way breaks for new connections. Links cut
  // before stay doomed and fail: a real RC link could ride out a cut shorter
  // than its retry timeout; here every cut link fails (the harsher case).
  void heal();
  // Cuts the direction from -> to of the links between the two nodes: from's
  // writes stop landing, to's writes still land but their ACKs are lost, so
  // both ends fail after the timeout. New connections are unreachable until
  // heal().
  void break_link_one_way(NodeId from, NodeId to);
  // Adds extra_ns to every write from `from` to `to` (and to the ACKs of
  // to's writes to from), on existing and future links: a slow member.
  void set_link_delay(NodeId from, NodeId to, std::uint64_t extra_ns);
  // The next write with immediate from `from` to `to` (on links that exist
  // now) lands twice: its bytes are written again and its immediate is
  // reported a second time, as a buggy peer or a replay would.
  void duplicate_next_landing(NodeId from, NodeId to);
  // Egress bandwidth of `node` (its live endpoint and later incarnations),
  // instead of SimConfig::bandwidth_bytes_per_us: a member with a slow NIC.
  void set_node_bandwidth(NodeId node, std::uint64_t bytes_per_us);
  // The CPU cost model of a driver that charges its members' work: the writes
  // `node` posts between hold_posts and release_posts(at_ns >= now) leave its
  // NIC as if posted at at_ns (its CPU was busy until then). No fault may
  // come between the two calls; they are meant for one progress() call.
  void hold_posts(NodeId node);
  void release_posts(NodeId node, std::uint64_t at_ns);
  // Runs `action` at virtual time at_ns (>= now), in event order.
  void schedule(std::uint64_t at_ns, std::function<void(SimWorld&)> action);
  // Called for every write that lands, after its bytes are in the target's
  // memory and before its imm completes there: a test may change those bytes
  // (a corrupted write, caught or not by the receiver's checks).
  using LandHook = std::function<void(NodeId from, NodeId to, std::span<std::byte> bytes,
                                      bool with_imm, std::uint32_t imm)>;
  void set_land_hook(LandHook hook) { land_hook_ = std::move(hook); }
  // The world's random stream. Drawing from it shifts every later draw, so a
  // test that draws stays deterministic per seed.
  SimRandom& rng() noexcept { return rng_; }

  // --- Observation -------------------------------------------------------------
  std::uint64_t seed() const noexcept { return seed_; }
  const SimConfig& config() const noexcept { return config_; }
  const SimStats& stats() const noexcept { return stats_; }
  // The writes `node` posted, over all its incarnations (zero for a node
  // never added).
  SimNodeStats node_stats(NodeId node) const noexcept;
  // A running hash of every post and event (time, kind, link, sizes): equal
  // for two runs exactly when they took the same course.
  std::uint64_t event_hash() const noexcept { return hash_; }
  // One line per post, event and fault ("time node event details"), for
  // reading a failing seed. Off (empty sink) by default: costs nothing then.
  void set_trace(std::function<void(std::string_view)> sink) { trace_ = std::move(sink); }

 private:
  friend class SimEndpoint;
  friend class SimLink;

  // sim_world.cpp: set-up and the event loop.
  SimEndpoint& make_endpoint(NodeId node, std::uint32_t incarnation);
  SimLink& link(std::uint32_t id) noexcept { return *links_[id]; }
  void schedule_event(std::uint64_t at_ns, EventKind kind, std::uint32_t link_id,
                      std::uint32_t arg = 0, WcStatus status = WcStatus::success);
  void dispatch(const SimEvent& e);
  void mix(std::uint64_t value) noexcept;
  bool blocked(NodeId from, NodeId to) const noexcept;
  std::uint64_t delay_for(NodeId from, NodeId to) const noexcept;
  void trace(const char* format, ...) const __attribute__((format(printf, 2, 3)));
  bool tracing() const noexcept { return static_cast<bool>(trace_); }

  // sim_datapath.cpp: posting, landing, ACKs.
  Status post(SimLink& l, std::span<const WriteOp> chain);
  Status check_write(const SimLink& l, const WriteOp& op) const;
  void enqueue(SimLink& l, const WriteOp& op);
  void launch(SimLink& l, std::uint32_t write, std::uint64_t post_ns);
  std::uint64_t land_time_ns(SimLink& l, std::uint32_t bytes, std::uint64_t post_ns);
  std::uint64_t ack_time_ns(SimLink& l);
  void on_land(SimLink& l, std::uint32_t write);
  const RegionTable::Entry* target_region(const SimLink& l, const PendingWrite& w) const;
  bool sources_readable(const SimLink& l, const PendingWrite& w) const;
  void copy_sources(const PendingWrite& w, std::byte* to) const;
  void refuse(SimLink& l, std::uint32_t write, WcStatus status);
  void on_ack(SimLink& l, std::uint32_t write);
  void deliver(SimEndpoint& ep, const Completion& c);
  void pop_head(SimLink& l);

  // sim_failure.cpp: the error state and faults.
  void on_nak(SimLink& l, std::uint32_t write, WcStatus status);
  void on_detect(SimLink& l);
  void fail_end(SimLink& l, WcStatus status, std::uint32_t culprit);
  void cut_direction(SimLink& l);
  void doom(SimLink& l);
  void snapshot_in_flight(SimLink& l);
  void arm_detect(SimLink& l, std::uint64_t at_ns);
  template <class Fn>
  void for_links_between(NodeId from, NodeId to, Fn&& fn);

  std::uint64_t seed_;
  SimConfig config_;
  SimRandom rng_;
  std::uint64_t now_ns_ = 0;
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
  SimStats stats_;
  EventQueue queue_;
  PendingPool pending_;
  std::shared_ptr<RegionTable> regions_;
  std::vector<std::unique_ptr<SimEndpoint>> endpoints_;  // index = uid
  std::vector<std::unique_ptr<SimLink>> links_;          // index = id
  std::vector<std::function<void(SimWorld&)>> actions_;
  struct Blocked {
    NodeId from, to;
  };
  std::vector<Blocked> blocked_;
  struct Delay {
    NodeId from, to;
    std::uint64_t extra_ns;
  };
  std::vector<Delay> delays_;
  struct Bandwidth {
    NodeId node;
    std::uint64_t bytes_per_us;
  };
  std::vector<Bandwidth> bandwidths_;
  std::function<void(std::string_view)> trace_;
  LandHook land_hook_;
};

}  // namespace ringcast::fabric::sim
