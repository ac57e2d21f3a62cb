// The relay (docs/protocol.md "Relay"): a holder writes a large batch to its
// successor only, with the relay bit in its records immediate; each member
// forwards it, the same log bytes to the same offsets with the same
// immediate, to its own successor, except to the batch's sender. Every NIC
// then sends each byte about once, whatever the ring's size.
#include <array>

#include "ring/imm.hpp"
#include "ring/ring_state.hpp"
#include "ring/wr_id.hpp"

namespace ringcast::ring {

// Decided once a visit placed its records, before any chain is queued. A
// lone message (the visit's only record, nothing queued behind it) goes
// directly whatever its size: the relay would carry it store-and-forward
// through N-2 more hops, and with nothing after it there is no stream for the
// holder's NIC to be the bottleneck of. A small ring goes directly too
// (relay_min_members, at least 3: with two members the successor is the only
// destination): the holder's NIC saves less than the hops cost.
bool RingState::relays(const Batch& batch) const noexcept {
  return config_.relay_min_batch_bytes > 0 && membership_.size() >= config_.relay_min_members &&
         batch.bytes >= config_.relay_min_batch_bytes && (batch.records > 1 || !queue_.empty());
}

// A batch comes on its sender's link, or relayed on the ring predecessor's:
// a member writes its own batches and relays its predecessor's.
void RingState::on_records_imm(const fabric::Completion& c) {
  const bool relayed =
      records_imm_relay(c.imm) && c.peer == membership_.members[membership_.predecessor_index()];
  LandedBatch landed;
  // Counts what it drops.
  const RecordFault fault =
      log_.on_batch_landed(records_imm_offset(c.imm), c.peer, relayed, &landed);
  if (fault == RecordFault::wrong_link) ++counters_.writes_wrong_link;
  if (!relayed || frozen_) return;
  // Not back to its sender (nor past it: a refusal that reaches it stops).
  if (landed.sender && (*landed.sender == membership_.me() ||
                        *landed.sender == membership_.members[membership_.successor_index()])) {
    return;
  }
  if (fault != RecordFault::none) {
    // Refused here (corrupted on the way, say): the members after this one
    // will not get it from here, and only a write that failed where it
    // landed is fetched again (a missing one is on its way). So the
    // immediate alone goes on, a write of no bytes: each of them finds its
    // own log lacking the batch and asks a holder for it (repair). It stops
    // at the sender, whose own copy decodes; one that decodes nowhere (a
    // forged offset) stops where it passed already with nothing received
    // since, instead of going round for good.
    if (records_imm_offset(c.imm) >= config_.log_bytes) return;
    if (c.imm == last_refusal_.imm && log_.received_up_to() == last_refusal_.received) return;
    last_refusal_ = {c.imm, log_.received_up_to()};
    relay_queue_.push_back({0, 0, c.imm});
  } else {
    relay_queue_.push_back({landed.first_seq, landed.last_seq, c.imm});
  }
  forward_relayed();
}

// The front forward can go now: all of it received (forwarded only once it
// checked here), and room on the successor's link.
bool RingState::forward_due() const noexcept {
  if (relay_queue_.empty() || frozen_ || failed_) return false;
  return relay_queue_.front().last_seq <= log_.received_up_to() &&
         outbox_.has_room(membership_.successor_index());
}

// Forwards in landing order while they can go. One that must wait for its
// records (a seq before it still on its way, or a repair) keeps those after
// it waiting too, and the token this member holds with them: the successor
// gets a batch before any token naming it.
bool RingState::forward_relayed() {
  bool forwarded = false;
  const std::size_t successor = membership_.successor_index();
  while (!relay_queue_.empty() && !frozen_ && !failed_) {
    const Forward f = relay_queue_.front();
    if (f.last_seq > log_.received_up_to()) break;  // its landing calls us again
    if (!outbox_.has_room(successor)) {
      if (!relay_waiting_) ++counters_.relay_waits;
      relay_waiting_ = true;
      break;  // the driver drains the outbox; next_deadline_ns says when
    }
    relay_waiting_ = false;
    relay_queue_.pop_front();
    std::span<fabric::WriteOp> ops = outbox_.open(successor);
    if (f.first_seq == 0) {  // a refusal: the immediate alone
      ops[0] = fabric::WriteOp{};
      ops[0].remote_region = kLogRegion;
      post_forward(ops, 1, f.imm);
      forwarded = true;
      continue;
    }
    std::array<RepairRun, 64> runs_storage;
    const std::span<RepairRun> runs(runs_storage.data(), std::min(runs_storage.size(), ops.size()));
    const std::size_t n = log_.received_runs(f.first_seq, f.last_seq, runs);
    // Its seqs left the window (or need more writes than a chain holds): the
    // successor repairs them from a member the token shows holds them.
    if (n == 0) continue;
    for (std::size_t i = 0; i < n; ++i) {
      fabric::WriteOp& op = ops[i];
      op = fabric::WriteOp{};
      op.segments[0] = {memory_.log, runs[i].offset, static_cast<std::uint32_t>(runs[i].bytes)};
      op.segment_count = 1;
      op.remote_region = kLogRegion;
      op.remote_offset = runs[i].offset;
    }
    post_forward(ops, n, f.imm);
    counters_.records_relayed += f.last_seq - f.first_seq + 1;
    forwarded = true;
  }
  return forwarded;
}

// The last write carries the batch's immediate; its completion says the
// forward landed: a frozen ring's member is not ready for the next ring
// before (membership).
void RingState::post_forward(std::span<fabric::WriteOp> ops, std::size_t n, std::uint32_t imm) {
  ops[n - 1].with_imm = true;
  ops[n - 1].imm = imm;
  ops[n - 1].signaled = true;
  ops[n - 1].wr_id = forward_wr_id(start_.generation);
  outbox_.commit(membership_.successor_index(), n);
  ++forwards_in_flight_;
}

}  // namespace ringcast::ring
