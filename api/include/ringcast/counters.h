/*
 * ringcast's counters, in C: what the library of this process counted (the
 * ring, tokens, deliveries, and the bytes it copied on send). Not a corosync
 * call: include <ringcast/counters.h> next to <corosync/cpg.h> or
 * <ringcast/cpg.h>. The C++ API's ringcast::cpg::Counters holds the same.
 *
 *   struct ringcast_counters c = {sizeof c};
 *   if (ringcast_counters_get(handle, &c) == CS_OK) use(c.bytes_copied_on_send);
 *
 * Versioning: the caller sets `size` to sizeof(struct ringcast_counters) as
 * it was compiled. The library fills the fields that fit in that size (a
 * program built against an older, shorter struct gets the fields it knows;
 * fields a newer program knows and this library does not stay as the caller
 * left them) and sets `size` to the number of bytes it filled. Fields are
 * only ever appended. The layout has no implicit padding.
 */
#ifndef RINGCAST_COUNTERS_H
#define RINGCAST_COUNTERS_H

#include <stdint.h>

#include "cpg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ringcast_counters {
  uint32_t size;                /* in: sizeof the caller's struct; out: bytes filled */
  uint32_t ring_representative; /* the ring id's node (cpg_ring_id.nodeid) */
  uint64_t ring_seq;            /* the ring id's number (cpg_ring_id.seq) */
  uint32_t members;             /* nodes in the ring */
  uint32_t reserved0;           /* 0; keeps the next fields 8-aligned */
  uint64_t tokens_received;
  uint64_t tokens_passed;
  uint64_t tokens_dropped;
  uint64_t records_delivered; /* messages and control records delivered by the ring */
  uint64_t records_dropped;   /* records from peers with invalid headers */
  /* Bytes copied into the send buffer on send (accepted sends only):
   * cpg_mcast_joined(), and cpg_zcb_mcast_joined() of a message below
   * totem.zcb_copy_below_bytes (those are also in zero_copy_bytes_copied).
   * A zero-copy send at or above it adds nothing (the NIC reads the buffer),
   * except above the atomic size: 32 bytes a fragment, its header. */
  uint64_t bytes_copied_on_send;
  uint64_t messages_dropped_not_member; /* data from a sender not in its group */
  uint64_t zero_copy_sends;             /* accepted cpg_zcb_mcast_joined() calls */
  /* Writes refused for the link they came on: a token not from the ring
   * predecessor, a record, wake or control message naming another sender. */
  uint64_t writes_wrong_link;
  /* New links refused in place of a live one: an older incarnation, or a
   * replacement less than a second after the last. */
  uint64_t link_replacements_refused;
  /* Messages above cpg_max_atomic_msgsize_get(), sent in fragments and put
   * together again by every member (cpg_mcast_joined(3)). */
  uint64_t large_messages_sent;      /* by this process, and delivered */
  uint64_t large_messages_delivered; /* assembled here, from every sender */
  uint64_t large_messages_abandoned; /* given up before their last fragment */
  uint64_t fragments_refused;        /* malformed, or continuing no message */
  /* From the receive log into whole messages: every message in fragments
   * (its slices are never contiguous in the log). */
  uint64_t bytes_copied_on_assembly;
  /* Handles of this process evicted for holding the receive log past
   * totem.handle_unreleased_max_bytes for totem.handle_unreleased_max_ms
   * (their next call returns CS_ERR_LIBRARY; docs/api.md, "Eviction"). */
  uint64_t handles_evicted;
  /* cpg_join() calls of this process the ring refused at delivery (a group
   * or member bound, or a name whose key another group has): the handle is
   * out of the group again and its sends return CS_ERR_NOT_EXIST. */
  uint64_t joins_refused;
  /* Messages cpg_mcast_joined() accepted that were still queued when this
   * process's node left the ring for good, never sent (every handle's
   * cpg_dispatch() then returns CS_ERR_LIBRARY; docs/api.md). */
  uint64_t messages_unsent_on_leave;
  /* A record failed its checks (header or payload checksum) and delivery
   * stopped until another member wrote it again: how often, and how many
   * records then checked (docs/protocol.md "Repair"). */
  uint64_t record_stalls;
  uint64_t records_repaired;
  /* Messages a handle had not dispatched when it held
   * totem.handle_unreleased_max_bytes of the receive log, moved out of the
   * log into the process's memory (up to totem.handle_spill_max_bytes a
   * handle), and the bytes copied for them (docs/api.md, "Eviction"). */
  uint64_t messages_spilled;
  uint64_t bytes_copied_on_spill;
  /* The bytes of accepted cpg_zcb_mcast_joined() calls, by how they went:
   * copied (below totem.zcb_copy_below_bytes) or read by the NIC from the
   * buffer itself (at or above it; above the atomic size every fragment's
   * slice) (docs/api.md, "Zero-copy sends and deliveries"). */
  uint64_t zero_copy_bytes_copied;
  uint64_t zero_copy_bytes_from_buffer;
  /* Client mode (through ringcastd), this handle's deliveries by how they
   * came: read in place in the daemon's receive log mapped into the process
   * (by reference), or copied through the event ring (small ones, messages
   * put together from fragments or spilled, a client over its quota of
   * unreleased deliveries); and their bytes (docs/api.md, "Zero-copy sends
   * and deliveries"). 0 in embedded mode, where every delivery is read in
   * the log. */
  uint64_t deliveries_by_reference;
  uint64_t bytes_delivered_by_reference;
  uint64_t deliveries_copied;
  uint64_t bytes_delivered_copied;
};

/*
 * Reads the counters of the process's node (every handle of a process shares
 * one node, so any handle gives the same numbers). CS_ERR_BAD_HANDLE for an
 * unknown or finalized handle; CS_ERR_INVALID_PARAM when counters is NULL or
 * its size is smaller than the `size` field plus the first field (8 bytes).
 */
cs_error_t ringcast_counters_get(cpg_handle_t handle, struct ringcast_counters* counters);

#ifdef __cplusplus
}
#endif

#endif /* RINGCAST_COUNTERS_H */
