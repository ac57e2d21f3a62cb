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
// A seq counts as received only once it and every seq before it landed and
// checked: the header found where the record after the previous one ends (at
// that position, or at the next lap if it did not fit before the end of the
// log) must name exactly that seq and that position, and the payload must
// match its checksum. So received_up_to(), which the token carries to every
// member (SAFE delivery, catching up), never counts a corrupted copy.
// Delivery walks the same chain and checks the headers again (the log is
// remotely writable). A record that fails is counted and the log stops there
// (a stalled log); it never delivers garbage. A stalled log heals when the
// record is written again by a member whose copy checks (accept_repair; the
// ring state asks for it, docs/protocol.md "Repair").
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
  std::uint64_t stalls = 0;            // times delivery stopped at a record that failed
  std::uint64_t records_repaired = 0;  // records that checked once written again
};

// A batch that landed: its seqs (0: none landed now) and, when its last
// header decoded as a record this member has not released, the member whose
// records they are (stale bytes of an earlier lap name nobody).
struct LandedBatch {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::optional<fabric::NodeId> sender;
};

// A run of consecutive records that check in this member's log, to be
// written again into a member whose copy did not: one write of `bytes` from
// log offset `offset`.
struct RepairRun {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint32_t records = 0;
};

class ReceiveLog {
 public:
  // A record whose sender is not known when it lands (recovered ones).
  static constexpr fabric::NodeId kAnySender = 0;

  // memory: the registered log, exactly limits.log_bytes long. A ring formed
  // by membership continues the global positions of the rings before it:
  // its seq 1 starts at base_position, and this member still holds (delivered,
  // unreleased) older rings' records from released_position on (<= base).
  ReceiveLog(std::span<std::byte> memory, const RecordLimits& limits,
             std::uint64_t base_position = 0, std::uint64_t released_position = 0);

  // A peer's batch landed; the imm named its last record's offset. Validates
  // that header (and that the batch is new and within the window) before
  // marking the batch's seqs landed. Returns the fault when it dropped it.
  // from: the peer whose link the imm came on; the header must name it as
  // its sender (a member writes its own batches), unless `relayed`: the
  // caller found the link to be the ring predecessor's, which relays others'
  // batches (docs/protocol.md "Relay"). landed: the sender once the last
  // header decoded, the batch's seqs when it was accepted.
  RecordFault on_batch_landed(std::uint64_t last_record_offset,
                              std::optional<fabric::NodeId> from = std::nullopt,
                              bool relayed = false, LandedBatch* landed = nullptr) noexcept;

  // The token holder writes its own records into its own log (header then
  // payload), then marks the batch landed. The payload is prefix then rest.
  void place_own(const RecordHeader& header, std::span<const std::byte> prefix,
                 std::span<const std::byte> rest) noexcept;
  void place_own(const RecordHeader& header, std::span<const std::byte> payload) noexcept {
    place_own(header, {}, payload);
  }
  // from: the node the records came from (kAnySender: not known).
  void mark_landed(std::uint64_t first_seq, std::uint64_t last_seq,
                   fabric::NodeId from = kAnySender) noexcept;

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
  // False when through_seq is beyond the landed window (nothing changed), or
  // when a record up to it fails its payload checksum (those before it are
  // received).
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

  // --- Repair (docs/protocol.md "Repair").
  // The first record to fetch again, and where it starts (or its lap):
  // delivery's next when stuck(), else the one after received_up_to().
  struct Wanted {
    std::uint64_t seq = 0;
    std::uint64_t position = 0;
  };
  Wanted wanted() const noexcept;
  // Another member's log: records from `seq` found at `position` (or its
  // lap) that landed here and check, at most max_records and max_bytes (the
  // first whatever its size), contiguous in the log. Nothing when the first
  // does not check.
  std::optional<RepairRun> find_run(std::uint64_t seq, std::uint64_t position,
                                    std::uint32_t max_records,
                                    std::uint64_t max_bytes) const noexcept;
  // The received seqs first..last as runs of consecutive records (a run
  // breaks at the end of the log), for a relay to write on: at most
  // out.size() runs. 0 when they are not all received or need more runs.
  std::size_t received_runs(std::uint64_t first, std::uint64_t last,
                            std::span<RepairRun> out) const noexcept;
  // Someone wrote up to `records` records from wanted() again: the records
  // after the delivered ones that now check in a row are landed, and
  // delivery goes on. Returns how many of them lie beyond what was wanted.
  std::uint32_t accept_repair(std::uint32_t records) noexcept;

