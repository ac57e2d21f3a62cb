// Membership: the gather (Totem's join messages until every candidate agrees on
// who is in and who failed) and the commit that the representative builds.
#include <algorithm>

#include "membership/generation.hpp"
#include "membership/membership.hpp"
#include "ring/imm.hpp"

namespace ringcast::membership {

void Membership::enter_gather(std::uint64_t now_ns, bool send_now) {
  if (phase_ == Phase::left) return;
  // A gather grows its sets in place (sets_changed); it is never entered anew.
  RC_ASSERT(phase_ != Phase::gather);
  if (phase_ == Phase::operational) {
    installed().ring->freeze();
    proc_ = installed().members;
    fail_ = 0;
  } else if (phase_ == Phase::commit) {
    abandon_commit();
  }
  ++counters_.gathers;
  phase_ = Phase::gather;
  joins_ = {};  // a new round: only joins that arrive from now on count
  fail_ |= proc_ & ~link_ok_ & ~bit(me_);
  consensus_deadline_ns_ = now_ns + config_.consensus_timeout_ns;
  // The ring left stops for good and stays the newest: nothing is forming.
  RC_ASSERT(!commit_.has_value());
  RC_ASSERT(&newest() == &installed());
  RC_ASSERT(installed().ring->frozen());
  assert_gather_sets();
  if (send_now) send_joins(now_ns);
  // The caller checks consensus once it merged what made it gather (a join
  // merged later could otherwise find a ring of one agreed already).
}

// Whoever has not agreed by now is left out (Totem adds them to the failed
// set); the others go on gathering without them.
void Membership::on_consensus_timeout(std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::gather);
  ++counters_.consensus_timeouts;
  const NodeMask proc = proc_;
  const NodeMask fail = fail_;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (k == me_ || !has(proc & ~fail, k)) continue;
    const JoinSeen& j = joins_[k];
    if (!j.valid || j.proc != proc || j.fail != fail) fail_ |= bit(k);
  }
  // Everyone agreed but the representative never committed: it is out.
  const NodeMask members = proc & ~fail;
  if (fail_ == fail && lowest(members) != me_) fail_ |= bit(lowest(members));
  joins_ = {};
  consensus_deadline_ns_ = now_ns + config_.consensus_timeout_ns;
  send_joins(now_ns);
  check_consensus(now_ns);
}

// What this member brings: its installed ring, every seq it holds in a row
// (walking the headers: a corrupted one ends what it can offer), what it
// delivered, and how far its application released.
OldRingInfo Membership::my_info() const {
  const Generation& g = installed();
  const ring::ReceiveLog& log = g.ring->log();
  OldRingInfo info;
  info.ring = g.id();
  info.delivered = log.delivered_seq();
  info.received_up_to = log.received_up_to();
  auto end = log.end_of(info.received_up_to);
  if (!end) {
    info.received_up_to = info.delivered;
    end = log.end_of(info.delivered);
  }
  info.end_position = end.value_or(log.base_position());
  info.released_position = gens_.front()->ring->released_for_peers();
  info.max_epoch = max_epoch_;
  // What the receivers' decode_membership_message requires of an info, true of mine.
  RC_ASSERT(info.delivered <= info.received_up_to);
  RC_ASSERT(info.released_position <= info.end_position);
  RC_ASSERT(info.ring.epoch <= info.max_epoch);
  return info;
}

// The sets a gather keeps, whatever joins it merged: I am a candidate and
// never failed; only candidates fail; the ring I leave is among the
// candidates; a candidate I cannot reach is failed.
void Membership::assert_gather_sets() const noexcept {
  RC_ASSERT(has(proc_, me_));
  RC_ASSERT(!has(fail_, me_));
  RC_ASSERT((fail_ & ~proc_) == 0);
  RC_ASSERT((installed().members & ~proc_) == 0);
  RC_ASSERT((proc_ & ~fail_ & ~link_ok_ & ~bit(me_)) == 0);
}

