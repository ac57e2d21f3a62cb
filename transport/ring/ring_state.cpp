#include "ring/ring_state.hpp"

#include <algorithm>
#include <string>

#include "base/wire.hpp"
#include "ring/imm.hpp"
#include "ring/log_space.hpp"
#include "ring/wr_id.hpp"

namespace ringcast::ring {
namespace {

// Chains one destination may have waiting for its link: a visit's records
// (with the token for the successor) and a wake fit with room to spare.
constexpr std::size_t kChainsPerMember = 4;

}  // namespace

RingState::RingState(const RingConfig& config, RingMembership membership, const LocalMemory& memory,
                     const RingStart& where)
    : config_(config),
      membership_(std::move(membership)),
      start_(where),
      memory_(memory),
      log_(memory.log->bytes(),
           RecordLimits{membership_.ring, config.log_bytes, config.max_message_bytes},
           where.base_position, where.my_released_position),
      queue_(config.send_queue_messages, *memory.send_buffer, config.max_message_bytes),
      flow_(config.max_messages_per_visit, config.window_messages),
      outbox_(membership_.size(), kChainsPerMember, config.max_messages_per_visit + 1),
      zero_copy_(config.zero_copy_visits, config.max_messages_per_visit),
      batch_ops_(config.max_messages_per_visit),
      staging_busy_(config.token_staging_slots, false),
      answers_owed_(membership_.size(), 0) {
  RC_ASSERT(validate(config).ok());
  RC_ASSERT(membership_.size() >= 1);
  RC_ASSERT(membership_.size() <= kMaxMembers);
  RC_ASSERT(membership_.my_index < membership_.size());
  RC_ASSERT(memory.mailbox->size() >= mailbox_bytes(config.mailbox_slots));
  RC_ASSERT(memory.staging->size() >= staging_bytes(config));
  RC_ASSERT(where.member_released.empty() || where.member_released.size() == membership_.size());
  wire::put<std::uint64_t>(memory.staging->data() + config.token_staging_slots * kTokenSlotBytes,
                           membership_.my_index);
}

void RingState::start(std::uint64_t now_ns) {
  last_visit_ns_ = now_ns;
  if (membership_.my_index != 0) return;
  // The representative makes the ring's one first token, once.
  RC_ASSERT(last_token_seq_ == 0);
  RC_ASSERT(!token_in_hand_);
  token_ = Token{};
  token_.ring = membership_.ring;
  token_.token_seq = 1;
  token_.member_count = static_cast<std::uint16_t>(membership_.size());
  token_.next_position = start_.base_position;
  for (std::size_t i = 0; i < membership_.size(); ++i) {
    token_.members[i].released_position =
        start_.member_released.empty() ? start_.base_position : start_.member_released[i];
  }
  last_token_seq_ = 1;
  token_in_hand_ = true;
  accept_token(now_ns);
}

// Membership ends this ring: what was not posted yet will not be, and the
// signaled writes among it count as finished so their slots come back.
void RingState::freeze() noexcept {
  frozen_ = true;
  retransmit_armed_ = false;
  token_in_hand_ = false;
  keeping_ = false;
  for (std::size_t d = 0; d < membership_.size(); ++d) {
    for (auto chain = outbox_.front(d); !chain.empty(); chain = outbox_.front(d)) {
      for (const fabric::WriteOp& op : chain) {
        if (op.signaled) on_write_done(op.wr_id);
      }
      outbox_.pop(d);
    }
  }
  relay_queue_.clear();  // membership's recovery writes what a relay did not
  relay_waiting_ = false;
}

Status RingState::submit(const OutgoingMessage& message) {
  if (failed_) return make_error(Errc::link_failed, "submit", "the ring failed");
  RC_TRY(queue_.push(message));
  solo_dirty_ = true;
  return {};
}

Status RingState::release_through_seq(std::uint64_t seq) {
  const std::uint64_t before = log_.released_seq();
  RC_TRY(log_.release_through_seq(seq));
  if (log_.released_seq() != before) solo_dirty_ = true;
  return {};
}

std::optional<std::uint64_t> RingState::next_zero_copy_done() noexcept {
  auto tag = zero_copy_.next_done();
  if (tag) solo_dirty_ = true;
  return tag;
}

void RingState::fail(Error error) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(error);
}

void RingState::on_link_failed(std::size_t member, const Error& error) {
  RC_ASSERT(member < membership_.size());
  fail(error);
}

