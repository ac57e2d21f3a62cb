#include "client/node.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/assert.hpp"
#include "base/log.hpp"
#include "base/thread_name.hpp"
#include "client/errors.hpp"
#include "client/session.hpp"
#include "groups/group_message.hpp"

namespace ringcast::client {

namespace {

thread_local std::shared_ptr<Node> t_override;

bool lists(const std::vector<groups::GroupMember>& members, groups::GroupMember m) {
  return std::find(members.begin(), members.end(), m) != members.end();
}

// Each local session in `group` now (its own join delivered, its leave not
// yet) whose process `members` lists: one session per pid of this node.
template <class F>
void for_each_member_session(const std::vector<Session*>& sessions, std::uint32_t node,
                             std::string_view group,
                             const std::vector<groups::GroupMember>& members, F&& visit) {
  for (Session* s : sessions) {
    if (s->member_locked() && s->group_locked() == group && lists(members, {node, s->pid()}))
      visit(*s);
  }
}

}  // namespace

std::shared_ptr<Node> Node::create() {
  std::shared_ptr<Node> n(new Node());
  n->pid_ = static_cast<std::uint32_t>(::getpid());
  return n;
}

runtime::RoundCallback Node::round_callback() {
  // The transport dies with the node, and stops calling first.
  return [this](runtime::EventSource& events) { on_round(events); };
}

void Node::attach(std::unique_ptr<runtime::RingTransport> transport,
                  std::chrono::milliseconds startup_window) {
  RC_ASSERT(transport_ == nullptr);
  node_id_ = transport->me();
  max_message_bytes_ = transport->max_message_bytes();
  settle_deadline_ = std::chrono::steady_clock::now() + startup_window;
  settled_.store(startup_window.count() == 0, std::memory_order_release);
  {
    std::lock_guard lock(mutex_);
    transport_ = std::move(transport);
  }
  announcer_ = std::thread([this] {
    name_this_thread("rc-announce");
    run_announcer();
  });
  evictor_ = std::thread([this] {
    name_this_thread("rc-evict");
    run_evictor();
  });
}

Node::~Node() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  announce_wake_.notify_all();
  evict_wake_.notify_all();
  if (announcer_.joinable()) announcer_.join();
  if (evictor_.joinable()) evictor_.join();
  // The transport's thread must stop before the pool and table it calls into,
  // and the pool's regions must go before the transport they were registered
  // with (see RingTransport::stop).
  if (transport_) transport_->stop();
  pool_ptr_.store(nullptr, std::memory_order_release);
  pool_.reset();
  attached_.clear();
  transport_.reset();
}

Node::Override::Override(std::shared_ptr<Node> node) : previous_(std::move(t_override)) {
  t_override = std::move(node);
}

Node::Override::~Override() {
  t_override = std::move(previous_);
}

bool Node::overridden() noexcept {
  return t_override != nullptr;
}

cpg::Result<std::shared_ptr<Node>> Node::current() {
  if (t_override) return t_override;
  return process_node();
}

void Node::add_session(Session* session, bool initial_ring) {
  // Before the first configuration reached us, the transport's view (read
  // outside mutex_: lock order).
  std::optional<RingEvent> before_first;
  if (initial_ring) before_first = ring_event();
  std::lock_guard lock(mutex_);
  session->id = next_session_id_++;
  sessions_.push_back(session);
  if (!initial_ring) return;
  // Under the same lock as the registration: no later ring event can be
  // queued to it before this one.
  Event e;
  e.kind = Event::Kind::ring;
  e.ring = std::make_shared<const RingEvent>(ring_ ? *ring_ : *before_first);
  session->push_locked(std::move(e));
}

Session* Node::session_by_id(std::uint64_t id) const {
  for (Session* s : sessions_) {
    if (s->id == id) return s;
  }
  return nullptr;
}

void Node::remove_session(Session* session) {
  std::lock_guard lock(mutex_);
  std::erase(sessions_, session);
}

bool Node::group_taken(std::string_view group, std::uint32_t pid, const Session* except) const {
  const std::uint32_t key = groups::group_key(group);
  for (const Session* s : sessions_) {
    if (s == except || s->pid() != pid || s->state_locked() == Session::State::unjoined) continue;
    if (groups::group_key(s->group_locked()) == key) return true;
  }
  return false;
}

