// ringcast_counters_get(): the C view of client::Node::counters(), with the
// size-versioned struct of <ringcast/counters.h>.
#include "ringcast/counters.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include "client/daemon_handles.hpp"
#include "client/handle_table.hpp"
#include "client/node.hpp"
#include "client/session.hpp"

namespace {

using C = ringcast_counters;

// The layout is part of the ABI: fields only ever appended, no padding.
static_assert(offsetof(C, ring_representative) == 4 && offsetof(C, ring_seq) == 8);
static_assert(offsetof(C, members) == 16 && offsetof(C, tokens_received) == 24);
static_assert(offsetof(C, zero_copy_sends) == 80 && offsetof(C, writes_wrong_link) == 88);
static_assert(offsetof(C, link_replacements_refused) == 96 &&
              offsetof(C, large_messages_sent) == 104);
static_assert(offsetof(C, bytes_copied_on_assembly) == 136 && offsetof(C, handles_evicted) == 144);
static_assert(offsetof(C, messages_unsent_on_leave) == 160 && offsetof(C, record_stalls) == 168);
static_assert(offsetof(C, records_repaired) == 176 && offsetof(C, messages_spilled) == 184);
static_assert(offsetof(C, bytes_copied_on_spill) == 192 &&
              offsetof(C, zero_copy_bytes_copied) == 200);
static_assert(offsetof(C, zero_copy_bytes_from_buffer) == 208 &&
              offsetof(C, deliveries_by_reference) == 216);
static_assert(offsetof(C, bytes_delivered_copied) == 240 && sizeof(C) == 248);

// Where each field ends (the next one's offset): a caller's size is rounded down to one of these,
// so no field is ever written in part.
constexpr std::array<std::size_t, 33> kFieldEnds = {
    offsetof(C, ring_representative),
    offsetof(C, ring_seq),
    offsetof(C, members),
    offsetof(C, reserved0),
    offsetof(C, tokens_received),
    offsetof(C, tokens_passed),
    offsetof(C, tokens_dropped),
    offsetof(C, records_delivered),
    offsetof(C, records_dropped),
    offsetof(C, bytes_copied_on_send),
    offsetof(C, messages_dropped_not_member),
    offsetof(C, zero_copy_sends),
    offsetof(C, writes_wrong_link),
    offsetof(C, link_replacements_refused),
    offsetof(C, large_messages_sent),
    offsetof(C, large_messages_delivered),
    offsetof(C, large_messages_abandoned),
    offsetof(C, fragments_refused),
    offsetof(C, bytes_copied_on_assembly),
    offsetof(C, handles_evicted),
    offsetof(C, joins_refused),
    offsetof(C, messages_unsent_on_leave),
    offsetof(C, record_stalls),
    offsetof(C, records_repaired),
    offsetof(C, messages_spilled),
    offsetof(C, bytes_copied_on_spill),
    offsetof(C, zero_copy_bytes_copied),
    offsetof(C, zero_copy_bytes_from_buffer),
    offsetof(C, deliveries_by_reference),
    offsetof(C, bytes_delivered_by_reference),
    offsetof(C, deliveries_copied),
    offsetof(C, bytes_delivered_copied),
    sizeof(C),
};
constexpr std::size_t kMinimumBytes = offsetof(C, ring_seq);

std::size_t filled_bytes(std::uint32_t caller_size) {
  std::size_t filled = 0;
  for (std::size_t end : kFieldEnds)
    if (end <= caller_size) filled = std::max(filled, end);
  return filled;
}

C to_c(const ringcast::cpg::Counters& in) {
  C out{};
  out.size = sizeof(C);
  out.ring_representative = in.ring_representative;
  out.ring_seq = in.ring_seq;
  out.members = in.members;
  out.tokens_received = in.tokens_received;
  out.tokens_passed = in.tokens_passed;
  out.tokens_dropped = in.tokens_dropped;
  out.records_delivered = in.records_delivered;
  out.records_dropped = in.records_dropped;
  out.bytes_copied_on_send = in.bytes_copied_on_send;
  out.messages_dropped_not_member = in.messages_dropped_not_member;
  out.zero_copy_sends = in.zero_copy_sends;
  out.writes_wrong_link = in.writes_wrong_link;
  out.link_replacements_refused = in.link_replacements_refused;
  out.large_messages_sent = in.large_messages_sent;
  out.large_messages_delivered = in.large_messages_delivered;
  out.large_messages_abandoned = in.large_messages_abandoned;
  out.fragments_refused = in.fragments_refused;
  out.bytes_copied_on_assembly = in.bytes_copied_on_assembly;
  out.handles_evicted = in.handles_evicted;
  out.joins_refused = in.joins_refused;
  out.messages_unsent_on_leave = in.messages_unsent_on_leave;
  out.record_stalls = in.record_stalls;
  out.records_repaired = in.records_repaired;
  out.messages_spilled = in.messages_spilled;
  out.bytes_copied_on_spill = in.bytes_copied_on_spill;
  out.zero_copy_bytes_copied = in.zero_copy_bytes_copied;
  out.zero_copy_bytes_from_buffer = in.zero_copy_bytes_from_buffer;
  out.deliveries_by_reference = in.deliveries_by_reference;
  out.bytes_delivered_by_reference = in.bytes_delivered_by_reference;
  out.deliveries_copied = in.deliveries_copied;
  out.bytes_delivered_copied = in.bytes_delivered_copied;
  return out;
}

}  // namespace

namespace ringcast::client {

// A client-mode handle counts what it copied into its request ring, and its
// zero-copy sends by how they went: copied (into the ring, or by the daemon
// below the crossover) or read by the NIC from its pages (the daemon holds
// the ring's counters).
cpg::Counters counters_of(const DaemonConnection& c) {
  cpg::Counters out{};
  out.bytes_copied_on_send = c.bytes_copied();
  out.zero_copy_sends = c.zcb_sends();
  out.zero_copy_bytes_copied = c.zcb_bytes_copied();
  out.zero_copy_bytes_from_buffer = c.zcb_bytes_from_buffer();
  out.deliveries_by_reference = c.deliveries_by_reference();
  out.bytes_delivered_by_reference = c.bytes_by_reference();
  out.deliveries_copied = c.deliveries_copied();
  out.bytes_delivered_copied = c.bytes_delivered_copied();
  out.messages_spilled = c.refs_spilled();
  out.bytes_copied_on_spill = c.ref_bytes_spilled();
  return out;
}

}  // namespace ringcast::client

extern "C" cs_error_t ringcast_counters_get(cpg_handle_t handle, ringcast_counters* counters) {
  std::shared_ptr<ringcast::client::DaemonConnection> d;
  std::shared_ptr<ringcast::client::Session> s;
  if (ringcast::client::is_daemon_handle(handle)) {
    d = ringcast::client::DaemonHandles::instance().find(handle);
  } else {
    s = ringcast::client::HandleTable::instance().find(handle);
  }
  if (!d && !s) return CS_ERR_BAD_HANDLE;
  if (counters == nullptr || counters->size < kMinimumBytes) return CS_ERR_INVALID_PARAM;
  const std::size_t filled = filled_bytes(counters->size);
  C full = to_c(d ? ringcast::client::counters_of(*d) : s->node().counters());
  full.size = static_cast<std::uint32_t>(filled);
  std::memcpy(counters, &full, filled);
  return CS_OK;
}
