/*
 * A quorum program in the style of corosync's, built only with
 * <corosync/quorum.h> from ringcast's compat directory (-I api/compat) to
 * show that programs written for corosync's quorum API compile unchanged.
 *
 * quorum_compat_bad_handles() needs no cluster: every call on a handle that
 * does not exist is CS_ERR_BAD_HANDLE, and bad arguments are refused before
 * any node starts. Built with -DQUORUM_COMPAT_MAIN it is a program of its own
 * (strict C99 and C11, label unit). quorum_compat_session() needs a node: the
 * quorum simulation test (quorum_sim_test.cpp) calls it on a simulated one.
 */
#include <corosync/quorum.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "quorum_compat.h"

static int failures = 0;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    failures++;
  }
}

/* ---- what the callbacks saw ---- */
static int v0_calls = 0;
static uint32_t v0_quorate = 2;
static uint32_t v0_entries = 0;
static int v1_quorum_calls = 0;
static int v1_nodelist_calls = 0;
static uint32_t v1_members = 0;
static int v1_order_ok = 1; /* the node list comes before the quorum state */

static void v0_notify(quorum_handle_t handle, uint32_t quorate, uint64_t ring_seq,
                      uint32_t view_list_entries, uint32_t* view_list) {
  (void)handle;
  (void)ring_seq;
  (void)view_list;
  v0_calls++;
  v0_quorate = quorate;
  v0_entries = view_list_entries;
}

static void v1_quorum(quorum_handle_t handle, uint32_t quorate, struct quorum_ring_id ring_id,
                      uint32_t member_list_entries, const uint32_t* member_list) {
  (void)handle;
  (void)quorate;
  (void)ring_id;
  (void)member_list;
  if (v1_nodelist_calls != v1_quorum_calls + 1) v1_order_ok = 0;
  v1_quorum_calls++;
  v1_members = member_list_entries;
}

static void v1_nodelist(quorum_handle_t handle, struct quorum_ring_id ring_id,
                        uint32_t member_list_entries, const uint32_t* member_list,
                        uint32_t joined_list_entries, const uint32_t* joined_list,
                        uint32_t left_list_entries, const uint32_t* left_list) {
  (void)handle;
  (void)ring_id;
  (void)member_list_entries;
  (void)member_list;
  (void)joined_list;
  (void)left_list;
  /* trackstart's notification lists no changes */
  if (joined_list_entries != 0 || left_list_entries != 0) v1_order_ok = 0;
  v1_nodelist_calls++;
}

int quorum_compat_bad_handles(void) {
  const quorum_handle_t bogus = 0x1234;
  int fd = -1;
  int quorate = -1;
  const void* context = NULL;
  quorum_model_v1_data_t v1 = {QUORUM_MODEL_V1, v1_quorum, v1_nodelist};
  quorum_handle_t handle = 0;
  failures = 0;
  check(quorum_finalize(bogus) == CS_ERR_BAD_HANDLE, "quorum_finalize(bogus)");
  check(quorum_fd_get(bogus, &fd) == CS_ERR_BAD_HANDLE, "quorum_fd_get(bogus)");
  check(quorum_dispatch(bogus, CS_DISPATCH_ALL) == CS_ERR_BAD_HANDLE, "quorum_dispatch(bogus)");
  check(quorum_getquorate(bogus, &quorate) == CS_ERR_BAD_HANDLE, "quorum_getquorate(bogus)");
  check(quorum_trackstart(bogus, CS_TRACK_CHANGES) == CS_ERR_BAD_HANDLE,
        "quorum_trackstart(bogus)");
  check(quorum_trackstop(bogus) == CS_ERR_BAD_HANDLE, "quorum_trackstop(bogus)");
  check(quorum_context_set(bogus, &fd) == CS_ERR_BAD_HANDLE, "quorum_context_set(bogus)");
  check(quorum_context_get(bogus, &context) == CS_ERR_BAD_HANDLE, "quorum_context_get(bogus)");
  /* Refused before anything starts a node. */
  check(quorum_dispatch(bogus, (cs_dispatch_flags_t)9) == CS_ERR_INVALID_PARAM,
        "quorum_dispatch with an unknown flag");
  check(quorum_model_initialize(&handle, (quorum_model_t)7, (quorum_model_data_t*)&v1, NULL,
                                NULL) == CS_ERR_INVALID_PARAM,
        "quorum_model_initialize with an unknown model");
  check(quorum_initialize(NULL, NULL, NULL) == CS_ERR_INVALID_PARAM, "quorum_initialize(NULL)");
  check(fd == -1 && quorate == -1 && context == NULL, "outputs untouched on errors");
  return failures;
}