// ---------------------------------------------------------------- completions

void RingState::on_completion(const fabric::Completion& c, std::uint64_t now_ns) {
  switch (c.type) {
    case fabric::CompletionType::received_imm:
      on_imm(c, now_ns);
      return;
    case fabric::CompletionType::write_done:
      on_write_done(c.wr_id);
      return;
    case fabric::CompletionType::write_failed:
      fail(make_error(Errc::link_failed, "write",
                      "to node " + std::to_string(c.peer) + ": " + c.status_text));
      return;
    case fabric::CompletionType::link_down:
      fail(make_error(Errc::link_failed, "link", "node " + std::to_string(c.peer) + " down"));
      return;
  }
}

void RingState::on_imm(const fabric::Completion& c, std::uint64_t now_ns) {
  switch (imm_kind(c.imm)) {
    case ImmKind::records:
      on_records_imm(c);
      return;
    case ImmKind::token:
      if (frozen_) return;  // a late token of a ring membership ended
      on_token_imm(c.imm, c.peer, now_ns);
      return;
    case ImmKind::control:
      if (control_imm_type(c.imm) == ControlImmType::repair_request) {
        on_repair_request(control_arg(c.imm), c.peer);
        return;
      }
      if (control_imm_type(c.imm) == ControlImmType::repaired) {
        on_repaired(control_arg(c.imm), c.peer);
        return;
      }
      on_wake_imm(c);
      return;
    case ImmKind::membership:
      ++counters_.imm_dropped;  // membership takes its own before the ring sees them
      return;
  }
}

// A wake names its sender's member index; it counts only from that member's link.
void RingState::on_wake_imm(const fabric::Completion& c) noexcept {
  const std::uint32_t from = control_arg(c.imm);
  if (control_imm_type(c.imm) != ControlImmType::wake || from >= membership_.size() ||
      from == membership_.my_index) {
    ++counters_.imm_dropped;
    return;
  }
  if (membership_.members[from] != c.peer) {
    ++counters_.imm_dropped;
    ++counters_.writes_wrong_link;
    return;
  }
  ++counters_.wakes_received;
  wake_pending_ = true;
}

// What this member knows better than the token: it cannot be told it
// received or released more than it did, nor that fewer seqs exist than it
// holds, nor that the ring went backwards since its last visit.
TokenFault RingState::check_token_against_me(const Token& t) const noexcept {
  const MemberProgress& mine = t.members[membership_.my_index];
  if (mine.received_up_to > log_.received_up_to() ||
      mine.released_position > released_for_peers()) {
    return TokenFault::bad_field;
  }
  if (t.highest_seq < log_.received_up_to() || t.highest_seq < token_.highest_seq ||
      t.next_position < token_.next_position) {
    return TokenFault::bad_field;
  }
  return TokenFault::none;
}

// Only the ring predecessor passes the token here; whatever else writes a
// token into the mailbox (a stray or hostile member, a node outside the ring)
// is refused before the slot is read. Any peer can write the slot, also after
// the predecessor's token landed there and before this member reads it: the
// immediate names the checksum of the token it announces, and a slot holding
// another one is refused (the predecessor's token is then lost, and written
// again by token retransmission or replaced by membership's next ring).
void RingState::on_token_imm(std::uint32_t imm, fabric::NodeId from, std::uint64_t now_ns) {
  const std::uint32_t slot = token_imm_slot(imm);
  Token t;
  TokenFault fault = TokenFault::bad_field;
  if (from != membership_.members[membership_.predecessor_index()]) {
    fault = TokenFault::wrong_link;
    ++counters_.writes_wrong_link;
  } else if (slot < config_.mailbox_slots) {
    auto bytes = memory_.mailbox->bytes().subspan(slot * kTokenSlotBytes, kTokenSlotBytes);
    std::uint32_t checksum = 0;
    fault = decode_token(bytes, TokenLimits{membership_.ring, membership_.size()}, &t, &checksum);
    if (fault == TokenFault::none && !token_imm_matches(imm, checksum)) {
      fault = TokenFault::overwritten;
    }
  }
  if (fault == TokenFault::none && (t.token_seq <= last_token_seq_ || token_in_hand_)) {
    fault = TokenFault::stale;
  }
  if (fault == TokenFault::none && t.token_seq % config_.mailbox_slots != slot) {
    fault = TokenFault::bad_field;
  }
  if (fault == TokenFault::none) fault = check_token_against_me(t);
  if (fault != TokenFault::none) {
    ++counters_.tokens_dropped;
    counters_.last_token_fault = fault;
    return;
  }
  token_ = t;
  last_token_seq_ = t.token_seq;
  token_in_hand_ = true;
  ++counters_.tokens_received;
  accept_token(now_ns);
}

