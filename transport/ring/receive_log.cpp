#include "ring/receive_log.hpp"

#include <algorithm>
#include <cstring>

#include "base/crc32c.hpp"
#include "ring/log_space.hpp"

namespace ringcast::ring {

ReceiveLog::ReceiveLog(std::span<std::byte> memory, const RecordLimits& limits,
                       std::uint64_t base_position, std::uint64_t released_position)
    : memory_(memory),
      limits_(limits),
      capacity_(limits.log_bytes / kRecordAlignBytes),
      landed_((capacity_ + 63) / 64, 0),
      end_position_(std::make_unique_for_overwrite<std::uint64_t[]>(capacity_)),
      landed_from_(std::make_unique_for_overwrite<fabric::NodeId[]>(capacity_)),
      base_position_(base_position),
      received_end_(base_position),
      next_position_(base_position),
      released_position_(released_position) {
  RC_ASSERT(memory.size() == limits.log_bytes);
  RC_ASSERT(limits.log_bytes % kRecordAlignBytes == 0);
  RC_ASSERT(capacity_ > 0);
  RC_ASSERT(released_position <= base_position);
  RC_ASSERT(base_position % kRecordAlignBytes == 0);
}

void ReceiveLog::release_inherited(std::uint64_t position) noexcept {
  if (released_seq_ != 0) return;
  released_position_ = std::max(released_position_, std::min(position, base_position_));
  RC_ASSERT(released_position_ <= next_position_);
}

bool ReceiveLog::mark_recovered(std::uint64_t through) noexcept {
  if (through <= received_up_to_ || through - received_up_to_ > capacity_) return false;
  for (std::uint64_t s = received_up_to_ + 1; s <= through; ++s) {
    if (!landed(s)) {
      set_landed(s);
      landed_from_[s % capacity_] = kAnySender;
      ++counters_.records_landed;
    }
  }
  // Received means checked: a payload that fails its checksum stops it there
  // (a source that wrote garbage; the commit then times out).
  advance_received();
  return received_up_to_ >= through;
}

std::optional<std::uint64_t> ReceiveLog::end_of(std::uint64_t through) const noexcept {
  if (through < delivered_seq_ || through - delivered_seq_ > capacity_) return std::nullopt;
  std::uint64_t next = next_position_;
  for (std::uint64_t seq = delivered_seq_ + 1; seq <= through; ++seq) {
    RecordHeader h;
    if (locate(next, seq, &h) != RecordFault::none) return std::nullopt;
    next = h.position + record_span_bytes(h.payload_bytes);
  }
  return next;
}

std::optional<RepairRun> ReceiveLog::find_run(std::uint64_t seq, std::uint64_t position,
                                              std::uint32_t max_records,
                                              std::uint64_t max_bytes) const noexcept {
  if (seq == 0 || seq > received_up_to_ || max_records == 0) return std::nullopt;
  RecordHeader h;
  if (locate(position, seq, &h) != RecordFault::none) return std::nullopt;
  RepairRun run{h.position % limits_.log_bytes, record_span_bytes(h.payload_bytes), 1};
  std::uint64_t next = h.position + run.bytes;
  while (run.records < max_records && seq + run.records <= received_up_to_) {
    if (next % limits_.log_bytes == 0) break;  // the next lap: another write
    if (read_at(next, seq + run.records, &h) != RecordFault::none) break;  // or on the next lap
    const std::uint64_t span = record_span_bytes(h.payload_bytes);
    if (run.bytes + span > max_bytes) break;
    run.bytes += span;
    run.records += 1;
    next += span;
  }
  RC_ASSERT(run.offset + run.bytes <= limits_.log_bytes);
  return run;
}

ReceiveLog::Wanted ReceiveLog::wanted() const noexcept {
  if (stuck_) return {delivered_seq_ + 1, next_position_};
  return {received_up_to_ + 1, received_end_};
}

std::uint32_t ReceiveLog::accept_repair(std::uint32_t records) noexcept {
  const Wanted from = wanted();
  if (stuck_) {  // a header changed after it was received: check it again
    RecordHeader h;
    if (locate(from.position, from.seq, &h) != RecordFault::none) return 0;
    landed_from_[from.seq % capacity_] = kAnySender;  // written by a holder whose copy checked
    stuck_ = false;
    counters_.records_repaired += 1;
    return 1;
  }
  const std::uint64_t last = from.seq - 1 + std::min<std::uint64_t>(records, capacity_);
  for (std::uint64_t s = from.seq; s <= last; ++s) {
    if (!landed(s)) set_landed(s);
  }
  const std::uint64_t before = received_up_to_;
  advance_received();
  repaired_through_ = std::max(repaired_through_, received_up_to_);
  const auto repaired = static_cast<std::uint32_t>(received_up_to_ - before);
  counters_.records_repaired += repaired;
  return repaired;
}

bool ReceiveLog::landed(std::uint64_t seq) const noexcept {
  const std::uint64_t bit = seq % capacity_;
  return (landed_[bit / 64] >> (bit % 64)) & 1u;
}

// Landed from no particular link (recovery, a repair): land() names one.
void ReceiveLog::set_landed(std::uint64_t seq) noexcept {
  const std::uint64_t bit = seq % capacity_;
  landed_[bit / 64] |= std::uint64_t{1} << (bit % 64);
  landed_from_[bit] = kAnySender;
}

void ReceiveLog::advance_received(std::uint64_t own_last) noexcept {
  while (landed(received_up_to_ + 1)) {
    const std::uint64_t seq = received_up_to_ + 1;
    RecordHeader h;
    const RecordFault fault = locate(received_end_, seq, &h, seq > own_last);
    if (fault != RecordFault::none) {
      if (!receive_stuck_) {  // counted once per stall; checked again at each landing
        receive_stuck_ = true;
        ++counters_.stalls;
        drop(fault);
      }
      return;
    }
    receive_stuck_ = false;
    const std::uint64_t bit = seq % capacity_;
    landed_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
    received_up_to_ = seq;
    received_end_ = h.position + record_span_bytes(h.payload_bytes);
    end_position_[bit] = received_end_;
  }
}

// The space rule (log_space.hpp) from this member's side: the record covers
// nothing it holds unreleased. It does not know the ring's written end, so it
// checks the first case of the rule against its own released position, with
// one exception: the record right after the last one it released may use the
// second case ("everything released"), but then its position is fully
// determined: where the placement rule puts it after that released end.
bool ReceiveLog::fits_here(const RecordHeader& h) const noexcept {
  const std::uint64_t span = record_span_bytes(h.payload_bytes);
  // Until older rings' records are all released (released_position_ <
  // base_position_), only the first case applies: the holder sees them too.
  if (h.seq == released_seq_ + 1 && released_position_ >= base_position_) {
    return h.position == place_position(released_position_, span, limits_.log_bytes);
  }
  return fits_space(h.position, span, released_position_, UINT64_MAX, limits_.log_bytes);
}

void ReceiveLog::drop(RecordFault fault) noexcept {
  ++counters_.records_dropped;
  counters_.last_fault = fault;
}

// What a batch's last header must satisfy beyond decoding: found where the
// imm said, new, within the landed window, and placed where the space rule
// allows from this member's point of view.
RecordFault ReceiveLog::check_batch(const RecordHeader& last, std::uint64_t offset) const noexcept {
  if (last.position % limits_.log_bytes != offset) return RecordFault::wrong_position;
  if (last.seq <= received_up_to_) return RecordFault::duplicate;
  const std::uint64_t first = last.seq - last.batch_index + 1;
  if (first <= received_up_to_ || last.seq - received_up_to_ > capacity_) {
    return RecordFault::wrong_seq;
  }
  if (!fits_here(last)) return RecordFault::wrong_position;
  for (std::uint64_t s = first; s <= last.seq; ++s) {
    if (landed(s)) return RecordFault::duplicate;
  }
  return RecordFault::none;
}

RecordFault ReceiveLog::on_batch_landed(std::uint64_t offset, std::optional<fabric::NodeId> from,
                                        bool relayed, LandedBatch* landed) noexcept {
  RecordHeader last;
  RecordFault fault = RecordFault::truncated;
  if (offset < limits_.log_bytes && limits_.log_bytes - offset >= kRecordHeaderBytes) {
    fault = decode_record_header(memory_.subspan(offset, kRecordHeaderBytes), limits_, &last);
  }
  // Whose batch this is, when the header names one this member still holds
  // (not released): bytes of an earlier lap's record name its old sender,
  // not the batch a refusal is about.
  if (fault == RecordFault::none && landed != nullptr && last.position >= released_position_) {
    landed->sender = last.sender;
  }
  if (fault == RecordFault::none && from && !relayed && last.sender != *from) {
    fault = RecordFault::wrong_link;
  }
  if (fault == RecordFault::none) fault = check_batch(last, offset);
  if (fault != RecordFault::none && absorbed_by_repair(last, offset, fault)) {
    if (landed != nullptr) {  // a relay forwards it all the same: those after it lack it
      landed->first_seq = last.seq - last.batch_index + 1;
      landed->last_seq = last.seq;
    }
    return RecordFault::none;
  }
  if (fault != RecordFault::none) {
    drop(fault);
    return fault;
  }
  // A relayed batch's records must all name the sender its last one names.
  const fabric::NodeId owner = relayed ? last.sender : from.value_or(kAnySender);
  land(last.seq - last.batch_index + 1, last.seq, owner);
  if (landed != nullptr) {
    landed->first_seq = last.seq - last.batch_index + 1;
    landed->last_seq = last.seq;
  }
  advance_received();
  ++counters_.batches_landed;
  return RecordFault::none;
}

std::size_t ReceiveLog::received_runs(std::uint64_t first, std::uint64_t last,
                                      std::span<RepairRun> out) const noexcept {
  if (first == 0 || first > last || last > received_up_to_) return 0;
  // The end of first - 1 is overwritten once a seq a log's capacity later is received.
  if (received_up_to_ - (first - 1) >= capacity_) return 0;
  std::uint64_t next = first == 1 ? base_position_ : end_position_[(first - 1) % capacity_];
  std::size_t n = 0;
  std::uint64_t run_end = 0;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    RecordHeader h;
    if (locate(next, seq, &h, false) != RecordFault::none) return 0;
    const std::uint64_t span = record_span_bytes(h.payload_bytes);
    const std::uint64_t offset = h.position % limits_.log_bytes;
    if (n > 0 && h.position == run_end && offset != 0) {
      out[n - 1].bytes += span;
      out[n - 1].records += 1;
    } else {
      if (n == out.size()) return 0;
      out[n++] = RepairRun{offset, span, 1};
    }
    run_end = h.position + span;
    next = run_end;
  }
  return n;
}

