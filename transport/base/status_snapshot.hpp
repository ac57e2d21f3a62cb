// Where one ring member stands, and what it counted: filled by the ring's and
// the membership's drivers and passed up unchanged through the runtime to the
// CPG layer, which adds its own counters for ringcast_counters_get. The
// field names are the public struct's (api/include/ringcast/counters.h).
// In base/ because the drivers below the runtime fill it and the client
// above it reads it; it holds plain values only.
#pragma once

#include <cstdint>
#include <vector>

namespace ringcast {

// Sums over every ring the member was in, except where a field says "of the
// ring installed last".
struct StatusSnapshot {
  std::uint32_t ring_representative = 0;  // the ring installed last: its id's node
  std::uint64_t ring_seq = 0;             // and its id's number (the ring's epoch)
  std::vector<std::uint32_t> members;     // of that ring, in ring order
  bool operational = true;                // false while a new ring is being formed
  std::uint64_t tokens_received = 0;
  std::uint64_t tokens_passed = 0;      // of the ring installed last
  std::uint64_t tokens_dropped = 0;     // stale or invalid
  std::uint64_t records_delivered = 0;  // of the ring installed last
  std::uint64_t records_dropped = 0;    // invalid headers refused
  std::uint64_t retransmissions = 0;    // tokens written again, record ranges rewritten
  std::uint64_t reformations = 0;       // rings installed after the first
  std::uint64_t control_dropped = 0;    // invalid membership messages refused

  // Writes refused for the link they came on: a token not from the ring
  // predecessor, a wake, batch or control message naming a sender other than
  // the peer of its link (also counted among the drops of their kind).
  std::uint64_t writes_wrong_link = 0;
  // New links refused in place of a live one (runtime: an older incarnation,
  // or a replacement too soon after the last).
  std::uint64_t link_replacements_refused = 0;
  // Left the ring for good (it cannot go on in any ring; sends fail), and
  // how many accepted messages were still queued then: never sent.
  bool left = false;
  std::uint64_t messages_unsent_on_leave = 0;
  // Delivery stopped at a record that failed its checks (header or payload
  // checksum), and records that then checked once another member wrote them
  // again (docs/protocol.md "Repair").
  std::uint64_t record_stalls = 0;
  std::uint64_t records_repaired = 0;
  // Others' records this member forwarded to its successor, and forwards
  // that waited for room on that link (docs/protocol.md "Relay").
  std::uint64_t records_relayed = 0;
  std::uint64_t relay_waits = 0;
};

// The send path of the ring a member sends on, for cpg_flow_control_state_get
// and the counters.
struct SendPathSnapshot {
  std::uint32_t queued_messages = 0;
  std::uint32_t queue_capacity = 0;
  std::uint64_t buffer_bytes_used = 0;
  std::uint64_t buffer_bytes = 0;
  std::uint64_t bytes_copied_on_send = 0;  // payload bytes copied at submit, ever
};

}  // namespace ringcast