void RingState::on_write_done(std::uint64_t wr_id) noexcept {
  if ((wr_id & kWrTagMask) != wr_tag(start_.generation)) return;  // not one of ours
  const auto slot = static_cast<std::uint32_t>((wr_id >> 16) & 0xFFFF);
  const auto entry = static_cast<std::uint32_t>(wr_id & 0xFFFF);
  if (wr_id == forward_wr_id(start_.generation)) {
    RC_ASSERT(forwards_in_flight_ > 0);  // one signaled write per forward
    --forwards_in_flight_;
    return;
  }
  if (slot != 0) {
    RC_ASSERT(slot <= staging_busy_.size());
    RC_ASSERT(staging_busy_[slot - 1]);  // one signaled write per staged token
    staging_busy_[slot - 1] = false;
  }
  if (entry != 0) zero_copy_.signal_done(entry - 1);
}

// ---------------------------------------------------------------- the token

void RingState::accept_token(std::uint64_t now_ns) noexcept {
  RC_ASSERT(token_in_hand_);
  RC_ASSERT(token_.token_seq == last_token_seq_);
  retransmit_armed_ = false;
  token_.members[membership_.my_index] = {log_.received_up_to(), released_for_peers()};
  absorb_progress();
  // Idle: nothing new for a whole rotation, and at the end of this member's
  // previous visit every member already had everything (so every member has
  // since seen a token that lets it deliver every SAFE record).
  idle_at_arrival_ = token_seen_by_all() && token_.highest_seq == last_visit_highest_ &&
                     last_visit_settled_ && token_.backlog == 0;
  hold_until_ns_ = now_ns + config_.token_hold_ns;
  // Whatever seqs appeared since this member's last visit were placed by
  // others; the token it passed then has since been seen by every member.
  if (last_visit_highest_ == UINT64_MAX || token_.highest_seq > last_visit_highest_) {
    foreign_seq_ = std::max(foreign_seq_, token_.highest_seq);
  }
  safe_everywhere_ = std::max(safe_everywhere_, passed_safe_up_to_);
  keeping_ = false;
  if (idle_at_arrival_ && queue_.empty() && membership_.size() > 1 && config_.token_hold_ns > 0) {
    ++counters_.token_holds;
  }
}

void RingState::absorb_progress() noexcept {
  std::uint64_t safe = UINT64_MAX;
  std::uint64_t released = UINT64_MAX;
  for (std::size_t i = 0; i < membership_.size(); ++i) {
    safe = std::min(safe, token_.members[i].received_up_to);
    released = std::min(released, token_.members[i].released_position);
  }
  safe_up_to_ = std::max(safe_up_to_, safe);
  min_released_ = std::max(min_released_, released);
}

bool RingState::should_hold(std::uint64_t now_ns) const noexcept {
  // Alone, a visit can only achieve something when something changed and
  // messages wait: one that emptied the queue needs no second visit (and an
  // inline submit then need not wake the progress thread for it).
  if (membership_.size() == 1) return !solo_dirty_ || queue_.empty();
  if (!queue_.empty() || wake_pending_) return false;
  if (!idle_at_arrival_ && !keeping_) return false;
  return now_ns < hold_until_ns_;
}

// After a visit that sent: keep the token for the next local message when no
// other member can need it (docs/protocol.md "Busy hold"). Every record still
// comes from the one holder, so the order is the token's as before.
bool RingState::may_keep(std::uint64_t now_ns) const noexcept {
  return now_ns < hold_until_ns_ && nobody_else_needs_token();
}

