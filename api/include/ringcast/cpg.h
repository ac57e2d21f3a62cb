/*
 * Closed process groups (CPG): ringcast's C API.
 *
 * Source-compatible with corosync 3.x's <corosync/cpg.h>: every name, type,
 * numeric value, struct layout, field order and prototype is the same, so a
 * program written for corosync builds unchanged with
 *     cc prog.c -I<ringcast>/api/compat -lringcast
 * (or `pkg-config --cflags --libs ringcast`) and runs over RDMA.
 *
 * What ringcast does differently (details in docs/api.md):
 *   - No daemon. The library itself is a ring member: the first handle of a
 *     process starts the process's node (configuration from RINGCAST_CONFIG or
 *     /etc/ringcast/ringcast.conf, see docs/configuration.md), connects to the
 *     other members over RDMA and joins the ring; later handles share it.
 *   - CPG_TYPE_SAFE is real: delivered only once every member holds the
 *     message (corosync treats it as AGREED). UNORDERED and FIFO are
 *     delivered in the total order, as AGREED, as in corosync.
 *   - Real zero copy: cpg_zcb_alloc() hands out registered memory that the NIC
 *     reads directly when the message is sent (from totem.zcb_copy_below_bytes
 *     up; a smaller one is copied, which costs less), and deliveries point
 *     into the receive log (valid until the callback returns).
 *   - Messages are never fragmented: the largest message is
 *     cpg_max_atomic_msgsize_get(); a larger one is refused with
 *     CS_ERR_TOO_BIG.
 *
 * Callbacks run only inside cpg_dispatch(), in the caller's thread.
 * Usable from C99 and C++. The guard is shared with corosync's header so that
 * the two never define the same type twice in one translation unit.
 */
#ifndef COROSYNC_CPG_H_DEFINED
#define COROSYNC_CPG_H_DEFINED

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "corotypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

/* An opaque connection to the CPG service; not a file descriptor. */
typedef uint64_t cpg_handle_t;

/* An opaque cursor of cpg_iteration_*(). */
typedef uint64_t cpg_iteration_handle_t;

/*
 * The delivery guarantee of one multicast.
 *   CPG_TYPE_UNORDERED  delivered reliably; no order is promised, but ringcast,
 *                       like corosync, delivers it in the total order, as
 *                       AGREED
 *   CPG_TYPE_FIFO       per-sender order; in ringcast, as in corosync, the
 *                       same as AGREED
 *   CPG_TYPE_AGREED     one total order at every member
 *   CPG_TYPE_SAFE       total order, and delivered only once every member of
 *                       the ring has received it (corosync: not implemented)
 */
typedef enum { CPG_TYPE_UNORDERED, CPG_TYPE_FIFO, CPG_TYPE_AGREED, CPG_TYPE_SAFE } cpg_guarantee_t;

/*
 * Whether the sender should hold back. ringcast reports ENABLED while this
 * handle's send queue is full (cpg_mcast_joined() would return
 * CS_ERR_TRY_AGAIN).
 */
typedef enum { CPG_FLOW_CONTROL_DISABLED, CPG_FLOW_CONTROL_ENABLED } cpg_flow_control_state_t;

/*
 * Why a process appears in a confchg list (the `reason` of cpg_address).
 *   UNDEFINED no reason: the value in member lists and cpg_membership_get()
 *   JOIN      it called cpg_join()
 *   LEAVE     it called cpg_leave()
 *   NODEDOWN  its node left the ring (crash, partition)
 *   NODEUP    it was in the group on a node that has just joined the ring
 *   PROCDOWN  it went away without cpg_leave() (exit, cpg_finalize())
 */
typedef enum {
  CPG_REASON_UNDEFINED = 0,
  CPG_REASON_JOIN = 1,
  CPG_REASON_LEAVE = 2,
  CPG_REASON_NODEDOWN = 3,
  CPG_REASON_NODEUP = 4,
  CPG_REASON_PROCDOWN = 5
} cpg_reason_t;

