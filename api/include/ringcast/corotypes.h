/*
 * The common types of corosync's client libraries, as ringcast provides them.
 *
 * Source-compatible with corosync 3.x's <corosync/corotypes.h>: the same names,
 * the same numeric values (cs_error_t values are part of every program that
 * prints or stores them) and the same struct layouts. Programs normally reach
 * this file through <corosync/cpg.h> in ringcast's compat directory.
 *
 * Left out on purpose: qb_to_cs_error() and hdb_error_to_cs(), which corosync
 * declares here but which convert errors of corosync's own internals (libqb
 * IPC, handle database) that ringcast does not have.
 *
 * Usable from C99 and C++. The guard is shared with corosync's header, so a
 * program that also includes the real corotypes.h (for another corosync
 * library) sees each definition once; both define the same things.
 */
#ifndef COROTYPES_H_DEFINED
#define COROTYPES_H_DEFINED

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A time in nanoseconds (corosync's time unit in its APIs). */
typedef int64_t cs_time_t;

/* Boolean values in corosync's spelling. */
#define CS_FALSE 0
#define CS_TRUE 1

/* The longest name a cs_name_t holds. */
#define CS_MAX_NAME_LENGTH 256

/* "No end": the largest cs_time_t. */
#define CS_TIME_END INT64_MAX

#define CS_MAX(x, y) (((x) > (y)) ? (x) : (y))

/*
 * printf conversions for node ids and ring ids, as corosync spells them:
 *   printf("node " CS_PRI_NODE_ID "\n", nodeid);            decimal
 *   printf(CS_PRI_NODE_ID_PADDED, nodeid);                  decimal, width 10
 *   printf("ring " CS_PRI_RING_ID "\n", id.nodeid, id.seq); hex node "." hex seq
 *   printf(CS_PRI_RING_ID_SEQ, id.seq);                     hex seq alone
 * The node id is a uint32_t and the sequence a uint64_t (struct cpg_ring_id).
 */
#define CS_PRI_NODE_ID "%" PRIu32
#define CS_PRI_NODE_ID_PADDED "%10" PRIu32
#define CS_PRI_RING_ID_SEQ "%" PRIx64
#define CS_PRI_RING_ID "%" PRIx32 ".%" PRIx64

/* A counted name, not NUL-terminated. sizeof is 258 (2-byte alignment). */
typedef struct {
  uint16_t length;
  uint8_t value[CS_MAX_NAME_LENGTH];
} cs_name_t;

/* A version triple; ringcast reports its own through ringcast_version(). */
typedef struct {
  char releaseCode;
  unsigned char majorVersion;
  unsigned char minorVersion;
} cs_version_t;

/*
 * How much cpg_dispatch() does in one call. Values as in corosync.
 *   CS_DISPATCH_ONE              wait until one callback is pending, run it, return
 *   CS_DISPATCH_ALL              run every pending callback, never wait
 *   CS_DISPATCH_BLOCKING         run callbacks until the handle is finalized
 *   CS_DISPATCH_ONE_NONBLOCKING  run at most one; CS_ERR_TRY_AGAIN if none pending
 */
typedef enum {
  CS_DISPATCH_ONE = 1,
  CS_DISPATCH_ALL = 2,
  CS_DISPATCH_BLOCKING = 3,
  CS_DISPATCH_ONE_NONBLOCKING = 4
} cs_dispatch_flags_t;

/* Tracking flags of corosync's quorum-style APIs; kept for source compatibility. */
#define CS_TRACK_CURRENT 0x01
#define CS_TRACK_CHANGES 0x02
#define CS_TRACK_CHANGES_ONLY 0x04

/*
 * Result codes. Every value equals corosync's: CS_OK is 1, not 0, and 29 is
 * unused. ringcast returns the subset documented in cpg.h for each function;
 * cs_strerror() names any of them.
 */
typedef enum {
  CS_OK = 1,
  CS_ERR_LIBRARY = 2,
  CS_ERR_VERSION = 3,
  CS_ERR_INIT = 4,
  CS_ERR_TIMEOUT = 5,
  CS_ERR_TRY_AGAIN = 6,
  CS_ERR_INVALID_PARAM = 7,
  CS_ERR_NO_MEMORY = 8,
  CS_ERR_BAD_HANDLE = 9,
  CS_ERR_BUSY = 10,
  CS_ERR_ACCESS = 11,
  CS_ERR_NOT_EXIST = 12,
  CS_ERR_NAME_TOO_LONG = 13,
  CS_ERR_EXIST = 14,
  CS_ERR_NO_SPACE = 15,
  CS_ERR_INTERRUPT = 16,
  CS_ERR_NAME_NOT_FOUND = 17,
  CS_ERR_NO_RESOURCES = 18,
  CS_ERR_NOT_SUPPORTED = 19,
  CS_ERR_BAD_OPERATION = 20,
  CS_ERR_FAILED_OPERATION = 21,
  CS_ERR_MESSAGE_ERROR = 22,
  CS_ERR_QUEUE_FULL = 23,
  CS_ERR_QUEUE_NOT_AVAILABLE = 24,
  CS_ERR_BAD_FLAGS = 25,
  CS_ERR_TOO_BIG = 26,
  CS_ERR_NO_SECTIONS = 27,
  CS_ERR_CONTEXT_NOT_FOUND = 28,
  CS_ERR_TOO_MANY_GROUPS = 30,
  CS_ERR_SECURITY = 100
} cs_error_t;

/*
 * corosync's IPC timeout (-1: wait forever). ringcast has no IPC to a daemon;
 * the constant stays for programs that mention it.
 */
#define CS_IPC_TIMEOUT_MS -1

#define CS_TIME_MS_IN_SEC 1000ULL
#define CS_TIME_US_IN_SEC 1000000ULL
#define CS_TIME_NS_IN_SEC 1000000000ULL
#define CS_TIME_US_IN_MSEC 1000ULL
#define CS_TIME_NS_IN_MSEC 1000000ULL
#define CS_TIME_NS_IN_USEC 1000ULL

/* A cast that is old-style in C and static_cast in C++ (-Wold-style-cast). */
#ifdef __cplusplus
#define RINGCAST_CS_CAST_(type, value) static_cast<type>(value)
#else
#define RINGCAST_CS_CAST_(type, value) ((type)(value))
#endif

/*
 * A monotonic timestamp in nanoseconds (CLOCK_MONOTONIC where the headers
 * offer it, the wall clock otherwise), as corosync's inline helper gives.
 * Clean under -Wconversion, -Wsign-conversion and -Wold-style-cast.
 */
static inline uint64_t cs_timestamp_get(void) {
#if defined(CLOCK_MONOTONIC)
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return RINGCAST_CS_CAST_(uint64_t, ts.tv_sec) * CS_TIME_NS_IN_SEC +
         RINGCAST_CS_CAST_(uint64_t, ts.tv_nsec);
#else
  struct timeval tv;
  gettimeofday(&tv, 0);
  return RINGCAST_CS_CAST_(uint64_t, tv.tv_sec) * CS_TIME_NS_IN_SEC +
         RINGCAST_CS_CAST_(uint64_t, tv.tv_usec) * CS_TIME_NS_IN_USEC;
#endif
}

/*
 * A short English description of err, e.g. "Try again" for CS_ERR_TRY_AGAIN.
 * Never NULL: a value that is not a cs_error_t gives "Unknown error". The
 * string is static; the call is thread-safe and needs no handle.
 */
const char* cs_strerror(cs_error_t err);

#ifdef __cplusplus
}
#endif

#endif /* COROTYPES_H_DEFINED */