// (a) to (d) and (f) of the busy hold; (e), its time bound, is may_keep's.
bool RingState::nobody_else_needs_token() const noexcept {
  if (membership_.size() == 1 || wake_pending_) return false;
  // (f) not in the ring's first rotation: every member installs it then.
  if (!token_seen_by_all()) return false;
  // (b) nobody else had work queued when it last held the token.
  if (token_.backlog > flow_.my_last_backlog()) return false;
  // (c) no SAFE record can be waiting for a rotation: every record of
  // others and every SAFE record of ours is covered by what all have seen.
  if (foreign_seq_ > safe_everywhere_ || own_safe_seq_ > safe_everywhere_) return false;
  // (d) the releases on the token go stale while it is kept: pass it while
  // more than half of the log is still free.
  return token_.next_position - min_released_ < config_.log_bytes / 2;
}

std::optional<std::uint32_t> RingState::free_staging_slot() const noexcept {
  for (std::uint32_t i = 0; i < staging_busy_.size(); ++i) {
    const auto slot = static_cast<std::uint32_t>((token_.token_seq + i) % staging_busy_.size());
    if (!staging_busy_[slot]) return slot;
  }
  return std::nullopt;
}

bool RingState::advance(std::uint64_t now_ns) {
  if (!token_in_hand_ || should_hold(now_ns)) return false;
  if (behind() && !queue_.empty()) {  // the landing of what is missing calls us again
    if (!waiting_catch_up_) ++counters_.catch_up_waits;
    waiting_catch_up_ = true;
    return false;
  }
  waiting_catch_up_ = false;
  // The token goes behind the forwards of what it names (they land first).
  if (!relay_queue_.empty()) return false;
  if (membership_.size() > 1 &&
      (!outbox_.has_room(membership_.successor_index()) || !free_staging_slot())) {
    return false;  // the driver drains the outbox or a token write completes; retried at once
  }
  if (now_ns < hold_until_ns_ && kept_visit_blocked()) {
    if (!waiting_resource_) ++counters_.busy_hold_waits;
    waiting_resource_ = true;
    return false;  // this member's own completions free it; the deadline says when to look
  }
  waiting_resource_ = false;
  visit(now_ns);
  return true;
}

// A kept token whose next visit could place nothing for want of a local
// resource (the outbox of a destination whose link has not taken the earlier
// chains, or the zero-copy table) waits for it instead of passing: both come
// back with this member's own completions, while a pass would make the
// queued message wait a whole rotation (the successor's full outbox makes
// any holder wait, advance(); without this rule a non-successor's, with 3 or
// more members, or a full zero-copy table made a busy holder pass after every
// such visit). Nobody else needs the token meanwhile, and the hold stays
// bounded by token_hold_ns.
bool RingState::kept_visit_blocked() const noexcept {
  if (!keeping_ || queue_.empty() || !nobody_else_needs_token()) return false;
  if (!every_destination_has_room()) return true;
  return queue_.front().zero_copy && zero_copy_.full();
}

bool RingState::tick(std::uint64_t now_ns) {
  if (failed_ || frozen_) return false;
  const bool forwarded = forward_relayed();
  const bool visited = advance(now_ns);
  const bool woke = maybe_wake(now_ns);
  const bool resent = maybe_retransmit(now_ns);
  const std::uint64_t asked = counters_.repairs_requested;
  if (answers_owed_total_ > 0) answer_owed_repairs();
  watch_repair(now_ns);
  return forwarded || visited || woke || resent || counters_.repairs_requested != asked;
}

std::uint64_t RingState::next_deadline_ns() const noexcept {
  if (failed_ || frozen_) return kNever;
  if (outbox_.total_queued() > 0 || forward_due()) return 0;
  return std::min(token_deadline_ns(), repair_deadline_ns());
}

std::uint64_t RingState::token_deadline_ns() const noexcept {
  const bool single = membership_.size() == 1;
  if (token_in_hand_) {
    if (single) return solo_dirty_ && !queue_.empty() ? 0 : kNever;
    if ((idle_at_arrival_ || keeping_) && queue_.empty() && !wake_pending_) return hold_until_ns_;
    if (behind() && !queue_.empty()) return kNever;   // waits for a landing (or a repair)
    if (!relay_queue_.empty()) return kNever;         // so do the forwards it waits behind
    if (kept_visit_blocked()) return hold_until_ns_;  // or a completion frees what it needs
    return 0;
  }
  std::uint64_t t = kNever;
  if (wake_due() && !single) t = last_visit_ns_ + config_.wake_after_ns;
  if (retransmit_armed_) t = std::min(t, retransmit_at_ns_);
  return t;
}

// ---------------------------------------------------------------- a visit