void Membership::send_joins(std::uint64_t now_ns, NodeMask to) {
  RC_ASSERT(phase_ == Phase::gather);
  next_send_ns_ = now_ns + config_.join_interval_ns;
  MembershipMessage m;
  m.type = MembershipMessageType::join;
  m.candidates = proc_;
  m.failed = fail_;
  m.reach = link_ok_ | bit(me_);
  m.info_count = 1;
  m.infos[0] = my_info();
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (k != me_ && has(proc_ & ~fail_ & link_ok_ & to, k)) send_control(k, m, {});
  }
}

void Membership::send_control(std::size_t peer, MembershipMessage m,
                              std::span<const fabric::WriteOp> before) {
  // Every caller sends over live links only, never to itself.
  RC_ASSERT(peer != me_);
  RC_ASSERT(has(link_ok_, peer));
  // A busy slot or a full outbox: skipped, and sent again when the slot
  // frees (resend_skipped); every message is also repeated.
  if (staging_busy_[peer] || !outbox_.has_room(peer)) {
    skipped_ |= bit(peer);
    return;
  }
  m.sender_index = static_cast<std::uint8_t>(me_);
  m.sender = config_.nodes[me_];
  m.message_seq = ++message_seq_;
  const std::uint64_t staging = std::uint64_t{peer} * ring::kControlSlotBytes;
  const std::size_t bytes = encode_membership_message(
      m, memory_.control_staging->bytes().subspan(staging, ring::kControlSlotBytes));
  auto ops = outbox_.open(peer);
  RC_ASSERT(before.size() + 1 <= ops.size());
  std::copy(before.begin(), before.end(), ops.begin());
  fabric::WriteOp& op = ops[before.size()];
  op = fabric::WriteOp{};
  op.segments[0] = {memory_.control_staging, staging, static_cast<std::uint32_t>(bytes)};
  op.segment_count = 1;
  op.remote_region = ring::kMailboxRegion;
  op.remote_offset =
      ring::control_area_offset(ring_config_.mailbox_slots) + me_ * ring::kControlSlotBytes;
  op.with_imm = true;
  op.imm = membership_message_imm(me_, m.message_seq);
  op.signaled = true;  // frees the staging slot
  op.wr_id = (kControlWrTag << 32) | peer;
  outbox_.commit(peer, before.size() + 1);
  staging_busy_[peer] = true;
  skipped_ &= ~bit(peer);
  ++counters_.control_sent;
}

void Membership::drop_control(MembershipMessageFault fault) noexcept {
  ++counters_.control_dropped;
  counters_.last_control_fault = fault;
}

// The sender is the peer whose link the immediate came on: its own control
// slot is the one read, whatever the immediate says (which must agree).
void Membership::on_control(const fabric::Completion& c, std::uint64_t now_ns) {
  const std::uint32_t imm = c.imm;
  const auto node = std::find(config_.nodes.begin(), config_.nodes.end(), c.peer);
  const auto sender = static_cast<std::size_t>(node - config_.nodes.begin());
  if (node == config_.nodes.end() || sender == me_ || control_imm_sender(imm) != sender) {
    ++counters_.control_wrong_link;
    return drop_control(MembershipMessageFault::wrong_link);
  }
  const std::size_t offset =
      ring::control_area_offset(ring_config_.mailbox_slots) + sender * ring::kControlSlotBytes;
  MembershipMessage m;
  const MembershipMessageFault fault = decode_membership_message(
      memory_.ring.mailbox->bytes().subspan(offset, ring::kControlSlotBytes),
      MembershipMessageLimits{config_.nodes}, &m);
  if (fault != MembershipMessageFault::none) return drop_control(fault);
  if (m.sender_index != sender) return drop_control(MembershipMessageFault::bad_sender);
  // Overwritten by a newer message (whose own immediate follows), or replayed.
  if ((m.message_seq & 0xFFFFFFu) != control_imm_seq(imm) ||
      m.message_seq <= last_seq_seen_[sender]) {
    ++counters_.control_stale;
    return;
  }
  last_seq_seen_[sender] = m.message_seq;
  ++counters_.control_received;
  switch (m.type) {
    case MembershipMessageType::join:
      return on_join(m, now_ns);
    case MembershipMessageType::commit:
      return on_commit(m, now_ns);
    case MembershipMessageType::recovered:
      return on_recovered(m, now_ns);
    case MembershipMessageType::ready:
      return on_ready(m, now_ns);
  }
}

