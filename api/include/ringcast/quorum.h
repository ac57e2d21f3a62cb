/*
 * Quorum: ringcast's C API for knowing whether this node's side of the
 * cluster may act.
 *
 * Source-compatible with corosync 3.1's <corosync/quorum.h>: the same names,
 * types, values and prototypes, so a program written for corosync builds
 * unchanged against -I<ringcast>/api/compat and -lringcast.
 *
 * The node counts the votes of the nodes in its ring against the cluster
 * file's `quorum` section, with the rules of corosync's votequorum
 * (expected_votes, two_node, wait_for_all; docs/configuration.md): it is
 * quorate while those nodes hold a majority of the expected votes. What each
 * side of a partition sees is in docs/operations.md, where this API differs
 * from corosync's in docs/api.md.
 *
 * Callbacks run only inside quorum_dispatch(), in the caller's thread.
 * The guard is shared with corosync's header so that the two never define
 * the same type twice in one translation unit.
 */
#ifndef COROSYNC_QUORUM_H_DEFINED
#define COROSYNC_QUORUM_H_DEFINED

#include <stdint.h>

#include "corotypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which callbacks a handle has: QUORUM_MODEL_V0 (quorum_initialize) or
 * QUORUM_MODEL_V1 (ring ids and a separate node-list callback). */
typedef enum { QUORUM_MODEL_V0 = 0, QUORUM_MODEL_V1 = 1 } quorum_model_t;

/* An opaque connection to the quorum service; not a file descriptor. */
typedef uint64_t quorum_handle_t;

/* A ring: the node that formed it and its sequence number. */
struct quorum_ring_id {
  uint32_t nodeid;
  uint64_t seq;
};

/* V0: whether this node is quorate, the ring's sequence number and the
 * nodes of the ring. */
typedef void (*quorum_notification_fn_t)(quorum_handle_t handle, uint32_t quorate,
                                         uint64_t ring_seq, uint32_t view_list_entries,
                                         uint32_t* view_list);

/* V1: the same with the whole ring id. */
typedef void (*quorum_v1_quorum_notification_fn_t)(quorum_handle_t handle, uint32_t quorate,
                                                   struct quorum_ring_id ring_id,
                                                   uint32_t member_list_entries,
                                                   const uint32_t* member_list);

/* V1: the nodes of a new ring, and which joined and left since the last one
 * (both empty in the notification quorum_trackstart sends). */
typedef void (*quorum_v1_nodelist_notification_fn_t)(
    quorum_handle_t handle, struct quorum_ring_id ring_id, uint32_t member_list_entries,
    const uint32_t* member_list, uint32_t joined_list_entries, const uint32_t* joined_list,
    uint32_t left_list_entries, const uint32_t* left_list);

typedef struct {
  quorum_notification_fn_t quorum_notify_fn;
} quorum_callbacks_t;

/* The header every model's data starts with. */
typedef struct {
  quorum_model_t model;
} quorum_model_data_t;

typedef struct {
  quorum_model_t model;
  quorum_notification_fn_t quorum_notify_fn;
} quorum_model_v0_data_t;

typedef struct {
  quorum_model_t model;
  quorum_v1_quorum_notification_fn_t quorum_notify_fn;
  quorum_v1_nodelist_notification_fn_t nodelist_notify_fn;
} quorum_model_v1_data_t;

/* *quorum_type of the initialize calls: QUORUM_SET when votes decide quorum
 * (always, in ringcast), QUORUM_FREE when no quorum rule is configured. */
#define QUORUM_FREE 0
#define QUORUM_SET 1

/* ------------------------------------------------------------------------ */
/* Calls. Each returns CS_OK or an error (cs_strerror() names it); an       */
/* unknown or finalized handle is CS_ERR_BAD_HANDLE. Man pages: quorum_*(3). */
/* ------------------------------------------------------------------------ */

/* Opens a V0 handle (callbacks may be NULL: no notifications). In client
 * mode (the default) a connection to the node's ringcastd, in embedded mode
 * on this process's node, started if no handle did yet (docs/api.md,
 * "Embedded and client mode"). quorum_type may be NULL. */
cs_error_t quorum_initialize(quorum_handle_t* handle, quorum_callbacks_t* callbacks,
                             uint32_t* quorum_type);

/* Opens a handle of the given model; model_data points to a
 * quorum_model_v0_data_t or quorum_model_v1_data_t (or is NULL). */
cs_error_t quorum_model_initialize(quorum_handle_t* handle, quorum_model_t model,
                                   quorum_model_data_t* model_data, uint32_t* quorum_type,
                                   void* context);

/* Closes the handle; a blocked quorum_dispatch returns. */
cs_error_t quorum_finalize(quorum_handle_t handle);

/* A descriptor that polls readable while a notification is pending. */
cs_error_t quorum_fd_get(quorum_handle_t handle, int* fd);

/* Runs pending callbacks (CS_DISPATCH_ONE, _ALL, _BLOCKING, _ONE_NONBLOCKING). */
cs_error_t quorum_dispatch(quorum_handle_t handle, cs_dispatch_flags_t dispatch_types);

/* *quorate: 1 when this node is quorate now, else 0. */
cs_error_t quorum_getquorate(quorum_handle_t handle, int* quorate);

/* CS_TRACK_CURRENT: one notification of the current state; CS_TRACK_CHANGES:
 * that, and one at every ring change; CS_TRACK_CHANGES_ONLY: only the
 * changes. CS_ERR_EXIST when the handle already tracks. */
cs_error_t quorum_trackstart(quorum_handle_t handle, unsigned int flags);

/* Stops the notifications of changes. */
cs_error_t quorum_trackstop(quorum_handle_t handle);

/* The handle's application pointer. */
cs_error_t quorum_context_set(quorum_handle_t handle, const void* context);
cs_error_t quorum_context_get(quorum_handle_t handle, const void** context);

#ifdef __cplusplus
}
#endif

#endif /* COROSYNC_QUORUM_H_DEFINED */