bool RingState::every_destination_has_room() const noexcept {
  for (std::size_t i = 0; i < membership_.size(); ++i) {
    if (i != membership_.my_index && !outbox_.has_room(i)) return false;
  }
  return true;
}

void RingState::visit(std::uint64_t now_ns) {
  RC_ASSERT(token_in_hand_);
  RC_ASSERT(!frozen_);
  ++counters_.visits;
  token_.members[membership_.my_index] = {log_.received_up_to(), released_for_peers()};
  absorb_progress();
  const auto backlog = queue_.size();
  std::uint32_t allowed = 0;
  if (every_destination_has_room()) {
    allowed = flow_.allowed(token_.fcc, token_.backlog, backlog);
  } else if (backlog > 0) {
    ++counters_.visits_outbox_limited;
  }
  Batch batch;
  place_batch(allowed, &batch);
  batch.relayed = relays(batch);
  RC_ASSERT(batch.records <= allowed);
  // An entry opens only for the zero-copy record placed right after.
  RC_ASSERT(!batch.zero_copy_entry || batch.records > 0);
  solo_dirty_ = batch.records > 0;
  flow_.record_visit(&token_.fcc, &token_.backlog, batch.records, queue_.size());
  token_.members[membership_.my_index] = {log_.received_up_to(), released_for_peers()};
  absorb_progress();
  last_visit_highest_ = token_.highest_seq;
  last_visit_settled_ = safe_up_to_ == token_.highest_seq;
  last_visit_ns_ = now_ns;
  if (batch.records > 0 && may_keep(now_ns)) {
    keeping_ = true;
    ++counters_.busy_holds;
    post_records(batch);
    return;
  }
  keeping_ = false;
  wake_pending_ = false;
  wake_sent_ = false;
  pass_token(batch, now_ns);
}

void RingState::place_batch(std::uint32_t allowed, Batch* batch) {
  const std::uint64_t log_bytes = config_.log_bytes;
  const std::uint64_t first_seq = token_.highest_seq + 1;
  while (batch->records < allowed && !queue_.empty()) {
    const QueuedMessage& m = queue_.front();
    const std::uint64_t span = record_span_bytes(m.payload_bytes);
    const std::uint64_t position = place_position(token_.next_position, span, log_bytes);
    if (!fits_space(position, span, min_released_, token_.next_position, log_bytes)) {
      ++counters_.visits_space_limited;
      break;
    }
    // A token that contradicts this member's own log (forged or corrupted:
    // an honest ring never does) places nothing: the record would overwrite
    // a landed seq or cover what this member still holds.
    RecordHeader next;
    next.seq = token_.highest_seq + 1;
    next.position = position;
    next.payload_bytes = m.payload_bytes;
    if (!log_.may_place_own(next)) {
      ++counters_.placements_refused;
      break;
    }
    if (m.zero_copy && !batch->zero_copy_entry) {
      batch->zero_copy_entry = zero_copy_.open();
      if (!batch->zero_copy_entry) break;  // earlier zero-copy visits still in flight
    }
    place_one(m, position, batch);
    queue_.pop();
  }
  if (batch->records > 0) {
    RC_ASSERT(token_.highest_seq - first_seq + 1 == batch->records);  // seqs without gaps
    log_.mark_landed(first_seq, token_.highest_seq, membership_.me());
  }
  counters_.records_sent += batch->records;
}

void RingState::place_one(const QueuedMessage& m, std::uint64_t position, Batch* batch) {
  const std::uint64_t span = record_span_bytes(m.payload_bytes);
  // The space rule, where records are placed: every member released
  // everything this record will cover in its log (one log length back).
  RC_ASSERT(fits_space(position, span, min_released_, token_.next_position, config_.log_bytes));
  RC_ASSERT(position >= token_.next_position);  // positions only grow
  RecordHeader h;
  h.ring = membership_.ring;
  h.seq = token_.highest_seq + 1;
  h.position = position;
  h.sender = membership_.me();
  h.sender_pid = m.sender_pid;
  h.group = m.group;
  h.payload_bytes = m.payload_bytes;
  h.batch_index = batch->records + 1;
  h.guarantee = m.guarantee;
  log_.place_own(h, queue_.prefix(m), queue_.payload(m));
  append_write(m, position, batch);
  if (m.zero_copy) zero_copy_.add(*batch->zero_copy_entry, m.tag);
  if (m.guarantee == Guarantee::safe) own_safe_seq_ = h.seq;
  token_.highest_seq = h.seq;
  token_.next_position = position + span;
  batch->records += 1;
  batch->bytes += span;
  batch->last_offset = position % config_.log_bytes;
}