void Membership::on_join(const MembershipMessage& m, std::uint64_t now_ns) {
  const std::size_t s = m.sender_index;
  // A node that failed me forms its ring without me; it does not disturb mine.
  if (phase_ != Phase::gather && has(m.failed, me_)) return;
  bool entered = false;
  if (phase_ == Phase::operational) {
    const Generation& g = installed();
    // A join sent before the sender installed this ring: it is over.
    if (has(g.members, s) && m.infos[0].max_epoch < g.id().epoch) return;
    // An outsider that cannot reach all of this ring would split it, not
    // join it (a one-way failure would otherwise make rings flip forever).
    if (!has(link_ok_, s)) return;
    // Merges wait until every member installed this ring (its token went
    // around once more): a join arriving while the first token travels
    // would otherwise end the ring before all had it, and again next time.
    if (!has(g.members, s) && (!can_merge(m, g.members) || !everyone_installed(g))) return;
    enter_gather(now_ns, false);
    entered = true;
  } else if (phase_ == Phase::commit) {
    if (has(commit_->members, s) && m.candidates == proc_ && m.failed == fail_) {
      joins_[s] = {true, m.candidates, m.failed, m.infos[0]};
      // The commit was built from an older join of its (the sender installed
      // a ring since): gather again, now with what it says today.
      if (m.infos[0].ring == commit_->infos[s].ring) return;
    }
    // An outsider's join waits for the install (its joins repeat): ending
    // a commit for it could end every commit while it gathers.
    if (has(fail_, s) || !has(commit_->members, s)) return;
    enter_gather(now_ns, false);
    entered = true;
  }
  if (phase_ != Phase::gather) return;
  // Joining a gather on a join: the first joins go out with what it says
  // merged (sent before, they named sets outdated at once, and the others
  // could agree only on the second ones, a staging slot's completion later).
  if (merge_join(m) || entered) sets_changed(now_ns);
  check_consensus(now_ns);
}

// My candidates or failed nodes grew: the others learn it from my joins, and
// get a whole consensus timeout from now to answer (Totem re-enters gather,
// restarting its consensus timer). Without it, two members whose gathers
// began a join's delay apart could agree only moments before the later one's
// deadline, which would then fail the representative whose commit is on its
// way (on separate hosts under load, each survivor of a crash would form a
// ring of one).
// The sets only grow within a gather, so this happens at most twice per node.
void Membership::sets_changed(std::uint64_t now_ns) {
  consensus_deadline_ns_ = now_ns + config_.consensus_timeout_ns;
  send_joins(now_ns);
}

bool Membership::everyone_installed(const Generation& g) const noexcept {
  const ring::RingState& r = *g.ring;
  if (r.membership().size() == 1) return true;
  return r.counters().tokens_received >= (r.membership().my_index == 0 ? 1u : 2u);
}

// An outsider's join merges its ring with ours only where every member can
// be reached: it reaches all of ours, we reach all of its candidates.
bool Membership::can_merge(const MembershipMessage& m, NodeMask ours) const noexcept {
  return (ours & ~m.reach) == 0 && (m.candidates & ~m.failed & ~(link_ok_ | bit(me_))) == 0;
}

// The representative of a running ring tells the nodes outside it that it is
// there (Totem's merge detection): a join naming its ring. A node that can
// merge gathers, and its joins make this ring gather too; a partition that
// healed, or a member that was left out while it was slow, comes back.
void Membership::probe_outsiders(std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::operational);
  next_probe_ns_ = now_ns + config_.consensus_timeout_ns;
  const Generation& g = installed();
  if (lowest(g.members) != me_) return;
  MembershipMessage m;
  m.type = MembershipMessageType::join;
  m.candidates = g.members;
  m.reach = link_ok_ | bit(me_);
  m.info_count = 1;
  m.infos[0] = my_info();
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (has(link_ok_ & ~g.members, k)) send_control(k, m, {});
  }
}