/* What cpg_iteration_next() walks over. */
typedef enum {
  CPG_ITERATION_NAME_ONLY = 1, /* each group once, nodeid and pid zero */
  CPG_ITERATION_ONE_GROUP = 2, /* the members of one named group */
  CPG_ITERATION_ALL = 3,       /* every member of every group */
} cpg_iteration_type_t;

/* The callback set chosen at cpg_model_initialize(); only V1 exists. */
typedef enum {
  CPG_MODEL_V1 = 1,
} cpg_model_t;

/* One group member: a process on a node. 12 bytes. */
struct cpg_address {
  uint32_t nodeid; /* the node id of the configuration's nodelist */
  uint32_t pid;    /* the process id on that node */
  uint32_t reason; /* a cpg_reason_t in confchg lists, 0 elsewhere */
};

/* The longest group name, in bytes. */
#define CPG_MAX_NAME_LENGTH 128

/*
 * A group name: `length` bytes of `value`, compared as bytes (no NUL needed,
 * none added). A length above CPG_MAX_NAME_LENGTH gives CS_ERR_NAME_TOO_LONG.
 * 132 bytes.
 */
struct cpg_name {
  uint32_t length;
  char value[CPG_MAX_NAME_LENGTH];
};

/* The most entries a confchg list or a membership can have. */
#define CPG_MEMBERS_MAX 128

/* One item of an iteration. 140 bytes. */
struct cpg_iteration_description_t {
  struct cpg_name group;
  uint32_t nodeid;
  uint32_t pid;
};

/*
 * A ring (totem configuration) identifier: the representative's node id and
 * a number that grows with every new ring. 16 bytes (seq is 8-aligned).
 */
struct cpg_ring_id {
  uint32_t nodeid;
  uint64_t seq;
};

/*
 * A message for a joined group. `msg` is not const, as in corosync, so that
 * the receiver may convert byte order in place. In ringcast it points into
 * the receive log: the bytes stay valid and unchanged until the callback
 * returns and must not be used after it.
 */
typedef void (*cpg_deliver_fn_t)(cpg_handle_t handle, const struct cpg_name* group_name,
                                 uint32_t nodeid, uint32_t pid, void* msg, size_t msg_len);

/*
 * A change of a joined group's membership: the members after the change,
 * those that left (with their reason) and those that joined. Every member of
 * the group sees the same lists at the same point of the message stream; the
 * joining process gets the confchg of its own join. Lists are valid until the
 * callback returns.
 */
typedef void (*cpg_confchg_fn_t)(cpg_handle_t handle, const struct cpg_name* group_name,
                                 const struct cpg_address* member_list, size_t member_list_entries,
                                 const struct cpg_address* left_list, size_t left_list_entries,
                                 const struct cpg_address* joined_list, size_t joined_list_entries);

/*
 * A change of the ring itself (nodes, not processes): the new ring id and the
 * node ids of its members. Model V1 only.
 */
typedef void (*cpg_totem_confchg_fn_t)(cpg_handle_t handle, struct cpg_ring_id ring_id,
                                       uint32_t member_list_entries, const uint32_t* member_list);

/* The callbacks of cpg_initialize(); either may be NULL. */
typedef struct {
  cpg_deliver_fn_t cpg_deliver_fn;
  cpg_confchg_fn_t cpg_confchg_fn;
} cpg_callbacks_t;

/* The common head of every model's data (compare struct sockaddr). */
typedef struct {
  cpg_model_t model;
} cpg_model_data_t;

/*
 * Flag of cpg_model_v1_data_t: also deliver a totem confchg for the ring as
 * it is when the handle is created, not only for later changes.
 */
#define CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF 0x01

/* Model V1: the two classic callbacks plus the totem confchg. 40 bytes. */
typedef struct {
  cpg_model_t model;
  cpg_deliver_fn_t cpg_deliver_fn;
  cpg_confchg_fn_t cpg_confchg_fn;
  cpg_totem_confchg_fn_t cpg_totem_confchg_fn;
  unsigned int flags; /* 0 or CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF */
} cpg_model_v1_data_t;

/* ------------------------------------------------------------------------ */
/* Functions. All return CS_OK on success. An unknown or finalized handle    */
/* gives CS_ERR_BAD_HANDLE; a NULL output pointer gives CS_ERR_INVALID_PARAM. */
/* Every function may be called from any thread.                             */
/* ------------------------------------------------------------------------ */