// Copied records are written from this member's own log, where place_own just
// put them: consecutive ones form one write (a run). A zero-copy record is a
// write of its own: the header and the prefix from the log (where they lie
// together), the rest of the payload from the caller's region.
void RingState::append_write(const QueuedMessage& m, std::uint64_t position, Batch* batch) {
  if (membership_.size() == 1) return;
  const std::uint64_t offset = position % config_.log_bytes;
  const std::uint64_t span = record_span_bytes(m.payload_bytes);
  if (!m.zero_copy && batch->run_open && batch->run_end == position && offset != 0) {
    batch_ops_[batch->ops - 1].segments[0].length += static_cast<std::uint32_t>(span);
    batch->run_end += span;
    return;
  }
  RC_ASSERT(batch->ops < batch_ops_.size());
  fabric::WriteOp op;
  op.remote_region = kLogRegion;
  op.remote_offset = offset;
  if (!m.zero_copy) {
    op.segments[0] = {memory_.log, offset, static_cast<std::uint32_t>(span)};
    op.segment_count = 1;
    batch->run_open = true;
    batch->run_end = position + span;
  } else {
    static_assert(fabric::kMaxSegments >= 2);  // [header + prefix][segment]
    op.segments[0] = {memory_.log, offset,
                      static_cast<std::uint32_t>(kRecordHeaderBytes) + m.prefix.length};
    op.segment_count = 1;
    if (m.source.length > 0) op.segments[op.segment_count++] = m.source;
    batch->run_open = false;
  }
  batch_ops_[batch->ops++] = op;
}

std::size_t RingState::fill_chain(std::size_t member, const Batch& batch,
                                  std::span<fabric::WriteOp> ops,
                                  std::optional<std::uint32_t> staging_slot,
                                  std::size_t token_bytes) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < batch.ops; ++i)
    ops[n++] = batch_ops_[i];
  if (n > 0) {
    ops[n - 1].with_imm = true;
    ops[n - 1].imm = records_imm(batch.last_offset, batch.relayed);
  }
  if (staging_slot && member == membership_.successor_index()) {
    const auto mailbox_slot = static_cast<std::uint32_t>(token_.token_seq % config_.mailbox_slots);
    fabric::WriteOp& t = ops[n++];
    t = fabric::WriteOp{};
    t.segments[0] = {memory_.staging, std::uint64_t{*staging_slot} * kTokenSlotBytes,
                     static_cast<std::uint32_t>(token_bytes)};
    t.segment_count = 1;
    t.remote_region = kMailboxRegion;
    t.remote_offset = std::uint64_t{mailbox_slot} * kTokenSlotBytes;
    t.with_imm = true;
    t.imm =
        token_imm(mailbox_slot, encoded_token_checksum(memory_.staging->bytes().subspan(
                                    std::uint64_t{*staging_slot} * kTokenSlotBytes, token_bytes)));
    t.signaled = true;  // frees the staging slot, and covers the records before it
    t.wr_id = make_wr_id(start_.generation, staging_slot, batch.zero_copy_entry);
  } else if (batch.zero_copy_entry) {
    ops[n - 1].signaled = true;
    ops[n - 1].wr_id = make_wr_id(start_.generation, std::nullopt, batch.zero_copy_entry);
  }
  return n;
}