// Totem's rules: ignore a node already failed; a node that says I failed is
// failed for me too; otherwise take its candidates and its failed nodes.
bool Membership::merge_join(const MembershipMessage& m) {
  RC_ASSERT(phase_ == Phase::gather);
  const std::size_t s = m.sender_index;
  RC_ASSERT(s != me_);  // on_control drops my own index
  if (has(fail_, s) || !has(link_ok_, s)) return false;
  // A newcomer that cannot reach everyone gathering here would only split us.
  if (!has(proc_, s) && !can_merge(m, proc_ & ~fail_)) return false;
  const NodeMask proc_before = proc_;
  const NodeMask fail_before = fail_;
  proc_ |= bit(s);
  if (has(m.failed, me_)) {
    fail_ |= bit(s);
  } else {
    proc_ |= m.candidates;
    fail_ |= m.failed & ~bit(me_);
    joins_[s] = {true, m.candidates, m.failed, m.infos[0]};
  }
  fail_ |= proc_ & ~link_ok_ & ~bit(me_);  // nobody I cannot reach
  assert_gather_sets();
  // Totem's sets only grow within a gather.
  RC_ASSERT((proc_before & ~proc_) == 0);
  RC_ASSERT((fail_before & ~fail_) == 0);
  return proc_ != proc_before || fail_ != fail_before;
}

void Membership::check_consensus(std::uint64_t now_ns) {
  if (phase_ != Phase::gather) return;
  assert_gather_sets();
  const NodeMask members = proc_ & ~fail_;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (k == me_ || !has(members, k)) continue;
    const JoinSeen& j = joins_[k];
    if (!j.valid || j.proc != proc_ || j.fail != fail_) return;
  }
  if (lowest(members) != me_) return;  // the representative commits
  // Everyone agrees: the representative builds the commit.
  MembershipMessage m;
  m.type = MembershipMessageType::commit;
  m.sender_index = static_cast<std::uint8_t>(me_);
  m.sender = config_.nodes[me_];
  m.members = members;
  std::uint64_t epoch = max_epoch_;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (!has(members, k)) continue;
    const OldRingInfo info = k == me_ ? my_info() : joins_[k].info;
    epoch = std::max(epoch, info.max_epoch);
    m.infos[m.info_count++] = info;
  }
  // Named only once kept: a crash after the commit goes out must not let
  // this node's next process name another ring so.
  if (!may_name(epoch + 1)) return;
  m.ring = {config_.nodes[me_], epoch + 1};
  RC_ASSERT(m.info_count == count(members));  // one info per member, in node order
  Commit c;
  if (plan_commit(m, &c)) accept_commit(c, now_ns);
}

void Membership::on_commit(const MembershipMessage& m, std::uint64_t now_ns) {
  if (phase_ != Phase::gather) return;  // late copies of a commit we took, or stale
  if (m.members != (proc_ & ~fail_) || !has(m.members, me_) || m.ring.epoch <= max_epoch_) {
    ++counters_.control_stale;  // built from sets this member has moved on from
    return;
  }
  Commit c;
  if (!plan_commit(m, &c)) return drop_control(MembershipMessageFault::bad_field);
  accept_commit(c, now_ns);
}