/*
 * Creates a handle with model V1, the given callbacks (NULL: none), no totem
 * confchg callback and a NULL context. The first handle of the process starts
 * its ringcast node; if the configuration cannot be loaded or the node cannot
 * start, the reason is logged and CS_ERR_LIBRARY is returned.
 */
cs_error_t cpg_initialize(cpg_handle_t* handle, cpg_callbacks_t* callbacks);

/*
 * Creates a handle with an explicit model. model must be CPG_MODEL_V1 and
 * model_data (NULL: no callbacks) must point to a cpg_model_v1_data_t whose
 * flags hold no bit other than CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
 * otherwise CS_ERR_INVALID_PARAM. As in corosync, the model argument alone
 * decides: model_data->model is not read (zero is fine). context is returned
 * by cpg_context_get().
 */
cs_error_t cpg_model_initialize(cpg_handle_t* handle, cpg_model_t model,
                                cpg_model_data_t* model_data, void* context);

/*
 * Closes the handle: its group is left (other members see CPG_REASON_PROCDOWN
 * unless cpg_leave() was called), its pending callbacks are dropped, its
 * iterations end and a cpg_dispatch(CS_DISPATCH_BLOCKING) on it returns. The
 * process's node keeps running until the process exits. A second call gives
 * CS_ERR_BAD_HANDLE.
 */
cs_error_t cpg_finalize(cpg_handle_t handle);

/*
 * A file descriptor (an eventfd in ringcast) that becomes readable while a
 * callback is pending, for poll()/select()/epoll loops; then call
 * cpg_dispatch(). Owned by the handle: do not read it or close it.
 */
cs_error_t cpg_fd_get(cpg_handle_t handle, int* fd);

/*
 * The largest message, in bytes, that cpg_mcast_joined() and
 * cpg_zcb_mcast_joined() accept: totem.max_message_size_bytes of the
 * configuration. ringcast never fragments.
 */
cs_error_t cpg_max_atomic_msgsize_get(cpg_handle_t handle, uint32_t* size);

/* The context pointer of the handle (NULL unless set). */
cs_error_t cpg_context_get(cpg_handle_t handle, void** context);

/* Sets the context pointer of the handle; ringcast never dereferences it. */
cs_error_t cpg_context_set(cpg_handle_t handle, void* context);

/*
 * Runs pending callbacks of this handle in the calling thread:
 *   CS_DISPATCH_ONE              waits for one callback, runs it, returns
 *   CS_DISPATCH_ALL              runs all pending ones, never waits
 *   CS_DISPATCH_BLOCKING         runs callbacks until cpg_finalize()
 *   CS_DISPATCH_ONE_NONBLOCKING  runs at most one; CS_ERR_TRY_AGAIN if none
 * Another dispatch_types value gives CS_ERR_INVALID_PARAM. Safe while other
 * threads multicast on the same handle.
 */
cs_error_t cpg_dispatch(cpg_handle_t handle, cs_dispatch_flags_t dispatch_types);

/*
 * Joins a group. One group per handle: a handle that has already joined, or a
 * process that has joined the same group on another handle, gets
 * CS_ERR_EXIST (as corosync's service returns; its man page says
 * CS_ERR_INVALID_PARAM). The join is an event of the total order: the
 * confchg that contains this process arrives through cpg_dispatch(), and
 * messages sent to the group after that point are delivered to it.
 * CS_ERR_NAME_TOO_LONG if group->length > CPG_MAX_NAME_LENGTH;
 * CS_ERR_TRY_AGAIN while the ring is being formed.
 */
cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name* group);

/*
 * Leaves the group joined on this handle: CS_ERR_NOT_EXIST if the handle has
 * not joined one (or group names another group; corosync ignores the name).
 * The other members see CPG_REASON_LEAVE; this process gets the confchg of
 * its own leave, then nothing more for the group.
 */
cs_error_t cpg_leave(cpg_handle_t handle, const struct cpg_name* group);