cpg::Status Node::join_check_locked(std::string_view group, std::uint32_t pid) const {
  const std::uint32_t key = groups::group_key(group);
  for (const Eviction& e : evictions_) {
    if (e.pid == pid && groups::group_key(e.group) == key)
      return cpg::Status(CS_ERR_TRY_AGAIN,
                         "an evicted handle of this process is leaving the group");
  }
  const groups::GroupLimits& limits = table_.limits();
  if (const groups::Group* g = table_.find(group)) {
    if (g->members.size() < limits.max_members) return {};
    return cpg::Status(CS_ERR_NO_RESOURCES, "the group has " + std::to_string(limits.max_members) +
                                                " members, the most a group may have");
  }
  if (table_.group_count() < limits.max_groups) return {};
  return cpg::Status(CS_ERR_NO_RESOURCES, "the cluster has " + std::to_string(limits.max_groups) +
                                              " groups, the most it may have");
}

// Our own join came back refused (others took the last place, or a bound
// this node could not see at cpg_join): the handle is out of the group, and
// its sends say why.
void Node::refuse_join_locked(Session& session, const groups::Ignored& why) {
  const std::string text = groups::ignore_reason_name(why.reason);
  if (!session.join_refused_locked("the ring refused this handle's join of '" +
                                   session.group_locked() + "' (" + text + ")")) {
    return;
  }
  ++joins_refused_;
  log_line("node " + std::to_string(node_id_) + ": the join of group '" + session.group_locked() +
           "' by pid " + std::to_string(session.pid()) + " was refused: " + text);
}

RingEvent Node::ring_event() const {
  {
    std::lock_guard lock(mutex_);
    if (ring_) return *ring_;
  }
  // Before the transport's first configuration reached us.
  const StatusSnapshot t = transport_->status();
  RingEvent e;
  e.representative = t.ring_representative;
  e.seq = t.ring_seq;
  e.nodes.assign(t.members.begin(), t.members.end());
  return e;
}

