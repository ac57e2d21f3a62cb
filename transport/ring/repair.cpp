// Repair (docs/protocol.md "Repair"): a member whose log stalls at a record
// that failed its checks here (it landed, so its write is complete), or at a
// batch it refused as it landed, asks a member that holds the record to write
// it again. Every member holds the bytes until the stalled one releases them
// (the space rule), so the record is fetched, never lost; the stalled member
// checks it again like any record before it delivers it.
//
// Every write into a log must land before the member releases the bytes it
// covers, or it lands on a record placed there after the release. So a seq
// that is only missing is not asked for (on a reliable connection its write
// is on its way, and a copy fetched first would let the member release what
// that write then lands on), and a request has exactly one answer (the
// records, or none): one is out at a time, and until its answer landed the
// member reports no release beyond the bytes it may write.
#include <algorithm>
#include <string>

#include "base/assert.hpp"

#include "base/wire.hpp"
#include "ring/imm.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring {
namespace {

// Request layout (little-endian, kRepairSlotBytes): u64 seq, u64 position,
// u64 ring epoch, u32 ring representative, u32 most records wanted.
constexpr std::size_t kRequestStagingOffset = 32;

std::uint64_t staging_tail(const RingConfig& c) noexcept {
  return std::uint64_t{c.token_staging_slots} * kTokenSlotBytes;
}

}  // namespace

// Whether the record the log waits for failed here: at delivery, landed and
// failing its checks, or a batch was refused as it landed that no answer
// has made up for yet. A refused batch's header does not say which seqs it
// held, only that they never land by that write: it is charged to each seq
// the log then waits for until an answer writes records again. A seq that
// lands meanwhile (it was only on its way) does not use it up, or the
// refused batch behind it would be taken for one still on its way.
bool RingState::failed_here() const noexcept {
  return log_.stuck() || log_.receive_stuck() || log_.counters().records_dropped != drops_answered_;
}

// After each tick: starts or stops watching, and asks when a stall lasted.
void RingState::watch_repair(std::uint64_t now_ns) {
  if (!stall_suspected()) {
    if (repair_.watching) repair_ = Repair{};
    return;
  }
  // What it waits for: the record delivery stopped at, or the next seq to land.
  const std::uint64_t mark = log_.stuck() ? log_.delivered_seq() + 1 : log_.received_up_to() + 1;
  if (!repair_.watching || repair_.mark != mark) {
    repair_ = Repair{};
    repair_.watching = true;
    repair_.since_ns = now_ns;
    repair_.mark = mark;
  }
  if (!repair_.failed) {
    if (!failed_here()) return;  // on its way: its landing ticks again
    repair_.failed = true;
    repair_.drops = log_.counters().records_dropped;
    repair_.next_ask_ns = now_ns + kRepairAfterNs;
    return;
  }
  if (repair_.exhausted || awaited_.pending || now_ns < repair_.next_ask_ns) return;
  ask_repair(now_ns);
}

// The next member that holds the wanted seq (the token says it received
// it), in ring order after this member, one per attempt.
void RingState::ask_repair(std::uint64_t now_ns) {
  repair_.next_ask_ns = now_ns + kRepairAfterNs;
  const std::size_t n = membership_.size();
  auto holds = [&](std::size_t k) {
    return token_.members[(membership_.my_index + k) % n].received_up_to >= repair_.mark;
  };
  std::size_t holders = 0;
  for (std::size_t k = 1; k < n; ++k)
    holders += holds(k) ? 1 : 0;
  if (holders == 0) return;  // still on its way everywhere: nothing to ask yet
  if (repair_.attempts >= kRepairRoundsPerMember * (n - 1)) {
    repair_.exhausted = true;
    return;
  }
  std::size_t target = n;
  for (std::size_t k = 1, nth = repair_.attempts % holders; k < n && target == n; ++k) {
    if (holds(k) && nth-- == 0) target = (membership_.my_index + k) % n;
  }
  RC_ASSERT(target < n);
  if (!outbox_.has_room(target)) return;  // asked on the next round
  ++repair_.attempts;
  ++counters_.repairs_requested;
  const ReceiveLog::Wanted wanted = log_.wanted();
  // The answer writes the records from the wanted one on (at its position
  // or the next lap), all unreleased here: nothing from there on is
  // reported released until it landed.
  awaited_ = Awaited{true, target, wanted.position};
  std::byte* req = memory_.staging->data() + staging_tail(config_) + kRequestStagingOffset;
  wire::put<std::uint64_t>(req + 0, wanted.seq);
  wire::put<std::uint64_t>(req + 8, wanted.position);
  wire::put<std::uint64_t>(req + 16, membership_.ring.epoch);
  wire::put<std::uint32_t>(req + 24, membership_.ring.representative);
  wire::put<std::uint32_t>(req + 28, kRepairMaxRecords);
  fabric::WriteOp& op = outbox_.open(target)[0];
  op = fabric::WriteOp{};
  op.segments[0] = {memory_.staging, staging_tail(config_) + kRequestStagingOffset,
                    static_cast<std::uint32_t>(kRepairSlotBytes)};
  op.segment_count = 1;
  op.remote_region = kMailboxRegion;
  op.remote_offset = repair_area_offset(config_.mailbox_slots) +
                     std::uint64_t{membership_.my_index} * kRepairSlotBytes;
  op.with_imm = true;
  op.imm =
      control_imm(ControlImmType::repair_request, static_cast<std::uint32_t>(membership_.my_index));
  outbox_.commit(target, 1);
}

