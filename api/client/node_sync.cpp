// The configuration-change half of Node: what a regular configuration does
// to the groups, and the sync that follows one that brings nodes together.
//
// Why a sync. The group table is the same at every member because every
// member applies the same records in the same order. Nodes that come
// together did not: a restarted process starts with an empty table, and the
// two sides of a healed partition each went on without the other. So after
// such a change each node announces its processes' groups (as corosync's
// joinlist does) and the tables learn the members they lack (NODEUP). Until
// every node has announced, the tables still differ: a message sent then
// could reach a process that its sender's side does not count as a member,
// or miss one that it does. So, as corosync does during its sync, new sends,
// joins, leaves and finalizes get CS_ERR_TRY_AGAIN (a finalize waits) until
// the last announce_done is delivered; that point is the same everywhere,
// the announces are applied there, and from it on every table is the same
// again. Records already queued before the change still go out, before
// their node's announce: where their sender's node is known (it came with
// us) they count as usual; where it is not, they are skipped, and the
// node's announce says where its process stands after them.
#include <algorithm>
#include <chrono>
#include <map>

#include "base/assert.hpp"
#include "base/log.hpp"
#include "client/node.hpp"
#include "client/session.hpp"
#include "groups/group_message.hpp"

namespace ringcast::client {

namespace {

using NodeList = std::vector<std::uint32_t>;

bool contains(const NodeList& list, std::uint32_t node) {
  return std::find(list.begin(), list.end(), node) != list.end();
}

// The nodes of `a` not in `b`, in a's order.
NodeList minus(const NodeList& a, const NodeList& b) {
  NodeList out;
  for (std::uint32_t n : a) {
    if (!contains(b, n)) out.push_back(n);
  }
  return out;
}

}  // namespace

// A regular configuration after the first. Nodes of the previous one that
// did not go on with us leave every group (NODEDOWN), also when they are in
// the new ring again: their process may have changed meanwhile, and their
// announce brings it back. Then the totem confchg; then, if the new ring
// holds nodes whose groups we do not know, the sync.
void Node::apply_regular(const runtime::TransportConfiguration& change) {
  const NodeList now(change.members.begin(), change.members.end());
  // Every regular configuration after the first follows a transitional one.
  const NodeList side = side_.empty() ? now : side_;
  side_.clear();
  const NodeList gone = minus(members_, side);
  if (!gone.empty()) {
    for (const groups::GroupViewChange& v : table_.remove_nodes(gone))
      queue_view(v, nullptr);
  }
  NodeList unknown = minus(now, side);
  // A sync that did not finish: those we never heard from are still unknown.
  if (sync_) {
    for (std::uint32_t n : sync_->unknown) {
      if (contains(now, n) && !contains(unknown, n)) unknown.push_back(n);
    }
  }
  members_ = now;
  queue_ring_change_locked();
  if (unknown.empty()) {
    end_sync_locked();
    return;
  }
  sync_ = Sync{change.ring, now, std::move(unknown), {}, false};
  sync_blocks_data_.store(true, std::memory_order_release);
  announce_wake_.notify_all();
}

bool Node::from_unannounced_locked(std::uint32_t node) const {
  return sync_ && contains(sync_->unknown, node);
}

// Nothing of ours goes out while a sync lasts (our queued records went out
// before our announce): from the first announce to the last announce_done
// no node sends anything else, so that the held announces can be applied
// together at the end.
bool Node::sync_blocks_locked(groups::GroupMessageKind) const {
  return sync_.has_value();
}

void Node::end_sync_locked() {
  sync_.reset();
  sync_blocks_data_.store(false, std::memory_order_release);
}

// An announce record of `sender`'s node: held until the last node's
// announce_done, then every held announce is applied in the ring's order.
void Node::on_announce(const groups::GroupMessage& message, groups::GroupMember sender) {
  const bool current = sync_ && sync_->ring.representative == message.ring_representative &&
                       sync_->ring.epoch == message.ring_epoch &&
                       contains(sync_->awaiting, sender.node);
  if (!current) {
    ++announces_stale_;  // of a sync that ended or was overtaken, or a repeat
    return;
  }
  Sync& sync = *sync_;
  if (message.kind == groups::GroupMessageKind::announce) {
    // Several processes of a node may be in one group: the bound is the
    // memberships the table can hold.
    const groups::GroupLimits& limits = table_.limits();
    if (sync.held.size() >= limits.max_groups * limits.max_members) {
      ++announces_stale_;  // more than the table can hold
      return;
    }
    sync.held.emplace_back(sender, message.name);
    return;
  }
  std::erase(sync.awaiting, sender.node);
  if (sync.awaiting.empty()) finish_sync_locked();
}

// The last announce_done: the held announces, in the ring's order. Members
// the table lacks join with NODEUP: one confchg per group that got any, in
// name order, listing them in the order they came (as NODEDOWN lists those
// that went). Members it has move to the end of their list, silently: then
// every node holds every group in the same order (the announces' order).
void Node::finish_sync_locked() {
  std::map<std::string, groups::GroupViewChange> ups;
  for (const auto& [member, name] : sync_->held) {
    auto change = table_.apply({groups::GroupMessageKind::announce, name}, member);
    if (!change.ok()) continue;  // beyond the bounds: ignored and counted by the table
    auto [it, fresh] = ups.try_emplace(name, *change);
    if (!fresh) {
      it->second.members = change->members;
      it->second.joined.insert(it->second.joined.end(), change->joined.begin(),
                               change->joined.end());
    }
  }
  end_sync_locked();
  for (const auto& [name, change] : ups) {
    if (!change.joined.empty()) queue_view(change, nullptr);
  }
}

// --- Our announce: its own thread, since on_round runs with the transport's
// lock held and could not submit.

void Node::run_announcer() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Our controls still queued go first: the announce says where our
    // process stands after them.
    announce_wake_.wait(lock, [this] {
      return stopping_ || (sync_ && !sync_->announced && own_controls_.empty());
    });
    if (stopping_) return;
    const runtime::TransportRingId ring = sync_->ring;
    lock.unlock();
    announce(ring);
    lock.lock();
  }
}