cpg::Status Node::submit_control(std::uint64_t session_id, std::uint32_t pid,
                                 groups::GroupMessageKind kind, std::string_view group,
                                 bool wait_for_room) {
  std::array<std::byte, groups::kMaxGroupMessageBytes> buffer;
  const std::size_t n = groups::encode_group_message({kind, std::string(group)}, buffer);
  runtime::OutgoingTransportMessage m;
  m.payload = std::span(buffer).first(n);
  m.group = groups::kControlGroup;
  m.sender_pid = pid;
  m.guarantee = runtime::DeliveryGuarantee::agreed;
  // A finalize must get out even under back-pressure or a sync: the others
  // would keep a dead member in the group. The queue drains as the token
  // turns, and a sync ends once every node announced.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::lock_guard serial(control_mutex_);
  for (;;) {
    cpg::Status s;
    {
      std::shared_lock gate(gate_);
      bool blocked = false;
      {
        // Queued before the submit: an inline round may deliver it at once.
        std::lock_guard lock(mutex_);
        blocked = sync_blocks_locked(kind);
        if (!blocked) own_controls_.push_back({session_id, pid, kind});
      }
      if (blocked) {
        s = cpg::Status(CS_ERR_TRY_AGAIN, "the ring is merging its groups (sync)");
      } else {
        s = to_status(transport_->submit(m));
        if (!s.ok()) {
          std::lock_guard lock(mutex_);
          own_controls_.pop_back();  // not submitted, so not delivered either
        }
      }
    }
    if (s.code() != CS_ERR_TRY_AGAIN || !wait_for_room ||
        std::chrono::steady_clock::now() > give_up) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

cpg::Status Node::send(std::uint32_t pid, std::string_view group, Guarantee guarantee,
                       std::span<const std::span<const std::byte>> pieces) {
  // While our announce goes out (gate_ held exclusively) or the sync lasts.
  std::uint64_t total = 0;
  for (const auto& piece : pieces)
    total += piece.size();
  if (total > max_message_bytes_) {
    if (total > max_fragmented_bytes_)
      return cpg::Status(CS_ERR_TOO_BIG,
                         "a message of " + std::to_string(total) +
                             " bytes is above totem.max_fragmented_message_bytes (" +
                             std::to_string(max_fragmented_bytes_) + ")");
    return send_fragmented(pid, group, guarantee, pieces, total);
  }
  std::shared_lock gate(gate_, std::try_to_lock);
  if (!gate.owns_lock() || sync_blocks_data_.load(std::memory_order_acquire))
    return cpg::Status(CS_ERR_TRY_AGAIN, "the ring is merging its groups (sync)");
  runtime::OutgoingTransportMessage m;
  m.pieces = pieces;
  m.group = groups::group_key(group);
  m.sender_pid = pid;
  m.guarantee = to_transport(guarantee);
  return to_status(transport_->submit(m));
}

bool Node::flow_control_enabled() {
  const SendPathSnapshot s = transport_->send_path();
  return s.queued_messages >= s.queue_capacity ||
         s.buffer_bytes - s.buffer_bytes_used < max_message_bytes_;
}

// --- Delivery: the transport's thread, its lock held.

void Node::on_round(runtime::EventSource& events) {
  bool zero_copy_done = false;
  Woken woken;  // attached pools' on_done, at most once each
  {
    std::lock_guard lock(mutex_);
    if (eviction_.max_bytes != 0) round_now_ = std::chrono::steady_clock::now();
    while (auto e = events.next_event()) {
      if (e->change != nullptr) {
        on_change(*e->change);
      } else {
        on_delivery(e->message, e->index);
      }
    }
    evict_stalled_locked();
    if (!has_left()) {
      if (std::optional<std::uint64_t> unsent = events.left_unsent()) on_left_locked(*unsent);
    }
    while (auto tag = events.next_zero_copy_done()) {
      end_zero_copy_send_locked(*tag, woken);
      zero_copy_done = true;
    }
    const std::uint64_t frontier = release_frontier();
    if (frontier > released_) {
      released_ = frontier;
      release_mark_ = release_mark_locked();
      (void)events.release_through(frontier);
    }
  }
  if (zero_copy_done) zero_copy_done_.notify_all();
  for (const auto& [number, on_done] : woken)
    on_done();
}

// A transitional configuration says who goes on with us from the ring that
// ends; the regular one after it changes the groups (node_sync.cpp). The
// first configuration is the ring we start in: nothing to change yet.
void Node::on_change(const runtime::TransportConfiguration& change) {
  if (change.transitional) {
    side_.assign(change.members.begin(), change.members.end());
    return;
  }
  const bool first = !ring_.has_value();
  ring_ = RingEvent{change.ring.representative, change.ring.epoch,
                    std::vector<std::uint32_t>(change.members.begin(), change.members.end())};
  quorum_.on_ring(*ring_, side_);
  if (first) {
    members_ = ring_->nodes;
    return;
  }
  // Messages in fragments: a node that left will not finish its own, and
  // nodes that came in lack the fragments before this point, so nobody may
  // deliver what is in progress (alike at every member: see
  // groups/fragment_assembly.hpp).
  for (std::uint32_t gone : change.left)
    assembler_.drop_node(gone);
  if (!change.joined.empty()) assembler_.drop_all();
  note_abandoned_locked();
  apply_regular(change);
}

void Node::queue_ring_change_locked() {
  auto ring = std::make_shared<const RingEvent>(*ring_);
  for (Session* s : sessions_) {
    if (!s->wants_ring_changes()) continue;
    Event e;
    e.kind = Event::Kind::ring;
    e.ring = ring;
    s->push_locked(std::move(e));
  }
}

void Node::on_delivery(const runtime::TransportMessage& d, std::uint64_t index) {
  RC_ASSERT(index > highest_delivered_);
  highest_delivered_ = index;
  log_bytes_delivered_ += log_span_bytes(d.payload.size());
  if (d.group == groups::kControlGroup) {
    on_control(d);
  } else if (d.group == groups::kFragmentGroup) {
    on_fragment(d, index);
  } else {
    on_data(d, index);
  }
}

bool Node::local_pid_locked(std::uint32_t pid) const {
  if (pid == pid_) return true;
  for (const Session* s : sessions_) {
    if (s->pid() == pid) return true;
  }
  return std::any_of(evictions_.begin(), evictions_.end(),
                     [&](const Eviction& e) { return e.pid == pid; });
}

void Node::on_data(const runtime::TransportMessage& d, std::uint64_t index) {
  if (sync_ && from_unannounced_locked(d.sender)) {
    ++sync_skipped_;  // sent before its node's announce: its groups are unknown here
    return;
  }
  // The callback's msg is non-const.
  deliver_data_locked({d.sender, d.sender_pid}, d.group, const_cast<std::byte*>(d.payload.data()),
                      d.payload.size(), nullptr, index, d.payload.size());
}

void Node::deliver_data_locked(groups::GroupMember sender, std::uint32_t key, std::byte* payload,
                               std::size_t bytes, std::shared_ptr<std::vector<std::byte>> assembled,
                               std::uint64_t index, std::size_t record_bytes) {
  const groups::Group* g = table_.route(key, sender);
  if (g == nullptr) return;  // counted by the table
  // A session closed meanwhile gets nothing: its finalize is on its way.
  for_each_member_session(sessions_, node_id_, g->name, g->members, [&](Session& s) {
    Event e;
    e.kind = Event::Kind::message;
    e.seq = index;
    e.log_mark = log_bytes_delivered_ - log_span_bytes(record_bytes);
    e.queued_at = round_now_;
    e.sender = {sender.node, sender.pid};
    e.payload = payload;
    e.payload_bytes = bytes;
    e.assembled = assembled;  // shared by the local members
    e.group = s.group_ptr_locked();
    s.push_locked(std::move(e));
  });
}

void Node::on_control(const runtime::TransportMessage& d) {
  auto message = groups::decode_group_message(d.payload);
  if (!message.ok()) {
    ++control_invalid_;
    log_line("dropped a group control record from node " + std::to_string(d.sender) + ": " +
             message.error().message());
    return;
  }
  const groups::GroupMember sender{d.sender, d.sender_pid};
  if (message->kind == groups::GroupMessageKind::finalize) {
    // Its process ended: it will not finish a message in fragments.
    assembler_.drop_member(sender);
    note_abandoned_locked();
  }
  if (groups::is_announce(message->kind)) {
    on_announce(*message, sender);
    return;
  }
  Session* own = nullptr;
  if (own_control_locked(sender)) {
    own = take_own_control_locked(message->kind);
  } else {
    // A record of (node, pid) that this node acts for is one it submitted.
    RC_ASSERT(sender.node != node_id_ || !local_pid_locked(sender.pid));
  }
  if (sync_ && from_unannounced_locked(d.sender)) {
    ++sync_skipped_;  // its announce will say where its process stands
    return;
  }
  auto change = table_.apply(*message, sender);
  if (!change.ok()) {  // ignored, counted by the table
    if (own != nullptr && message->kind == groups::GroupMessageKind::join)
      refuse_join_locked(*own, change.error());
    return;
  }
  Session* leaver = nullptr;
  if (own != nullptr && message->kind == groups::GroupMessageKind::join) own->joined_locked();
  if (own != nullptr && message->kind == groups::GroupMessageKind::leave && own->member_locked())
    leaver = own;
  queue_view(*change, leaver);
  if (leaver != nullptr) leaver->left_locked();
}

// Ours when our node submitted it for that pid: the front of
// own_controls_ (a record of an earlier process of this node with another
// pid is not).
bool Node::own_control_locked(groups::GroupMember sender) const {
  return sender.node == node_id_ && !own_controls_.empty() &&
         own_controls_.front().pid == sender.pid;
}

Session* Node::take_own_control_locked(groups::GroupMessageKind kind) {
  const OwnControl c = own_controls_.front();
  own_controls_.pop_front();
  RC_ASSERT(c.kind == kind);
  if (own_controls_.empty() && sync_) announce_wake_.notify_all();
  return session_by_id(c.session);  // null when that session closed since
}

// To every local member of the group after the change, and to `leaver`
// (our own leave: no longer listed), each with its own queue.
void Node::queue_view(const groups::GroupViewChange& change, Session* leaver) {
  auto v = std::make_shared<ViewEvent>();
  v->group = change.name;
  for (const auto& m : change.members)
    v->members.push_back({m.node, m.pid});
  for (const auto& c : change.left)
    v->left.push_back({{c.member.node, c.member.pid}, static_cast<Reason>(c.reason)});
  for (const auto& c : change.joined)
    v->joined.push_back({{c.member.node, c.member.pid}, static_cast<Reason>(c.reason)});
  std::shared_ptr<const ViewEvent> shared = std::move(v);
  auto push = [&](Session& s) {
    Event e;
    e.kind = Event::Kind::view;
    e.view = shared;
    s.push_locked(std::move(e));
  };
  for_each_member_session(sessions_, node_id_, change.name, change.members, push);
  if (leaver != nullptr) push(*leaver);
}

void Node::set_group_limits(groups::GroupLimits limits) {
  std::lock_guard lock(mutex_);
  table_ = groups::GroupTable(limits);
}

// --- Releases.

std::uint64_t Node::release_frontier() const {
  std::uint64_t f = highest_delivered_;
  for (const Session* s : sessions_) {
    if (s->has_pinned_locked()) f = std::min(f, s->oldest_pinned_locked() - 1);
  }
  return f;
}

// The log bytes delivered before the oldest message still held: how far a
// release through the frontier frees the log.
std::uint64_t Node::release_mark_locked() const {
  std::uint64_t mark = log_bytes_delivered_;
  for (const Session* s : sessions_) {
    if (s->has_pinned_locked()) mark = std::min(mark, s->oldest_pin_locked().log_mark);
  }
  return mark;
}

// Each release from here is a trip through the transport's lock, which the
// progress thread holds while it works: batched, by records and by log
// bytes. What is left is released by the transport's next round (on_round,
// under the lock it holds anyway), which comes when anything arrives or the
// token moves.
std::uint64_t Node::batched_release_locked() {
  const std::uint64_t f = release_frontier();
  if (f <= released_) return 0;
  const std::uint64_t mark = release_mark_locked();
  if (f - released_ < kReleaseBatchRecords && mark < release_mark_ + kReleaseBatchBytes) return 0;
  released_ = f;
  release_mark_ = mark;
  return f;
}

void Node::unpin(Session& session, std::uint64_t seq) {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    session.unpin_locked(seq);
    target = batched_release_locked();
  }
  if (target != 0) (void)transport_->release_through(target);
}

HeldRelease Node::release_held(Session& session, std::uint64_t id) {
  std::uint64_t target = 0;
  HeldRelease r;
  {
    std::lock_guard lock(mutex_);
    r = session.release_held_locked(id);
    if (r.ok) target = batched_release_locked();
  }
  if (target != 0) (void)transport_->release_through(target);
  return r;
}

void Node::release_unpinned() {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    const std::uint64_t f = release_frontier();
    if (f > released_) {
      released_ = target = f;
      release_mark_ = release_mark_locked();
    }
  }
  if (target != 0) (void)transport_->release_through(target);
}