// A batch that was only slow, not lost, lands after a repair wrote some of
// its records again (the repair could not tell): its seqs not landed yet
// land now; it is not a duplicate.
bool ReceiveLog::absorbed_by_repair(const RecordHeader& last, std::uint64_t offset,
                                    RecordFault fault) noexcept {
  if (fault != RecordFault::duplicate && fault != RecordFault::wrong_seq) return false;
  const std::uint64_t first = last.seq - last.batch_index + 1;
  if (first > repaired_through_ || last.position % limits_.log_bytes != offset) return false;
  if (last.seq > received_up_to_ && (last.seq - received_up_to_ > capacity_ || !fits_here(last))) {
    return false;
  }
  for (std::uint64_t s = std::max(first, received_up_to_ + 1); s <= last.seq; ++s) {
    if (!landed(s)) set_landed(s);
  }
  advance_received();
  ++counters_.batches_landed;
  return true;
}

bool ReceiveLog::may_place_own(const RecordHeader& h) const noexcept {
  return h.seq > received_up_to_ && h.seq - received_up_to_ <= capacity_ && !landed(h.seq) &&
         fits_here(h);
}

void ReceiveLog::place_own(const RecordHeader& h, std::span<const std::byte> prefix,
                           std::span<const std::byte> rest) noexcept {
  const std::uint64_t span = record_span_bytes(h.payload_bytes);
  const std::uint64_t offset = h.position % limits_.log_bytes;
  RC_ASSERT(h.ring == limits_.ring);
  RC_ASSERT(h.payload_bytes <= limits_.max_message_bytes);  // the send queue refused more
  RC_ASSERT(h.batch_index >= 1);
  RC_ASSERT(h.batch_index <= h.seq);
  RC_ASSERT(prefix.size() + rest.size() == h.payload_bytes);
  RC_ASSERT(offset + span <= limits_.log_bytes);
  // The space rule, from this member's side: nothing unreleased here is hit.
  RC_ASSERT(fits_here(h));
  RC_ASSERT(h.seq > received_up_to_);
  RC_ASSERT(h.seq - received_up_to_ <= capacity_);
  const auto copy = memory_.subspan(offset + kRecordHeaderBytes, h.payload_bytes);
  if (!prefix.empty()) std::memcpy(copy.data(), prefix.data(), prefix.size());
  if (!rest.empty()) std::memcpy(copy.data() + prefix.size(), rest.data(), rest.size());
  // Of the copy: a zero-copy source may change under the NIC, this member's
  // copy (what a repair sends) does not.
  RecordHeader sealed = h;
  sealed.payload_crc = crc32c(copy);
  encode_record_header(sealed, memory_.subspan(offset).first<kRecordHeaderBytes>());
}