  std::uint64_t base_position() const noexcept { return base_position_; }
  std::uint64_t received_up_to() const noexcept { return received_up_to_; }
  std::uint64_t delivered_seq() const noexcept { return delivered_seq_; }
  std::uint64_t released_seq() const noexcept { return released_seq_; }
  std::uint64_t released_position() const noexcept { return released_position_; }
  std::uint64_t capacity_records() const noexcept { return capacity_; }
  std::uint64_t log_bytes() const noexcept { return limits_.log_bytes; }
  // The head record failed validation; delivery waits for a repair.
  bool stuck() const noexcept { return stuck_; }
  // The seq after received_up_to() landed (its write is complete) and failed
  // its checks.
  bool receive_stuck() const noexcept { return receive_stuck_; }
  const ReceiveCounters& counters() const noexcept { return counters_; }
  std::span<const std::byte> memory() const noexcept { return memory_; }

 private:
  bool landed(std::uint64_t seq) const noexcept;
  void set_landed(std::uint64_t seq) noexcept;
  void land(std::uint64_t first, std::uint64_t last, fabric::NodeId from) noexcept;
  // own_last: seqs up to it were placed by this member (place_own sealed
  // their payload checksum over its own copy): their payloads are not read.
  void advance_received(std::uint64_t own_last = 0) noexcept;
  bool fits_here(const RecordHeader& h) const noexcept;
  RecordFault check_batch(const RecordHeader& last, std::uint64_t offset) const noexcept;
  RecordFault read_at(std::uint64_t position, std::uint64_t seq, RecordHeader* out,
                      bool check_payload = true) const noexcept;
  RecordFault locate(std::uint64_t next, std::uint64_t seq, RecordHeader* out,
                     bool check_payload = true) const noexcept;
  void drop(RecordFault fault) noexcept;
  bool absorbed_by_repair(const RecordHeader& last, std::uint64_t offset,
                          RecordFault fault) noexcept;

  std::span<std::byte> memory_;
  RecordLimits limits_;
  std::uint64_t capacity_;             // log_bytes / 64: bits in landed_
  std::vector<std::uint64_t> landed_;  // bit seq % capacity_, for seqs > received_up_to_
  // Per received seq % capacity_: where it ends; written when the seq is
  // received (and again at delivery), read only for received seqs, so left
  // uninitialized. Zeroing it (8 bytes per
  // 64 of log: 512 KiB for a 4 MiB log) would make every new ring touch all
  // of it at once, and membership creates a ring while survivors wait: on rxe
  // under emulation those page faults cost each member 8 to 30 ms of CPU at
  // the commit, twice on the way to a configuration change. Untouched, a
  // page is faulted in when the first seq on it is received.
  std::unique_ptr<std::uint64_t[]> end_position_;
  // Per landed seq % capacity_: the node whose link it came on (every record
  // of a batch comes with its last one), or kAnySender for records recovered
  // from another member; a delivered header must name it. Written when the
  // seq lands, read only for landed seqs, so left uninitialized as above.
  std::unique_ptr<fabric::NodeId[]> landed_from_;
  std::uint64_t base_position_ = 0;
  std::uint64_t received_up_to_ = 0;
  std::uint64_t received_end_ = 0;  // where the record after received_up_to_ starts (or its lap)
  bool receive_stuck_ = false;      // the record after received_up_to_ landed and failed
  std::uint64_t delivered_seq_ = 0;
  std::uint64_t next_position_ = 0;  // where the record after delivered_seq_ starts (or its lap)
  std::uint64_t released_seq_ = 0;
  std::uint64_t released_position_ = 0;
  bool stuck_ = false;
  std::uint64_t repaired_through_ = 0;  // highest seq a repair made land
  ReceiveCounters counters_;
};

}  // namespace ringcast::ring
