// Membership: recovery (the old ring's records go to the members of its group
// that lack them), readiness, and the install of the new ring.
#include <algorithm>

#include "membership/generation.hpp"
#include "membership/membership.hpp"

namespace ringcast::membership {

// Repeated every join interval until the ring installs: every message here
// says a state, so a copy lost to a busy slot is sent again. A peer's control
// slot holds one message at a time, so when several are due for one peer
// (the commit, its records, the ready), each send takes the next of them.
// The turn moves only when a message went: stepped every round, a slot busy
// every other round (a write acknowledged after one to two join intervals,
// as on a loaded host) would send the same type forever, the records and
// never the commit they need first.
void Membership::send_commit_messages(std::uint64_t now_ns, NodeMask to) {
  RC_ASSERT(phase_ == Phase::commit);
  RC_ASSERT(commit_.has_value());
  next_send_ns_ = now_ns + config_.join_interval_ns;
  Commit& c = *commit_;
  const std::size_t representative = lowest(c.members);
  // A member whose link fails ends the commit: the others are all reachable.
  RC_ASSERT((c.members & ~link_ok_ & ~bit(me_)) == 0);
  for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
    if (k == me_ || !has(c.members & link_ok_ & to, k)) continue;
    std::array<MembershipMessageType, 3> due{};
    std::size_t n = 0;
    if (representative == me_ && !has(c.ready, k)) due[n++] = MembershipMessageType::commit;
    if (c.source == me_ && has(c.group & ~c.ready, k) && c.infos[k].received_up_to < c.through) {
      due[n++] = MembershipMessageType::recovered;
    }
    if (c.recovered && k == representative) {
      if (old_forwards_landed()) {
        due[n++] = MembershipMessageType::ready;
      } else {
        ready_after_forwards_ = true;  // sent once they landed (on_write_completion)
      }
    }
    if (n == 0) continue;
    const std::uint64_t sent = counters_.control_sent;
    const MembershipMessageType type = due[c.turn[k] % n];
    send_commit_message(k, type);
    if (counters_.control_sent == sent) continue;
    ++c.turn[k];
    // A type due and never sent to this peer goes as soon as the slot frees
    // (a relayed ring leaves more members to recover: the representative may
    // need the records and this member's ready), not a join interval later.
    c.sent[k] |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(type));
    for (std::size_t i = 0; i < n; ++i) {
      if ((c.sent[k] & (1u << static_cast<unsigned>(due[i]))) == 0) skipped_ |= bit(k);
    }
  }
}

void Membership::send_commit_message(std::size_t peer, MembershipMessageType type) {
  const Commit& c = *commit_;
  // Only the representative commits; a member is ready only once recovered.
  RC_ASSERT(type != MembershipMessageType::commit || lowest(c.members) == me_);
  RC_ASSERT(type != MembershipMessageType::ready || c.recovered);
  if (type == MembershipMessageType::recovered) return send_recovery(peer);
  MembershipMessage m;
  m.type = type;
  m.ring = c.ring;
  if (type == MembershipMessageType::commit) {
    m.members = c.members;
    for (std::size_t k = 0; k < config_.nodes.size(); ++k) {
      if (has(c.members, k)) m.infos[m.info_count++] = c.infos[k];
    }
  }
  send_control(peer, m, {});
}

// The records the peer lacks lie between the end it reported and the end of
// `through`, at the same offsets in every log: at most two writes (the range
// may wrap), straight from this member's log, then the message saying so on
// the same link (FIFO: the records have landed when it arrives). Bytes the
// peer already holds are rewritten with themselves. The records go once per
// commit; a repeat is the message alone, which lands after them all the
// same: a copy still on its way when the peer is ready, delivers and
// releases them could land on the new ring's records.
void Membership::send_recovery(std::size_t peer) {
  Commit& c = *commit_;
  if (!has(link_ok_, peer)) return;
  // The group's source writes to the group's members; plan_commit bounded
  // their ranges to at most one log length before the source's end.
  RC_ASSERT(c.source == me_);
  RC_ASSERT(has(c.group, peer));
  RC_ASSERT(c.infos[peer].end_position <= c.end_position);
  std::array<fabric::WriteOp, 2> ops{};
  std::size_t n = 0;
  const std::uint64_t log_bytes = ring_config_.log_bytes;
  RC_ASSERT(c.end_position - c.infos[peer].end_position <= log_bytes);
  std::uint64_t pos = c.infos[peer].end_position;
  while (pos < c.end_position && n < ops.size()) {
    const std::uint64_t offset = pos % log_bytes;
    const std::uint64_t length = std::min(c.end_position - pos, log_bytes - offset);
    fabric::WriteOp& op = ops[n++];
    op.segments[0] = {memory_.ring.log, offset, static_cast<std::uint32_t>(length)};
    op.segment_count = 1;
    op.remote_region = ring::kLogRegion;
    op.remote_offset = offset;
    pos += length;
  }
  RC_ASSERT(pos == c.end_position);  // within one log length: two writes cover it
  if (has(c.recovery_written, peer)) n = 0;
  MembershipMessage m;
  m.type = MembershipMessageType::recovered;
  m.ring = c.ring;
  m.old_ring = installed().id();
  m.through_seq = c.through;
  m.end_position = c.end_position;
  const std::uint64_t sent = counters_.control_sent;
  send_control(peer, m, std::span<const fabric::WriteOp>(ops.data(), n));
  if (counters_.control_sent != sent && n > 0) {
    ++counters_.recovery_writes;
    c.recovery_written |= bit(peer);
  }
}