void ReceiveLog::land(std::uint64_t first, std::uint64_t last, fabric::NodeId from) noexcept {
  RC_ASSERT(first > received_up_to_);
  RC_ASSERT(first <= last);
  RC_ASSERT(last - received_up_to_ <= capacity_);
  for (std::uint64_t s = first; s <= last; ++s) {
    RC_ASSERT(!landed(s));
    set_landed(s);
    landed_from_[s % capacity_] = from;
  }
  counters_.records_landed += last - first + 1;
}

void ReceiveLog::mark_landed(std::uint64_t first, std::uint64_t last,
                             fabric::NodeId from) noexcept {
  land(first, last, from);
  advance_received(last);
}

RecordFault ReceiveLog::read_at(std::uint64_t position, std::uint64_t seq, RecordHeader* out,
                                bool check_payload) const noexcept {
  const std::uint64_t offset = position % limits_.log_bytes;
  RecordFault fault = decode_record_header(memory_.subspan(offset), limits_, out);
  if (fault != RecordFault::none) return fault;
  if (out->seq != seq) return RecordFault::wrong_seq;
  if (out->position != position) return RecordFault::wrong_position;
  if (check_payload &&
      !payload_intact(*out, memory_.subspan(offset + kRecordHeaderBytes, out->payload_bytes))) {
    return RecordFault::bad_payload;
  }
  return RecordFault::none;
}