/*
 * Multicasts the concatenation of iov_len buffers to the group joined on this
 * handle, with the given guarantee. The bytes are copied once into registered
 * memory before the call returns, so the buffers may be reused at once (for
 * sends without that copy, see cpg_zcb_mcast_joined()). CS_ERR_NOT_EXIST if
 * the handle has not joined a group; CS_ERR_TOO_BIG above
 * cpg_max_atomic_msgsize_get(); CS_ERR_TRY_AGAIN while flow control is
 * enabled; CS_ERR_INVALID_PARAM for an unknown guarantee.
 */
cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
                            const struct iovec* iovec, unsigned int iov_len);

/*
 * The current members of groupName (which need not be joined by this
 * process), in join order; an unknown group has zero members. member_list
 * must hold CPG_MEMBERS_MAX entries: as in corosync, the value of
 * *member_list_entries on entry is ignored (it may be uninitialised) and on
 * return it holds the number written. Each reason is CPG_REASON_UNDEFINED.
 * NULL member_list or member_list_entries: CS_ERR_INVALID_PARAM.
 */
cs_error_t cpg_membership_get(cpg_handle_t handle, struct cpg_name* groupName,
                              struct cpg_address* member_list, int* member_list_entries);

/* This process's node id (the nodeid of the local node of the nodelist). */
cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int* local_nodeid);

/* Whether sends on this handle are currently held back (see the enum). */
cs_error_t cpg_flow_control_state_get(cpg_handle_t handle,
                                      cpg_flow_control_state_t* flow_control_enabled);

/*
 * Allocates a zero-copy buffer of size bytes (at most
 * cpg_max_atomic_msgsize_get()): memory inside a region registered with the
 * NIC, on the NIC's NUMA node, taken from a pool of pre-registered slabs
 * (nothing is registered on this call's path). Fill it and send it with
 * cpg_zcb_mcast_joined(). CS_ERR_TOO_BIG above the maximum; CS_ERR_NO_MEMORY
 * when the pool is exhausted.
 */
cs_error_t cpg_zcb_alloc(cpg_handle_t handle, size_t size, void** buffer);

/*
 * Returns a buffer of cpg_zcb_alloc() to the pool. A pointer that is not a
 * live zero-copy buffer of this process (never allocated, already freed, or
 * an address inside a buffer) gives CS_ERR_INVALID_PARAM and changes nothing.
 */
cs_error_t cpg_zcb_free(cpg_handle_t handle, void* buffer);

/*
 * Multicasts msg_len bytes of a buffer of cpg_zcb_alloc() without copying:
 * the RDMA writes that carry the message read the buffer itself. Returns once
 * the NIC has read it: the buffer is then the caller's again. A message below
 * totem.zcb_copy_below_bytes (16 KiB by default), where a copy is cheaper, is
 * copied as by cpg_mcast_joined() instead and the call returns at once
 * (docs/api.md, "Zero-copy sends and deliveries"). Errors as cpg_mcast_joined(), plus
 * CS_ERR_INVALID_PARAM if msg is not a live buffer of this handle or msg_len
 * exceeds its size.
 */
cs_error_t cpg_zcb_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee, void* msg,
                                size_t msg_len);

/*
 * Starts an iteration over the groups known to the ring (a snapshot taken
 * now). group must be non-NULL for CPG_ITERATION_ONE_GROUP and NULL for the
 * other types; otherwise, or for a NULL cpg_iteration_handle,
 * CS_ERR_INVALID_PARAM.
 */
cs_error_t cpg_iteration_initialize(cpg_handle_t handle, cpg_iteration_type_t iteration_type,
                                    const struct cpg_name* group,
                                    cpg_iteration_handle_t* cpg_iteration_handle);

/* The next item of the iteration; CS_ERR_NO_SECTIONS after the last one. */
cs_error_t cpg_iteration_next(cpg_iteration_handle_t handle,
                              struct cpg_iteration_description_t* description);

/* Ends an iteration and frees it; the iteration handle is invalid afterwards. */
cs_error_t cpg_iteration_finalize(cpg_iteration_handle_t handle);

#ifdef __cplusplus
}
#endif

#endif /* COROSYNC_CPG_H_DEFINED */