// --- Queries.

std::vector<Member> Node::members_of(std::string_view group) const {
  std::lock_guard lock(mutex_);
  std::vector<Member> out;
  if (const groups::Group* g = table_.find(group)) {
    for (const auto& m : g->members)
      out.push_back({m.node, m.pid});
  }
  return out;
}

std::vector<cpg_iteration_description_t> Node::describe_groups(cpg_iteration_type_t type,
                                                               std::string_view group) const {
  std::lock_guard lock(mutex_);
  std::vector<cpg_iteration_description_t> out;
  auto add = [&out](const groups::Group& g, std::uint32_t node, std::uint32_t pid) {
    cpg_iteration_description_t d{};
    d.group.length = static_cast<std::uint32_t>(g.name.size());
    std::memcpy(d.group.value, g.name.data(), g.name.size());
    d.nodeid = node;
    d.pid = pid;
    out.push_back(d);
  };
  table_.for_each_group([&](const groups::Group& g) {
    if (type == CPG_ITERATION_NAME_ONLY) {
      add(g, 0, 0);
    } else if (type == CPG_ITERATION_ALL || g.name == group) {
      for (const auto& m : g.members)
        add(g, m.node, m.pid);
    }
  });
  return out;
}

Counters Node::counters() const {
  Counters c;
  const StatusSnapshot t = transport_->status();
  c.ring_representative = t.ring_representative;
  c.ring_seq = t.ring_seq;
  c.members = static_cast<std::uint32_t>(t.members.size());
  c.tokens_received = t.tokens_received;
  c.tokens_passed = t.tokens_passed;
  c.tokens_dropped = t.tokens_dropped;
  c.records_delivered = t.records_delivered;
  c.records_dropped = t.records_dropped;
  c.writes_wrong_link = t.writes_wrong_link;
  c.link_replacements_refused = t.link_replacements_refused;
  c.record_stalls = t.record_stalls;
  c.records_repaired = t.records_repaired;
  c.bytes_copied_on_send = transport_->send_path().bytes_copied_on_send;
  std::lock_guard lock(mutex_);
  c.messages_dropped_not_member = table_.counters().data_dropped_not_member;
  c.zero_copy_sends = zero_copy_sends_;
  c.zero_copy_bytes_copied = zero_copy_bytes_copied_;
  c.zero_copy_bytes_from_buffer = zero_copy_bytes_from_buffer_;
  const groups::FragmentCounters& f = assembler_.counters();
  c.large_messages_sent = large_messages_sent_;
  c.large_messages_delivered = f.messages_assembled;
  c.large_messages_abandoned = f.messages_abandoned;
  c.fragments_refused = f.fragments_refused + f.fragments_orphaned;
  c.bytes_copied_on_assembly = f.bytes_copied;
  c.handles_evicted = handles_evicted_;
  c.messages_spilled = messages_spilled_;
  c.bytes_copied_on_spill = bytes_copied_on_spill_;
  c.joins_refused = joins_refused_;
  c.messages_unsent_on_leave = unsent_on_leave_;
  return c;
}

}  // namespace ringcast::client
