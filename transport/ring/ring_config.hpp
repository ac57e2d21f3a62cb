// Every tunable of the ring, with its unit and default. validate() refuses
// combinations the protocol cannot honour (a message that cannot fit the log,
// a visit larger than the window) with a message that says which one.
#pragma once

#include <cstdint>

#include "base/result.hpp"

namespace ringcast::ring {

struct RingConfig {
  // --- Memory.
  // Each member's receive log: a byte ring holding records at identical
  // positions on every member. A multiple of 64 (the record alignment), a
  // power of two is not required. Bounds the bytes in flight plus the bytes
  // delivered and not yet released by the slowest member.
  std::uint64_t log_bytes = 16u << 20;
  // Largest payload one submit() may carry. A record is 64 header bytes plus
  // the payload rounded up to 64; it must fit the log whole (no fragments).
  std::uint32_t max_message_bytes = 1u << 20;
  // Messages queued locally and not yet sent; submit() beyond: try_again.
  std::uint32_t send_queue_messages = 1024;
  // Registered bytes that hold copied (not zero-copy) payloads between
  // submit() and the token visit that sends them; full: try_again.
  std::uint64_t send_buffer_bytes = 4u << 20;

  // --- Flow control (Totem's, per token visit and per rotation).
  // Most messages one member sends in one token visit.
  std::uint32_t max_messages_per_visit = 64;
  // Most messages the whole ring sends in one rotation; members share it in
  // proportion to their backlogs.
  std::uint32_t window_messages = 256;

  // --- Dissemination (docs/protocol.md "Relay").
  // A visit whose records take at least this many log bytes (headers and
  // padding included) is written to the successor only and relayed along the
  // ring, so every member's NIC sends it about once; a smaller one goes
  // straight from the holder to every other member (one hop: the latency of
  // a lone message). With 2 members the two are the same writes. Every
  // member learns which way a batch came from its immediate, so members need
  // not agree on it. 0: never relay. docs/performance.md "Dissemination".
  std::uint64_t relay_min_batch_bytes = 32u << 10;
  // The relay acts only in a ring of at least this many members: the batch
  // waits at every hop before it moves on, and with 3 or 4 members that wait
  // costs more than the holder's NIC saves (the model projects -26% at 3, -6%
  // at 4, +8% at 5; docs/performance.md "Dissemination"). 3 to kMaxMembers:
  // with 2 the successor is the only destination; above the ring's size, never.
  std::uint32_t relay_min_members = 5;

  // --- Idle behaviour.
  // On an idle ring (a full rotation with no new message, nothing queued
  // anywhere, every SAFE message known everywhere) the holder keeps the token
  // up to this long before passing it; a holder that just sent keeps it as
  // long for more of its own work (busy hold). A member with new work, a SAFE
  // message or a filling log cut the hold short, so the bound only limits how
  // long an unneeded token sits still. 100 ms (corosync's idle hold is
  // 180 ms): on rxe a 1 ms bound made the single-sender 64 B median ~600 us,
  // 10 ms ~135 us, 100 ms ~96 us (docs/protocol.md). Membership's token
  // timeout must exceed it. 0: never hold.
  std::uint64_t token_hold_ns = 100'000'000;
  // A member that gets new work and has not seen the token for this long
  // sends a wake to every other member (the holder among them passes at once).
  // A holder that keeps the token for its own work (busy hold) passes on this
  // wake; shorter defaults (5 us) cost ~25% of 64 KiB throughput under
  // soft-RoCE emulation (a wake per visit wakes every member's thread).
  std::uint64_t wake_after_ns = 100'000;
  // The member that passed the token writes it again this long after the pass
  // while it sees no sign that the token moved on (a token of its own, a seq
  // beyond the one it passed), as Totem's last holder does before anyone
  // declares the token lost: a token written into a corrupted or overwritten
  // mailbox slot is not lost for good. A duplicate is refused as stale by a
  // successor that has it already. 0: never (membership sets it per ring).
  std::uint64_t token_retransmit_ns = 0;

  // --- Token mailbox.
  // Slots in each member's mailbox; a token is written to slot token_seq %
  // slots, so a retransmitted token never lands on the one being read (2 to
  // kMaxMailboxSlots: the token immediate names the slot in 8 bits).
  std::uint32_t mailbox_slots = 4;
  // Local copies of outgoing tokens, each reused only after its write completed.
  std::uint32_t token_staging_slots = 4;
  // Visits whose zero-copy sources are still being read by the NIC.
  std::uint32_t zero_copy_visits = 8;
};

// Errc::invalid_argument naming the offending field when the combination
// cannot work.
Status validate(const RingConfig& config);

}  // namespace ringcast::ring