// The record after the last delivered one starts at next_position_ unless it
// did not fit before the end of the log; then it starts the next lap. What
// lies at next_position_ in that case is older bytes that nobody writes in
// this lap (the space rule keeps the next lap off it until we release), and
// a header there cannot name this seq and this position, so trying it first
// is unambiguous.
RecordFault ReceiveLog::locate(std::uint64_t next, std::uint64_t seq, RecordHeader* out,
                               bool check_payload) const noexcept {
  const RecordFault here = read_at(next, seq, out, check_payload);
  const std::uint64_t offset = next % limits_.log_bytes;
  if (here == RecordFault::none || offset == 0) return here;
  // Neither place holds it: report what was wrong where it should have been.
  const RecordFault lap = read_at(next - offset + limits_.log_bytes, seq, out, check_payload);
  return lap == RecordFault::none ? lap : here;
}

std::optional<Delivery> ReceiveLog::next_delivery(std::uint64_t safe_up_to) noexcept {
  const std::uint64_t seq = delivered_seq_ + 1;
  if (seq > received_up_to_) return std::nullopt;
  RecordHeader h;
  // Checked again on every call while stuck: membership's recovery, or a
  // repair, may have written the record again meanwhile. The payload was
  // checked when the seq was received; the sender against the link it came
  // on (a record a repair or recovery wrote is from a member whose own copy
  // checked: kAnySender).
  RecordFault fault = locate(next_position_, seq, &h, false);
  const fabric::NodeId from = landed_from_[seq % capacity_];
  if (fault == RecordFault::none && from != kAnySender && h.sender != from) {
    fault = RecordFault::wrong_link;
  }
  if (fault != RecordFault::none) {
    if (!stuck_) {
      stuck_ = true;
      ++counters_.stalls;
      drop(fault);
    }
    return std::nullopt;
  }
  stuck_ = false;
  if (h.guarantee == Guarantee::safe && seq > safe_up_to) return std::nullopt;
  RC_ASSERT(h.position >= next_position_);  // locate found it here or at the next lap
  const std::uint64_t offset = h.position % limits_.log_bytes;
  next_position_ = h.position + record_span_bytes(h.payload_bytes);
  end_position_[seq % capacity_] = next_position_;
  delivered_seq_ = seq;
  RC_ASSERT(delivered_seq_ <= received_up_to_);
  ++counters_.records_delivered;
  counters_.bytes_delivered += h.payload_bytes;
  return Delivery{seq,
                  h.position,
                  h.sender,
                  h.sender_pid,
                  h.group,
                  h.guarantee,
                  memory_.subspan(offset + kRecordHeaderBytes, h.payload_bytes)};
}

Status ReceiveLog::release_through_seq(std::uint64_t seq) {
  if (seq <= released_seq_) return {};
  if (seq > delivered_seq_) {
    return make_error(Errc::invalid_argument, "release_through_seq",
                      "seq " + std::to_string(seq) + " not delivered yet");
  }
  released_seq_ = seq;
  released_position_ = end_position_[seq % capacity_];
  // Ends are stored at delivery, and delivery only moves forward.
  RC_ASSERT(released_position_ <= next_position_);
  return {};
}

}  // namespace ringcast::ring