// Every (pid, group) membership of the processes this node acts for, each
// announced with its pid: the announce adds that member at the others.
void Node::announce(runtime::TransportRingId ring) {
  std::unique_lock gate(gate_);  // no record of ours between its records
  std::vector<std::pair<std::uint32_t, std::string>> memberships;
  {
    std::lock_guard lock(mutex_);
    const bool still = sync_ && sync_->ring == ring && !sync_->announced && own_controls_.empty();
    if (!still) return;
    sync_->announced = true;
    table_.for_each_group([&](const groups::Group& g) {
      for (const groups::GroupMember& m : g.members) {
        if (m.node == node_id_ && local_pid_locked(m.pid)) memberships.emplace_back(m.pid, g.name);
      }
    });
  }
  for (const auto& [pid, name] : memberships) {
    if (!submit_announce(
            {groups::GroupMessageKind::announce, name, ring.representative, ring.epoch}, pid,
            ring)) {
      return;
    }
  }
  submit_announce({groups::GroupMessageKind::announce_done, "", ring.representative, ring.epoch},
                  pid_, ring);
}

// Submits one announce record, waiting for room while the sync is still
// this ring's. False when it is not sent (the sync moved on, the node stops,
// or the transport failed).
bool Node::submit_announce(const groups::GroupMessage& message, std::uint32_t pid,
                           runtime::TransportRingId ring) {
  std::array<std::byte, groups::kMaxGroupMessageBytes> buffer;
  const std::size_t n = groups::encode_group_message(message, buffer);
  runtime::OutgoingTransportMessage m;
  m.payload = std::span(buffer).first(n);
  m.group = groups::kControlGroup;
  m.sender_pid = pid;
  m.guarantee = runtime::DeliveryGuarantee::agreed;
  for (;;) {
    const ringcast::Status s = transport_->submit(m);
    if (s.ok()) return true;
    if (s.error().code != Errc::try_again) {
      log_line("node " + std::to_string(node_id_) +
               " could not announce its groups: " + s.error().message());
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || !sync_ || !(sync_->ring == ring)) return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace ringcast::client
