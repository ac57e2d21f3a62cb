// A simulated cluster whose nodes the CPG calls use: each member of a
// SimCluster gets a client::Node, and `use(i)` makes the next cpg_initialize
// in this thread open its handle on member i (Node::Override). Every handle
// then talks to its own node, as a process talks to its own.
//
// Recorder: what a handle's callbacks saw, as text lines, reachable from the
// C callbacks through the handle's context pointer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/node.hpp"
#include "ringcast/cpg.h"
#include "support/sim_cluster.hpp"

namespace ringcast::cpg_test {

ring::RingConfig small_ring();
// Membership timeouts short enough for tests that wait for merges (merge
// detection probes once per consensus timeout): 80 ms token, 100 ms
// consensus, joins every 5 ms.
membership::MembershipConfig fast_membership();

class SimNodes {
 public:
  // prepare(i, node) runs on every new node of member i (a restart's too)
  // before it is attached to its ring: settings that must precede the first
  // configuration, such as quorum rules.
  using Prepare = std::function<void(std::size_t, client::Node&)>;
  explicit SimNodes(std::size_t members, ring::RingConfig ring = small_ring(),
                    std::uint64_t seed = 1, membership::MembershipConfig membership = {},
                    Prepare prepare = {});
  ~SimNodes();
  client::Node& node(std::size_t i) { return *nodes_[i]; }
  std::unique_ptr<client::Node::Override> use(std::size_t i) {
    return std::make_unique<client::Node::Override>(nodes_[i]);
  }
  std::uint32_t node_id(std::size_t i) const { return cluster_->node(i); }
  std::size_t size() const { return nodes_.size(); }
  runtime::SimCluster& cluster() { return *cluster_; }

  // Faults (runtime::SimCluster's). restart() gives member i a new node (a
  // new process); handles of the crashed one stay usable for error checks.
  // startup_window: how long its first cpg_initialize may wait for it to be
  // merged (client::Node::wait_settled, as a process's node does with
  // totem.startup_window_ms); zero: it does not wait.
  void crash(std::size_t i) { cluster_->crash(i); }
  void restart(std::size_t i,
               std::chrono::milliseconds startup_window = std::chrono::milliseconds(0));
  void partition(const std::vector<std::size_t>& side) { cluster_->partition(side); }
  void heal() { cluster_->heal(); }

 private:
  void attach(std::size_t i, std::chrono::milliseconds startup_window);
  std::unique_ptr<runtime::SimCluster> cluster_;
  Prepare prepare_;
  std::vector<std::shared_ptr<client::Node>> nodes_;
  std::vector<std::shared_ptr<client::Node>> crashed_;
};

struct Recorder {
  std::mutex mutex;
  std::vector<std::string> lines;     // "msg <group> <node> <payload>" / "view ..." / "ring ..."
  std::vector<std::string> messages;  // payloads only
  std::vector<std::string> views;     // view lines only
  std::size_t size() {
    std::lock_guard lock(mutex);
    return lines.size();
  }
};

// Callbacks that append to the Recorder found through cpg_context_get.
cpg_model_v1_data_t recording_model(bool initial_totem);
// cpg_model_initialize with recording callbacks and `rec` as context.
cpg_handle_t open_recorded(Recorder& rec, bool initial_totem = false);

cpg_name name_of(const std::string& s);

// Dispatches (ALL) until pred() or the timeout; returns pred().
bool dispatch_until(cpg_handle_t h, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
bool dispatch_until(std::vector<cpg_handle_t> hs, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Joins each handle in turn, waiting for its own join view before the next:
// the join order (and so every member list) is then the order given.
::testing::AssertionResult join_in_order(const std::vector<cpg_handle_t>& handles,
                                         const std::vector<Recorder*>& recorders,
                                         const std::string& group);

// cpg_join, retried while CS_ERR_TRY_AGAIN (a sync), dispatching `drain`.
cs_error_t join_retry(cpg_handle_t h, const std::string& group, std::vector<cpg_handle_t> drain);

cs_error_t send_text(cpg_handle_t h, const std::string& text, cpg_guarantee_t g = CPG_TYPE_AGREED);
// Retries while CS_ERR_TRY_AGAIN, dispatching meanwhile (bounded).
cs_error_t send_text_retry(cpg_handle_t h, const std::string& text,
                           std::vector<cpg_handle_t> drain);

}  // namespace ringcast::cpg_test