// Before marking anything, every header from the delivered ones up to
// `through` must validate and chain to the announced end: a source that wrote
// garbage is refused (the commit then times out), never delivered.
void Membership::on_recovered(const MembershipMessage& m, std::uint64_t now_ns) {
  if (phase_ != Phase::commit || commit_->recovered) return;
  const Commit& c = *commit_;
  if (m.ring != c.ring || m.sender_index != c.source || m.old_ring != installed().id() ||
      m.through_seq != c.through || m.end_position != c.end_position) {
    return drop_control(MembershipMessageFault::bad_field);
  }
  ring::ReceiveLog& log = installed().ring->mutable_log();
  const std::uint64_t before = log.received_up_to();
  const auto end = log.end_of(c.through);
  if (!end || *end != c.end_position || !log.mark_recovered(c.through)) {
    return drop_control(MembershipMessageFault::bad_field);
  }
  RC_ASSERT(log.received_up_to() >= c.through);
  counters_.records_recovered += c.through - before;
  commit_->recovered = true;
  if (lowest(c.members) == me_) {
    commit_->ready |= bit(me_);
    check_install(now_ns);
  } else {
    send_commit_messages(now_ns);
  }
}

void Membership::on_ready(const MembershipMessage& m, std::uint64_t now_ns) {
  if (phase_ != Phase::commit || lowest(commit_->members) != me_) return;
  if (m.ring != commit_->ring || !has(commit_->members, m.sender_index)) {
    return drop_control(MembershipMessageFault::bad_field);
  }
  commit_->ready |= bit(m.sender_index);
  check_install(now_ns);
}

bool Membership::old_forwards_landed() const noexcept {
  return installed().ring->forwards_in_flight() == 0;
}

// The representative starts the new ring once every member holds what it
// must deliver of the old one; everyone else installs it at its first token.
void Membership::check_install(std::uint64_t now_ns) {
  if (phase_ != Phase::commit) return;
  RC_ASSERT(commit_.has_value());
  RC_ASSERT((commit_->ready & ~commit_->members) == 0);  // on_ready takes members only
  ring::RingState& pending = *newest().ring;
  if (lowest(commit_->members) == me_ && commit_->ready == commit_->members &&
      old_forwards_landed() && !pending.token_seen()) {
    // Its own bit is set only once it holds what it must deliver.
    RC_ASSERT(commit_->recovered);
    pending.start(now_ns);
  }
  if (pending.token_seen()) install(now_ns);
}

void Membership::install(std::uint64_t now_ns) {
  RC_ASSERT(phase_ == Phase::commit);
  const Commit& c = *commit_;
  Generation& old = installed();
  Generation& next = newest();
  // The commit's ring, formed after the one installed, installs at its
  // first token; the old one stopped at the gather.
  RC_ASSERT(&old != &next);
  RC_ASSERT(!next.installed);
  RC_ASSERT(next.id() == c.ring);
  RC_ASSERT(old.id().epoch < next.id().epoch);
  RC_ASSERT(next.ring->token_seen());
  RC_ASSERT(old.ring->frozen());
  RC_ASSERT(!old.ending);
  // The old configuration's messages end at regular_through for the
  // stream: nothing beyond it was delivered (plan_commit refuses that).
  RC_ASSERT(old.ring->log().delivered_seq() <= c.regular_through);
  RC_ASSERT(has(c.group, me_));
  old.ending = true;
  old.regular_through = c.regular_through;
  old.through = c.through;
  old.transitional = {old.id(), nodes_of(c.group), nodes_of(old.members & ~c.group), {}, true};
  next.regular = {c.ring, nodes_of(c.members), nodes_of(old.members & ~c.members),
                  nodes_of(c.members & ~old.members), false};
  next.installed = true;
  phase_ = Phase::operational;
  commit_.reset();
  proc_ = 0;
  fail_ = 0;
  joins_ = {};
  activity_ = 0;
  last_activity_ns_ = now_ns;
  ++counters_.reformations;
  RC_ASSERT(&installed() == &next);
}

void Membership::leave(std::uint64_t now_ns, std::string reason) {
  (void)now_ns;
  left_reason_ = std::move(reason);
  // Accepted, never to be sent: the application is told (the status's left).
  for (auto& g : gens_) {
    counters_.messages_unsent_on_leave += g->ring->send_queue().size();
    g->ring->freeze();
  }
  phase_ = Phase::left;
}

}  // namespace ringcast::membership