void RingState::pass_token(const Batch& batch, std::uint64_t now_ns) {
  RC_ASSERT(token_in_hand_);
  token_.token_seq += 1;
  RC_ASSERT(token_.token_seq == last_token_seq_ + 1);  // one more than the one accepted
  ++counters_.tokens_passed;
  if (membership_.size() == 1) {  // the token comes straight back
    if (batch.zero_copy_entry) zero_copy_.close(*batch.zero_copy_entry, 0);
    last_token_seq_ = token_.token_seq;
    accept_token(now_ns);
    return;
  }
  const std::optional<std::uint32_t> free_slot = free_staging_slot();
  RC_ASSERT(free_slot.has_value());  // advance() saw one, and nothing took it since
  const std::uint32_t slot = *free_slot;
  staging_busy_[slot] = true;
  const std::size_t token_bytes = encode_token(
      token_,
      memory_.staging->bytes().subspan(std::size_t{slot} * kTokenSlotBytes, kTokenSlotBytes));
  std::uint32_t signals = 0;
  for (std::size_t d = 0; d < membership_.size(); ++d) {
    if (d == membership_.my_index) continue;
    if (d != membership_.successor_index() && (batch.records == 0 || batch.relayed)) continue;
    const std::size_t n = fill_chain(d, batch, outbox_.open(d), slot, token_bytes);
    outbox_.commit(d, n);
    if (batch.zero_copy_entry) ++signals;
  }
  if (batch.zero_copy_entry) zero_copy_.close(*batch.zero_copy_entry, signals);
  passed_safe_up_to_ = safe_up_to_;
  token_in_hand_ = false;
  if (config_.token_retransmit_ns > 0) {
    retransmit_armed_ = true;
    retransmit_at_ns_ = now_ns + config_.token_retransmit_ns;
    passed_highest_ = token_.highest_seq;
  }
}

// The token as passed last (token_ is unchanged until the next one arrives),
// into the same mailbox slot of the successor: a successor that has it
// already refuses it as stale.
bool RingState::maybe_retransmit(std::uint64_t now_ns) {
  if (!retransmit_armed_ || token_in_hand_ || now_ns < retransmit_at_ns_) return false;
  // Only a pass to another member arms it.
  RC_ASSERT(membership_.size() > 1);
  if (log_.received_up_to() > passed_highest_) {  // someone placed since: it moved on
    retransmit_armed_ = false;
    return false;
  }
  const auto slot = free_staging_slot();
  const std::size_t successor = membership_.successor_index();
  if (!slot || !outbox_.has_room(successor)) return false;  // retried next round
  staging_busy_[*slot] = true;
  const std::size_t bytes = encode_token(
      token_,
      memory_.staging->bytes().subspan(std::size_t{*slot} * kTokenSlotBytes, kTokenSlotBytes));
  const Batch none;
  const std::size_t n = fill_chain(successor, none, outbox_.open(successor), slot, bytes);
  outbox_.commit(successor, n);
  ++counters_.tokens_retransmitted;
  retransmit_at_ns_ = now_ns + config_.token_retransmit_ns;
  return true;
}

// A kept visit: the same record chains as a pass, to every other member (to
// the successor only when the batch is relayed), without the token.
void RingState::post_records(const Batch& batch) {
  RC_ASSERT(batch.records > 0);
  RC_ASSERT(membership_.size() > 1);
  std::uint32_t signals = 0;
  for (std::size_t d = 0; d < membership_.size(); ++d) {
    if (d == membership_.my_index) continue;
    if (d != membership_.successor_index() && batch.relayed) continue;
    const std::size_t n = fill_chain(d, batch, outbox_.open(d), std::nullopt, 0);
    outbox_.commit(d, n);
    if (batch.zero_copy_entry) ++signals;
  }
  if (batch.zero_copy_entry) zero_copy_.close(*batch.zero_copy_entry, signals);
}

// ---------------------------------------------------------------- waking

// A member with work that has not seen the token for wake_after_ns tells
// every other member once per token visit; whoever holds an idle token then
// passes it at once, and the others will not hold it on its way here.
bool RingState::maybe_wake(std::uint64_t now_ns) {
  if (!wake_due() || membership_.size() == 1) return false;
  if (now_ns < last_visit_ns_ + config_.wake_after_ns) return false;
  const std::uint64_t wake_word = std::uint64_t{config_.token_staging_slots} * kTokenSlotBytes;
  for (std::size_t d = 0; d < membership_.size(); ++d) {
    if (d == membership_.my_index || !outbox_.has_room(d)) continue;
    fabric::WriteOp& op = outbox_.open(d)[0];
    op = fabric::WriteOp{};
    op.segments[0] = {memory_.staging, wake_word, 8};
    op.segment_count = 1;
    op.remote_region = kMailboxRegion;
    op.remote_offset = config_.mailbox_slots * kTokenSlotBytes + membership_.my_index * 8;
    op.with_imm = true;
    op.imm = control_imm(ControlImmType::wake, static_cast<std::uint32_t>(membership_.my_index));
    outbox_.commit(d, 1);
  }
  ++counters_.wakes_sent;
  wake_sent_ = true;
  return true;
}

}  // namespace ringcast::ring