/* Dispatches until pred holds (bounded by polls of the handle's descriptor). */
static int dispatch_until(quorum_handle_t handle, const int* counter, int at_least) {
  int fd = -1;
  int round;
  if (quorum_fd_get(handle, &fd) != CS_OK) return 0;
  for (round = 0; round < 200 && *counter < at_least; round++) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, 50) > 0) quorum_dispatch(handle, CS_DISPATCH_ALL);
  }
  return *counter >= at_least;
}

static void session_v0(int expect_quorate) {
  quorum_handle_t handle = 0;
  quorum_callbacks_t callbacks = {v0_notify};
  uint32_t quorum_type = 99;
  int quorate = -1;
  const void* context = NULL;
  int marker = 7;
  check(quorum_initialize(&handle, &callbacks, &quorum_type) == CS_OK, "quorum_initialize");
  check(quorum_type == QUORUM_SET, "quorum_type is QUORUM_SET");
  check(quorum_getquorate(handle, &quorate) == CS_OK, "quorum_getquorate");
  check(quorate == expect_quorate, "quorum_getquorate's answer");
  check(quorum_context_set(handle, &marker) == CS_OK, "quorum_context_set");
  check(quorum_context_get(handle, &context) == CS_OK && context == &marker,
        "quorum_context_get returns what was set");
  check(quorum_dispatch(handle, CS_DISPATCH_ONE_NONBLOCKING) == CS_ERR_TRY_AGAIN,
        "nothing pending before trackstart");
  check(quorum_trackstart(handle, CS_TRACK_CURRENT | CS_TRACK_CHANGES) == CS_OK,
        "quorum_trackstart");
  check(dispatch_until(handle, &v0_calls, 1), "trackstart's notification arrives");
  check(v0_quorate == (uint32_t)expect_quorate && v0_entries >= 1,
        "the notification's quorate flag and node list");
  check(quorum_trackstart(handle, CS_TRACK_CHANGES) == CS_ERR_EXIST, "a second trackstart");
  check(quorum_trackstop(handle) == CS_OK, "quorum_trackstop");
  check(quorum_trackstop(handle) == CS_OK, "quorum_trackstop when not tracking");
  check(quorum_finalize(handle) == CS_OK, "quorum_finalize");
  check(quorum_finalize(handle) == CS_ERR_BAD_HANDLE, "quorum_finalize twice");
  check(quorum_getquorate(handle, &quorate) == CS_ERR_BAD_HANDLE, "a finalized handle");
}

static void session_v1(void) {
  quorum_handle_t handle = 0;
  quorum_model_v1_data_t v1 = {QUORUM_MODEL_V1, v1_quorum, v1_nodelist};
  int marker = 3;
  const void* context = NULL;
  check(quorum_model_initialize(&handle, QUORUM_MODEL_V1, (quorum_model_data_t*)&v1, NULL,
                                &marker) == CS_OK,
        "quorum_model_initialize V1");
  check(quorum_context_get(handle, &context) == CS_OK && context == &marker,
        "quorum_model_initialize's context");
  check(quorum_trackstart(handle, CS_TRACK_CURRENT) == CS_OK, "quorum_trackstart current");
  check(dispatch_until(handle, &v1_quorum_calls, 1), "V1 notifications arrive");
  check(v1_nodelist_calls == 1 && v1_order_ok && v1_members >= 1,
        "V1: the node list, then the quorum state");
  /* CS_TRACK_CURRENT alone does not track: a second trackstart is allowed. */
  check(quorum_trackstart(handle, CS_TRACK_CHANGES_ONLY) == CS_OK, "trackstart changes only");
  check(quorum_dispatch(handle, CS_DISPATCH_ONE_NONBLOCKING) == CS_ERR_TRY_AGAIN,
        "changes only: no notification now");
  check(quorum_finalize(handle) == CS_OK, "quorum_finalize V1");
}

int quorum_compat_session(int expect_quorate) {
  failures = 0;
  v0_calls = v1_quorum_calls = v1_nodelist_calls = 0;
  v0_quorate = 2;
  v0_entries = v1_members = 0;
  v1_order_ok = 1;
  session_v0(expect_quorate);
  session_v1();
  return failures;
}

#ifdef QUORUM_COMPAT_MAIN
int main(void) {
  int failed = quorum_compat_bad_handles();
  printf("quorum_compat: %d failures\n", failed);
  return failed == 0 ? 0 : 1;
}
#endif
