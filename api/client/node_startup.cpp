// The start-up half of Node: a process's first handles wait until its node
// is settled in the cluster's ring.
//
// Why. A process that starts while the others already run a ring (a late
// start, a restart) begins in a ring of its own, linked to them
// (runtime/membership_node.hpp), and merge detection takes it in within
// about a consensus timeout. That merge, and the sync after it
// (node_sync.cpp), make joins and sends return CS_ERR_TRY_AGAIN meanwhile:
// a program that opens a handle and at once joins and sends would meet
// them. So the first handles wait, for at most the startup window, until
// the node is operational in a ring that holds every node it has a live
// link to (the nodes it can reach) and that ring's sync is over. A cluster
// that starts together is settled at once: its first ring is everyone and
// no sync follows. A node whose peers are all down has no link: its ring of
// one is settled. A node still not merged when the window ends (a peer it
// reaches that cannot take it in yet) goes on as it is, and says so in the
// log; its join and sends meet the merge when it comes.
#include <algorithm>
#include <string>
#include <thread>

#include "base/log.hpp"
#include "client/node.hpp"

namespace ringcast::client {

namespace {

// How often the waiting caller looks again: a merge takes tens of
// milliseconds at least, a start-up wait happens once per process.
constexpr auto kSettlePoll = std::chrono::milliseconds(1);

bool contains(const std::vector<std::uint32_t>& nodes, std::uint32_t node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

std::string list(const std::vector<std::uint32_t>& nodes) {
  std::string s;
  for (std::uint32_t n : nodes)
    s += " " + std::to_string(n);
  return s.empty() ? " none" : s;
}

}  // namespace

void Node::wait_settled() {
  if (settled_.load(std::memory_order_acquire)) return;
  std::lock_guard serial(settle_mutex_);
  // Bounded by the deadline: one poll per kSettlePoll until then.
  while (!settled_.load(std::memory_order_acquire)) {
    if (settled_now()) {
      settled_.store(true, std::memory_order_release);
      return;
    }
    if (std::chrono::steady_clock::now() >= settle_deadline_) {
      log_unsettled();
      settled_.store(true, std::memory_order_release);
      return;
    }
    std::this_thread::sleep_for(kSettlePoll);
  }
}

// The transport's view first, then ours (lock order: transport, mutex_).
// Its events up to that view were drained by the round that made it, so
// our last configuration is that ring's once it reached us.
bool Node::settled_now() {
  const StatusSnapshot t = transport_->status();
  if (!t.operational) return false;
  for (std::uint32_t n : transport_->linked_nodes())
    if (!contains(t.members, n)) return false;
  std::lock_guard lock(mutex_);
  if (sync_) return false;
  // No configuration drained yet: the transport's first ring, which no
  // sync follows.
  if (!ring_) return t.reformations == 0;
  return ring_->representative == t.ring_representative && ring_->seq == t.ring_seq;
}

void Node::log_unsettled() {
  const StatusSnapshot t = transport_->status();
  bool syncing = false;
  {
    std::lock_guard lock(mutex_);
    syncing = sync_.has_value();
  }
  log_line("node " + std::to_string(node_id_) +
           ": the startup window ended before the node settled; it goes on in ring" +
           list(t.members) + (t.operational ? "" : " (forming a new one)") +
           (syncing ? " (its sync not over)" : "") + ", linked to" +
           list(transport_->linked_nodes()));
}

}  // namespace ringcast::client