// Asked often (every round of the caller's loop): the common case first.
std::uint64_t RingState::repair_deadline_ns() const noexcept {
  if (answers_owed_total_ > 0) return 0;
  if (!repair_.watching) {
    return stall_suspected() ? 0 : kNever;  // delivery found a bad record outside tick()
  }
  if (!repair_.failed) return log_.stuck() ? 0 : kNever;  // else a landing or a drop ticks
  return repair_.exhausted || awaited_.pending ? kNever : repair_.next_ask_ns;
}

// A ring run alone (RingDriver) answers here; membership answers for its
// rings itself (Membership::on_repair_request), frozen ones included.
void RingState::on_repair_request(std::uint32_t from, fabric::NodeId peer) {
  const std::optional<fabric::WriteOp> answer = repair_answer(from, peer);
  if (!answer) return;
  if (!outbox_.has_room(from)) {  // answered once the link drains
    ++answers_owed_[from];
    ++answers_owed_total_;
    return;
  }
  outbox_.open(from)[0] = *answer;
  outbox_.commit(from, 1);
}

void RingState::answer_owed_repairs() {
  for (std::size_t k = 0; k < answers_owed_.size() && answers_owed_total_ > 0; ++k) {
    while (answers_owed_[k] > 0 && outbox_.has_room(k)) {
      --answers_owed_[k];
      --answers_owed_total_;
      if (auto answer = repair_answer(static_cast<std::uint32_t>(k), membership_.members[k])) {
        outbox_.open(k)[0] = *answer;
        outbox_.commit(k, 1);
      }
    }
  }
}

// A member asks for records from a seq: if this member's copy of them checks,
// one write puts them at the same offset of the asker's log (its bytes there
// belong to those records until it releases them), with an imm saying how
// many. Otherwise a write of nothing with an imm saying none: the asker's
// timer moves on to another holder.
std::optional<fabric::WriteOp> RingState::repair_answer(std::uint32_t from, fabric::NodeId peer) {
  if (from >= membership_.size() || from == membership_.my_index ||
      membership_.members[from] != peer) {
    ++counters_.imm_dropped;
    return std::nullopt;
  }
  const std::byte* req = memory_.mailbox->data() + repair_area_offset(config_.mailbox_slots) +
                         std::size_t{from} * kRepairSlotBytes;
  const std::uint64_t seq = wire::get<std::uint64_t>(req + 0);
  const std::uint64_t position = wire::get<std::uint64_t>(req + 8);
  const RingId ring{wire::get<std::uint32_t>(req + 24), wire::get<std::uint64_t>(req + 16)};
  const std::uint32_t most = std::min(wire::get<std::uint32_t>(req + 28), kRepairMaxRecords);
  std::optional<RepairRun> run;
  if (ring == membership_.ring) run = log_.find_run(seq, position, most, kRepairMaxBytes);
  if (!run) {
    ++counters_.repairs_refused;
    return repair_refusal();
  }
  fabric::WriteOp op;
  op.segments[0] = {memory_.log, run->offset, static_cast<std::uint32_t>(run->bytes)};
  op.segment_count = 1;
  op.remote_region = kLogRegion;
  op.remote_offset = run->offset;
  op.with_imm = true;
  op.imm = control_imm(ControlImmType::repaired, run->records);
  ++counters_.repairs_served;
  return op;
}

fabric::WriteOp RingState::repair_refusal() noexcept {
  fabric::WriteOp op;
  op.segment_count = 0;
  op.remote_region = kLogRegion;
  op.remote_offset = 0;
  op.with_imm = true;
  op.imm = control_imm(ControlImmType::repaired, 0);
  return op;
}

// The answer to this member's request: records written again from the
// wanted seq, checked as the log checks any record (bytes that do not check
// change nothing), or none. Either way nothing more of it can land.
void RingState::on_repaired(std::uint32_t records, fabric::NodeId peer) {
  if (!awaits_answer_from(peer)) {  // no request of this ring is out there
    ++counters_.imm_dropped;
    return;
  }
  awaited_ = Awaited{};
  if (records == 0) return;  // the next holder is asked when next_ask_ns comes
  if (log_.accept_repair(records) > 0) {
    ++counters_.repairs_received;
    // The refusals seen when it asked: the answer wrote a run from the seq
    // they were charged to. Later ones still count.
    drops_answered_ = std::max(drops_answered_, repair_.drops);
    repair_ = Repair{};  // the next tick watches again if more is missing
    // The log still lacks the next seq, and where it would start is so close
    // to the end of the log that it may have gone to the next lap.
    const std::uint64_t left = config_.log_bytes - log_.wanted().position % config_.log_bytes;
    const bool cut_by_lap =
        left == config_.log_bytes || left < record_span_bytes(config_.max_message_bytes);
    if (cut_by_lap && stall_suspected() && !log_.stuck()) {
      // An answer is one write, so it stops where the log ends; the records
      // on the next lap may belong to the same failed batch (whose last
      // header, there, is what failed), whose write will never land again:
      // asked for at once, as if the answer had gone on. (Found with the
      // relay forced on: a batch wrapping the log, refused at a relay and so
      // at every member after it, came back only up to the log's end.)
      repair_.watching = true;
      repair_.mark = log_.received_up_to() + 1;
      repair_.failed = true;
      repair_.next_ask_ns = 0;
    }
  }
}

void RingState::fail_unrepaired() {
  fail(make_error(Errc::protocol, "repair",
                  "seq " + std::to_string(repair_.mark) + " of ring " +
                      std::to_string(membership_.ring.representative) + "/" +
                      std::to_string(membership_.ring.epoch) +
                      " failed its checks here and no member wrote it again"));
}

}  // namespace ringcast::ring
