// QuorumTracker: whether this node is quorate, from the nodes of its ring
// and the votes of the cluster file, with the meanings of corosync's
// votequorum options (docs/configuration.md "quorum"):
//   - quorum is expected/2 + 1 votes, where expected is the configured
//     expected_votes, or the votes present when more are present;
//   - two_node: 1 vote of 2 is quorate (expected must be 2);
//   - wait_for_all: not quorate until this node has once been in a ring
//     holding every expected vote (from its start; never armed again).
// The node (Node::on_change) feeds it every regular configuration; it
// queues a notification to every handle that tracks changes.
//
// Lock order: Node's mutex -> mutex_ -> a QuorumHandle's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "client/event.hpp"
#include "config/cluster_config.hpp"

namespace ringcast::client {

class QuorumHandle;

struct QuorumRules {
  std::uint32_t expected_votes = 1;
  bool two_node = false;
  bool wait_for_all = false;
  // (node, votes); a node not listed has 1 vote.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> votes;

  static QuorumRules from(const config::ClusterConfig& config);
  // One vote per node of n, n expected (what a nodelist of n nodes gives).
  static QuorumRules equal_votes(std::uint32_t nodes);
  std::uint32_t votes_of(std::uint32_t node) const;
};

// What the votes of a set of nodes come to.
struct QuorumCount {
  std::uint64_t present = 0;   // votes of the nodes in the ring
  std::uint64_t expected = 0;  // max(expected_votes, present)
  std::uint64_t needed = 0;    // quorum
  bool all_present = false;    // every expected vote is in the ring
};
QuorumCount count_votes(const QuorumRules& rules, std::span<const std::uint32_t> nodes);

// One notification: the state after a ring change (or now, at trackstart).
struct QuorumView {
  bool quorate = false;
  RingEvent ring;
  std::vector<std::uint32_t> joined;  // since the ring before; empty at trackstart
  std::vector<std::uint32_t> left;
};

class QuorumTracker {
 public:
  // Before the first ring (else the ring is counted again); the default:
  // one vote per node, one expected.
  void set_rules(QuorumRules rules);
  // A regular configuration: ring, and side, the transitional configuration
  // before it (the nodes that went on with us; empty before the first).
  void on_ring(const RingEvent& ring, std::span<const std::uint32_t> side);
  // The ring as the transport reports it, until the first configuration
  // reaches the node (a handle opened before it).
  void seed(const RingEvent& ring);

  bool quorate() const;

  // quorum_trackstart / quorum_trackstop: CS_TRACK_CURRENT and
  // CS_TRACK_CHANGES queue the current state; CS_TRACK_CHANGES and
  // CS_TRACK_CHANGES_ONLY track. CS_ERR_EXIST when already tracking.
  cs_error_t track(QuorumHandle& handle, unsigned int flags);
  void untrack(QuorumHandle& handle);

 private:
  void apply_locked(const RingEvent& ring);
  void notify_locked();
  bool contains_handle(const QuorumHandle& handle) const;

  mutable std::mutex mutex_;
  QuorumRules rules_;
  bool waiting_for_all_ = false;
  std::optional<RingEvent> ring_;    // the last regular configuration
  bool from_configuration_ = false;  // ring_ came from on_ring, not seed
  std::vector<std::uint32_t> joined_;
  std::vector<std::uint32_t> left_;
  bool quorate_ = false;
  std::vector<QuorumHandle*> tracking_;
};

}  // namespace ringcast::client
