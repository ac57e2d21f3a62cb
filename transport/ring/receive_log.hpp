// One member's receive log: which records have landed, the delivery cursor,
// and what the application has released.
//
// Records sit at their global positions (log_space.hpp). They land out of
// order across links (two holders' batches race on different links), so
// "landed" is a bitmap over the seqs after received_up_to(). It needs only
// one bit per 64 log bytes: by the space rule every seq above
// received_up_to() lies within one log length of this member's released
// position, and a record is at least 64 bytes.
//
// Delivery walks the log in seq order: the record after the one at p is at p,
// or at the next lap if it did not fit before the end of the log. The header
// found there must name exactly that seq and that position; anything else is
// counted and delivery stops there (a stuck log), it never delivers garbage.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {

// A record handed to the application in place: the payload points into the
// receive log and stays valid until release_through_seq() covers its seq.
struct Delivery {
  std::uint64_t seq = 0;
  std::uint64_t position = 0;
  fabric::NodeId sender = 0;
  std::uint32_t sender_pid = 0;
  std::uint32_t group = 0;
  Guarantee guarantee = Guarantee::agreed;
  std::span<const std::byte> payload;
};

struct ReceiveCounters {
  std::uint64_t batches_landed = 0;
  std::uint64_t records_landed = 0;  // by imm and placed by this member
  std::uint64_t records_delivered = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t records_dropped = 0;  // headers that failed validation
  RecordFault last_fault = RecordFault::none;
};

class ReceiveLog {
 public:
  // memory: the registered log, exactly limits.log_bytes long. A ring formed
  // by membership continues the global positions of the rings before it:
  // its seq 1 starts at base_position, and this member still holds (delivered,
  // unreleased) older rings' records from released_position on (<= base).
  ReceiveLog(std::span<std::byte> memory, const RecordLimits& limits,
             std::uint64_t base_position = 0, std::uint64_t released_position = 0);

  // A peer's batch landed; the imm named its last record's offset. Validates
  // that header (and that the batch is new and within the window) before
  // marking the batch's seqs landed. Returns the fault when it dropped it.
  RecordFault on_batch_landed(std::uint64_t last_record_offset) noexcept;

  // The token holder writes its own records into its own log (header then
  // payload), then marks the batch landed.
  void place_own(const RecordHeader& header, std::span<const std::byte> payload) noexcept;
  void mark_landed(std::uint64_t first_seq, std::uint64_t last_seq) noexcept;

  // The next record in seq order, if it has landed, every lower seq has, and
  // (for SAFE) seq <= safe_up_to. A SAFE record waiting blocks those after it.
  std::optional<Delivery> next_delivery(std::uint64_t safe_up_to) noexcept;
  // The application is done with every delivered record up to seq.
  // Errc::invalid_argument for a seq not delivered yet.
  Status release_through_seq(std::uint64_t seq);

  // Membership: the application released more of the older rings' records
  // (their positions lie before base_position); until this ring released
  // anything of its own, its released position follows them, up to the base.
  void release_inherited(std::uint64_t position) noexcept;
  // Membership's recovery: every seq up to through_seq is now in the log
  // (written by a survivor that held them); marks those not landed yet.
  // False (nothing changed) when through_seq is beyond the landed window.
  bool mark_recovered(std::uint64_t through_seq) noexcept;
  // Where the record after through_seq (>= delivered_seq()) starts, found by
  // walking the validated headers after the delivered ones (the caller knows
  // those bytes landed); nothing when a header there fails validation.
  std::optional<std::uint64_t> end_of(std::uint64_t through_seq) const noexcept;
  // Whether place_own may put a record with this seq, position and payload
  // size here: a seq not landed yet, within the landed window, covering
  // nothing this member holds unreleased. The token holder asks before it
  // places: a forged or corrupted token can name seqs or positions that
  // fail it (an honest one never does).
  bool may_place_own(const RecordHeader& h) const noexcept;

  std::uint64_t base_position() const noexcept { return base_position_; }
  std::uint64_t received_up_to() const noexcept { return received_up_to_; }
  std::uint64_t delivered_seq() const noexcept { return delivered_seq_; }
  std::uint64_t released_seq() const noexcept { return released_seq_; }
  std::uint64_t released_position() const noexcept { return released_position_; }
  std::uint64_t capacity_records() const noexcept { return capacity_; }
  std::uint64_t log_bytes() const noexcept { return limits_.log_bytes; }
  // The head record failed validation; delivery cannot go on in this ring.
  bool stuck() const noexcept { return stuck_; }
  const ReceiveCounters& counters() const noexcept { return counters_; }
  std::span<const std::byte> memory() const noexcept { return memory_; }

 private:
  bool landed(std::uint64_t seq) const noexcept;
  void set_landed(std::uint64_t seq) noexcept;
  void advance_received() noexcept;
  bool fits_here(const RecordHeader& h) const noexcept;
  RecordFault check_batch(const RecordHeader& last, std::uint64_t offset) const noexcept;
  RecordFault read_at(std::uint64_t position, std::uint64_t seq, RecordHeader* out) const noexcept;
  RecordFault locate(std::uint64_t next, std::uint64_t seq, RecordHeader* out) const noexcept;
  void drop(RecordFault fault) noexcept;

  std::span<std::byte> memory_;
  RecordLimits limits_;
  std::uint64_t capacity_;             // log_bytes / 64: bits in landed_
  std::vector<std::uint64_t> landed_;  // bit seq % capacity_, for seqs > received_up_to_
  // Per delivered seq % capacity_: where it ends; written at delivery, read
  // only for delivered seqs, so left uninitialized. Zeroing it (8 bytes per
  // 64 of log: 512 KiB for a 4 MiB log) would make every new ring touch all
  // of it at once, and membership creates a ring while survivors wait: on rxe
  // under emulation those page faults cost each member 8 to 30 ms of CPU at
  // the commit, twice on the way to a configuration change. Untouched, a
  // page is faulted in when the first seq on it is delivered.
  std::unique_ptr<std::uint64_t[]> end_position_;
  std::uint64_t base_position_ = 0;
  std::uint64_t received_up_to_ = 0;
  std::uint64_t delivered_seq_ = 0;
  std::uint64_t next_position_ = 0;  // where the record after delivered_seq_ starts (or its lap)
  std::uint64_t released_seq_ = 0;
  std::uint64_t released_position_ = 0;
  bool stuck_ = false;
  ReceiveCounters counters_;
};

}  // namespace ringcast::ring