// What the commit means for this member: its group (members from the same
// ring), the group's recovery source (the one holding the most in a row),
// how far the old ring is delivered, and where the new ring starts. Refuses
// a commit whose numbers cannot hold (hostile or corrupted).
bool Membership::plan_commit(const MembershipMessage& m, Commit* c) const {
  if (gens_.size() >= kMaxGenerations) return false;  // the application must release first
  RC_ASSERT(has(m.members, me_));  // both callers: the commit's members include me
  c->ring = m.ring;
  c->members = m.members;
  std::size_t i = 0;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (has(m.members, k)) c->infos[k] = m.infos[i++];
  }
  RC_ASSERT(i ==
            m.info_count);  // decode_membership_message and check_consensus: one info per member
  const OldRingInfo& mine = c->infos[me_];
  if (mine.ring != installed().id()) return false;
  c->group = 0;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (!has(c->members, k)) continue;
    const OldRingInfo& info = c->infos[k];
    c->base_position = std::max(c->base_position, info.end_position);
    if (info.ring != mine.ring) continue;
    c->group |= bit(k);
    c->regular_through = std::max(c->regular_through, info.delivered);
    if (info.received_up_to > c->through || c->group == bit(k)) {
      c->through = info.received_up_to;
      c->source = k;
    }
  }
  // Mine names the installed ring: I am in my group, and so is its source.
  RC_ASSERT(has(c->group, me_));
  RC_ASSERT(has(c->group, c->source));
  c->end_position = c->infos[c->source].end_position;
  const std::uint64_t log_bytes = ring_config_.log_bytes;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (!has(c->group, k)) continue;
    const OldRingInfo& info = c->infos[k];
    if (info.end_position > c->end_position || c->end_position - info.end_position > log_bytes ||
        c->through - info.received_up_to > log_bytes / ring::kRecordAlignBytes) {
      return false;
    }
  }
  const ring::ReceiveLog& log = installed().ring->log();
  return log.delivered_seq() <= c->regular_through && c->through >= log.delivered_seq();
}

void Membership::accept_commit(const Commit& c, std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::gather);
  RC_ASSERT(!commit_.has_value());
  RC_ASSERT(gens_.size() < kMaxGenerations);
  // The commit is the gather's agreement: exactly its live candidates, me
  // among them, its ring newer than any this member has seen and named
  // after the representative (the lowest member).
  RC_ASSERT(c.members == (proc_ & ~fail_));
  RC_ASSERT(has(c.members, me_));
  RC_ASSERT(c.ring.epoch > max_epoch_);
  RC_ASSERT(c.ring.representative == config_.nodes[lowest(c.members)]);
  // Each info's delivered is within its received_up_to, so the maxima are too.
  RC_ASSERT(c.regular_through <= c.through);
  // Fencing: the old ring's members left out lose their links to us before
  // anything of the new ring is written (see next_disconnect).
  const NodeMask fenced = installed().members & ~c.members & link_ok_ & ~bit(me_);
  // They are candidates (the old ring's members all are) that this gather
  // failed, so losing their links changes none of its sets.
  RC_ASSERT((fenced & ~fail_) == 0);
  to_disconnect_ |= fenced;
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (has(fenced, k)) on_link_failed(k, now_ns);
  }
  RC_ASSERT(phase_ == Phase::gather);
  commit_ = c;
  phase_ = Phase::commit;
  max_epoch_ = c.ring.epoch;
  commit_deadline_ns_ = now_ns + config_.consensus_timeout_ns;
  // Held means landed and checking: a record that fails here (corrupted
  // after this member reported it) keeps it from being ready, the commit
  // times out, and the next gather's info stops before it (my_info).
  const ring::ReceiveLog& log = installed().ring->log();
  commit_->recovered = log.received_up_to() >= c.through && log.end_of(c.through).has_value();
  ring::RingStart where;
  where.base_position = c.base_position;
  where.my_released_position = gens_.front()->ring->released_for_peers();
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (has(c.members, k)) where.member_released.push_back(c.infos[k].released_position);
  }
  auto g = make_generation(c.members, c.ring, where);
  g->ring->adopt_queue(*newest().ring);
  gens_.push_back(std::move(g));
  update_release_caps();
  const bool representative = lowest(c.members) == me_;
  if (!representative) newest().ring->start(now_ns);
  send_commit_messages(now_ns);
  if (representative && commit_->recovered) {
    commit_->ready |= bit(me_);
    check_install(now_ns);
  }
}

// Back to gathering: the ring that was forming never ran (its first token
// was not seen here); the queue goes back to the ring before it.
void Membership::abandon_commit() {
  if (!commit_) return;
  // The ring the commit formed is the newest and not installed.
  RC_ASSERT(gens_.size() >= 2);
  RC_ASSERT(!newest().installed);
  commit_.reset();
  if (gens_.size() >= 2 && !newest().installed) {
    gens_[gens_.size() - 2]->ring->adopt_queue(*newest().ring);
    retire(newest());
    gens_.pop_back();
  }
}

}  // namespace ringcast::membership
