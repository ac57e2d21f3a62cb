/*
 * A CPG program in the style of corosync's test programs, built only with
 * <corosync/cpg.h> from ringcast's compat directory (-I api/compat, nothing
 * else) to prove that corosync programs compile against ringcast unchanged.
 * Built twice: as strict C99 and as C11 (which adds the layout assertions).
 *
 * Every type of the header is used, callbacks and model data are written with
 * positional initialisers as corosync programs write them, and every function
 * is called with the argument types corosync programs pass.
 *
 * The calls in run_session() need a running ring, hence an RDMA device, which
 * the unit tests (and pkgconfig_install_test.sh) cannot assume: there they are
 * type-checked only (CPG_CALL below) and never executed, and the run checks
 * the values and layouts programs depend on, and cs_strerror(). Built with
 * -DCPG_COMPAT_LINK_ALL (tests/rdma: cpg_compat_rdma_test) they are real
 * calls: the session joins a group, multicasts (iovec and zero-copy), and
 * checks what it gets.
 */
#include <corosync/cpg.h>

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef CPG_COMPAT_LINK_ALL
#define CPG_CALL(call) (call)
#else
/* Type-checks the call (sizeof does not evaluate it) and yields CS_OK. */
#define CPG_CALL(call) (sizeof(call) > 0 ? CS_OK : CS_ERR_LIBRARY)
#endif

static int failures = 0;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    failures++;
  }
}

/* ---- what the callbacks saw ---- */
static int deliveries = 0;
static int delivery_seen = 0; /* set by each delivery, cleared before each send */
static char last_message[64];
static size_t last_message_len = 0;
static int confchgs = 0;
static int self_joined = 0;
static int self_left = 0;
static int totem_confchgs = 0;
static unsigned int local_nodeid = 0;

static void deliver_cb(cpg_handle_t handle, const struct cpg_name* group_name, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t msg_len) {
  (void)handle;
  printf("DELIVER %.*s from node %u pid %u: %zu bytes\n", (int)group_name->length,
         group_name->value, nodeid, pid, msg_len);
  last_message_len = msg_len < sizeof(last_message) ? msg_len : sizeof(last_message);
  memcpy(last_message, msg, last_message_len);
  deliveries++;
  delivery_seen = 1;
}

static const char* reason_name(uint32_t reason) {
  switch (reason) {
    case CPG_REASON_JOIN:
      return "joined";
    case CPG_REASON_LEAVE:
      return "left";
    case CPG_REASON_NODEDOWN:
      return "node down";
    case CPG_REASON_NODEUP:
      return "node up";
    case CPG_REASON_PROCDOWN:
      return "process down";
    default:
      return "?";
  }
}

static void confchg_cb(cpg_handle_t handle, const struct cpg_name* group_name,
                       const struct cpg_address* member_list, size_t member_list_entries,
                       const struct cpg_address* left_list, size_t left_list_entries,
                       const struct cpg_address* joined_list, size_t joined_list_entries) {
  size_t i;
  (void)handle;
  (void)member_list;
  printf("CONFCHG %.*s: %zu members\n", (int)group_name->length, group_name->value,
         member_list_entries);
  for (i = 0; i < joined_list_entries; i++) {
    printf("  node %u pid %u %s\n", joined_list[i].nodeid, joined_list[i].pid,
           reason_name(joined_list[i].reason));
    if (joined_list[i].nodeid == local_nodeid && joined_list[i].pid == (uint32_t)getpid()) {
      self_joined = 1;
    }
  }
  for (i = 0; i < left_list_entries; i++) {
    printf("  node %u pid %u %s\n", left_list[i].nodeid, left_list[i].pid,
           reason_name(left_list[i].reason));
    if (left_list[i].nodeid == local_nodeid && left_list[i].pid == (uint32_t)getpid()) {
      self_left = 1;
    }
  }
  confchgs++;
}

static void totem_confchg_cb(cpg_handle_t handle, struct cpg_ring_id ring_id,
                             uint32_t member_list_entries, const uint32_t* member_list) {
  uint32_t i;
  (void)handle;
  printf("TOTEM CONFCHG ring %u.%llu:", ring_id.nodeid, (unsigned long long)ring_id.seq);
  for (i = 0; i < member_list_entries; i++) {
    printf(" %u", member_list[i]);
  }
  printf("\n");
  totem_confchgs++;
}

/* ---- the types and values programs depend on ---- */

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
/* Values and x86-64 layouts read from corosync's corotypes.h and cpg.h. */
_Static_assert(CS_OK == 1 && CS_ERR_LIBRARY == 2 && CS_ERR_TRY_AGAIN == 6, "cs_error_t");
_Static_assert(CS_ERR_INVALID_PARAM == 7 && CS_ERR_BAD_HANDLE == 9, "cs_error_t");
_Static_assert(CS_ERR_NOT_EXIST == 12 && CS_ERR_NAME_TOO_LONG == 13, "cs_error_t");
_Static_assert(CS_ERR_EXIST == 14 && CS_ERR_TOO_BIG == 26 && CS_ERR_NO_SECTIONS == 27,
               "cs_error_t");
_Static_assert(CS_ERR_TOO_MANY_GROUPS == 30 && CS_ERR_SECURITY == 100, "cs_error_t");
_Static_assert(CS_DISPATCH_ONE == 1 && CS_DISPATCH_ONE_NONBLOCKING == 4, "cs_dispatch_flags_t");
_Static_assert(sizeof(struct cpg_address) == 12, "cpg_address");
_Static_assert(sizeof(struct cpg_name) == 132, "cpg_name");
_Static_assert(offsetof(struct cpg_iteration_description_t, nodeid) == 132, "iteration");
_Static_assert(sizeof(struct cpg_ring_id) == 16 && offsetof(struct cpg_ring_id, seq) == 8,
               "cpg_ring_id");
_Static_assert(sizeof(cpg_callbacks_t) == 16, "cpg_callbacks_t");
_Static_assert(sizeof(cpg_model_v1_data_t) == 40, "cpg_model_v1_data_t");
_Static_assert(offsetof(cpg_model_v1_data_t, cpg_deliver_fn) == 8, "cpg_model_v1_data_t");
_Static_assert(offsetof(cpg_model_v1_data_t, flags) == 32, "cpg_model_v1_data_t");
_Static_assert(sizeof(cs_name_t) == 258, "cs_name_t");
#endif

static void check_types_and_values(void) {
  /* Positional initialisers, field order as corosync declares it. */
  cpg_callbacks_t callbacks = {deliver_cb, confchg_cb};
  cpg_model_v1_data_t model_data = {CPG_MODEL_V1, deliver_cb, confchg_cb, totem_confchg_cb,
                                    CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF};
  cpg_model_data_t model_head = {CPG_MODEL_V1};
  struct cpg_name group = {4, "chat"};
  struct cpg_address address = {7, 1234, CPG_REASON_NODEUP};
  struct cpg_ring_id ring = {3, 42};
  struct cpg_iteration_description_t description = {{5, "group"}, 9, 99};
  cs_name_t cs_name = {3, "abc"};
  cs_version_t version = {'B', 1, 1};
  cpg_guarantee_t guarantees[] = {CPG_TYPE_UNORDERED, CPG_TYPE_FIFO, CPG_TYPE_AGREED,
                                  CPG_TYPE_SAFE};
  cpg_flow_control_state_t flow = CPG_FLOW_CONTROL_ENABLED;
  cpg_iteration_type_t iterations[] = {CPG_ITERATION_NAME_ONLY, CPG_ITERATION_ONE_GROUP,
                                       CPG_ITERATION_ALL};
  cs_dispatch_flags_t dispatch = CS_DISPATCH_BLOCKING;
  cpg_handle_t handle = 0;
  cpg_iteration_handle_t iteration = 0;
  cs_time_t end = CS_TIME_END;

  check(callbacks.cpg_deliver_fn == deliver_cb && callbacks.cpg_confchg_fn == confchg_cb,
        "cpg_callbacks_t field order");
  check(model_data.model == CPG_MODEL_V1 && model_data.cpg_deliver_fn == deliver_cb &&
            model_data.cpg_confchg_fn == confchg_cb &&
            model_data.cpg_totem_confchg_fn == totem_confchg_cb && model_data.flags == 1,
        "cpg_model_v1_data_t field order");
  check(offsetof(cpg_model_v1_data_t, model) == offsetof(cpg_model_data_t, model) &&
            model_head.model == 1,
        "cpg_model_data_t is the head of cpg_model_v1_data_t");
  check(group.length == 4 && memcmp(group.value, "chat", 4) == 0, "cpg_name");
  check(address.nodeid == 7 && address.pid == 1234 && address.reason == 4, "cpg_address");
  check(ring.nodeid == 3 && ring.seq == 42, "cpg_ring_id");
  check(description.group.length == 5 && description.nodeid == 9 && description.pid == 99,
        "cpg_iteration_description_t");
  check(cs_name.length == 3 && cs_name.value[2] == 'c' && version.majorVersion == 1, "cs types");
  check(guarantees[0] == 0 && guarantees[1] == 1 && guarantees[2] == 2 && guarantees[3] == 3,
        "cpg_guarantee_t values");
  check(flow == 1 && CPG_FLOW_CONTROL_DISABLED == 0, "cpg_flow_control_state_t values");
  check(iterations[0] == 1 && iterations[1] == 2 && iterations[2] == 3,
        "cpg_iteration_type_t values");
  check(CPG_REASON_JOIN == 1 && CPG_REASON_PROCDOWN == 5, "cpg_reason_t values");
  check(dispatch == 3 && CS_DISPATCH_ALL == 2, "cs_dispatch_flags_t values");
  check(CPG_MAX_NAME_LENGTH == 128 && CPG_MEMBERS_MAX == 128, "limits");
  check(CS_TRUE == 1 && CS_FALSE == 0 && CS_MAX(2, 5) == 5, "CS_TRUE, CS_FALSE, CS_MAX");
  check(end == 0x7FFFFFFFFFFFFFFFLL && CS_TIME_NS_IN_SEC == 1000000000ULL, "time constants");
  check(handle == 0 && iteration == 0 && sizeof(handle) == 8 && sizeof(iteration) == 8,
        "handle types are 64 bits");
  check(cs_timestamp_get() > 0, "cs_timestamp_get");
}

/* The printf conversions corosync programs use for node and ring ids; the
 * format warnings (-Werror) check that they fit uint32_t and uint64_t. */
static void check_print_formats(void) {
  struct cpg_ring_id ring = {0x1c, 0x2fULL};
  uint32_t nodeid = 42;
  char text[64];
  snprintf(text, sizeof text, "node " CS_PRI_NODE_ID, nodeid);
  check(strcmp(text, "node 42") == 0, "CS_PRI_NODE_ID");
  snprintf(text, sizeof text, CS_PRI_NODE_ID_PADDED, nodeid);
  check(strcmp(text, "        42") == 0, "CS_PRI_NODE_ID_PADDED");
  snprintf(text, sizeof text, "ring " CS_PRI_RING_ID, ring.nodeid, ring.seq);
  check(strcmp(text, "ring 1c.2f") == 0, "CS_PRI_RING_ID");
  snprintf(text, sizeof text, CS_PRI_RING_ID_SEQ, ring.seq);
  check(strcmp(text, "2f") == 0, "CS_PRI_RING_ID_SEQ");
  check(CPG_REASON_UNDEFINED == 0, "CPG_REASON_UNDEFINED");
}

static void check_strerror(void) {
  check(strcmp(cs_strerror(CS_OK), "Success") == 0, "cs_strerror(CS_OK)");
  check(strcmp(cs_strerror(CS_ERR_TRY_AGAIN), "Try again") == 0, "cs_strerror(TRY_AGAIN)");
  check(strcmp(cs_strerror((cs_error_t)29), "Unknown error") == 0, "cs_strerror(29)");
  check(strcmp(cs_strerror(CS_ERR_SECURITY), cs_strerror(CS_ERR_ACCESS)) != 0,
        "cs_strerror distinguishes codes");
}

/* ---- a session, as corosync's testcpg runs one ---- */

/* Runs callbacks whenever the fd says something is pending, until *flag. */
static cs_error_t dispatch_until(cpg_handle_t handle, int fd, const int* flag) {
  int rounds;
  for (rounds = 0; rounds < 1000 && !*flag; rounds++) {
    struct pollfd pfd = {fd, POLLIN, 0};
    cs_error_t result;
    if (poll(&pfd, 1, 10) < 0) return CS_ERR_LIBRARY;
    result = CPG_CALL(cpg_dispatch(handle, CS_DISPATCH_ALL));
    if (result != CS_OK) return result;
  }
  return *flag ? CS_OK : CS_ERR_TIMEOUT;
}

/* As corosync's testcpgzc and cpgbenchzc: buffers still allocated when the
 * handles are finalized and the process exits. The library must take them
 * back without a word: cpg_compat_run.sh fails on a leaked resource logged. */
static void keep_zcb_buffers(cpg_handle_t handle, int fd, cpg_handle_t second) {
  void* kept = NULL;
  void* other = NULL;
  check(CPG_CALL(cpg_zcb_alloc(handle, 100000, &kept)) == CS_OK, "cpg_zcb_alloc, never freed");
  if (kept != NULL) {
    memset(kept, 'k', 100000);
    delivery_seen = 0;
    check(CPG_CALL(cpg_zcb_mcast_joined(handle, CPG_TYPE_AGREED, kept, 100000)) == CS_OK,
          "cpg_zcb_mcast_joined of a buffer never freed");
    check(dispatch_until(handle, fd, &delivery_seen) == CS_OK, "its delivery");
    check(last_message_len == sizeof(last_message) && last_message[0] == 'k',
          "it comes back intact");
  }
  check(CPG_CALL(cpg_zcb_alloc(second, 64, &other)) == CS_OK, "cpg_zcb_alloc on the second handle");
}

static void run_session(void) {
  cpg_model_v1_data_t model_data = {CPG_MODEL_V1, deliver_cb, confchg_cb, totem_confchg_cb,
                                    CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF};
  cpg_callbacks_t callbacks = {deliver_cb, confchg_cb};
  struct cpg_name group = {13, "compat-test-1"};
  cpg_handle_t handle = 0;
  cpg_handle_t second = 0;
  void* context = NULL;
  int fd = -1;
  uint32_t max_size = 0;
  struct iovec iov[2] = {{(void*)"hello, ", 7}, {(void*)"ring", 4}};
  void* zcb = NULL;
  struct cpg_address members[CPG_MEMBERS_MAX];
  int member_count = CPG_MEMBERS_MAX;
  cpg_flow_control_state_t flow;
  cpg_iteration_handle_t iteration;
  struct cpg_iteration_description_t description;
  int found_self = 0;
  int i;

  check(CPG_CALL(cpg_model_initialize(&handle, CPG_MODEL_V1, (cpg_model_data_t*)&model_data,
                                      &failures)) == CS_OK,
        "cpg_model_initialize");
  check(CPG_CALL(cpg_initialize(&second, &callbacks)) == CS_OK, "cpg_initialize");
  check(CPG_CALL(cpg_context_get(handle, &context)) == CS_OK && context == &failures,
        "cpg_context_get");
  check(CPG_CALL(cpg_context_set(handle, &deliveries)) == CS_OK, "cpg_context_set");
  check(CPG_CALL(cpg_fd_get(handle, &fd)) == CS_OK, "cpg_fd_get");
  check(CPG_CALL(cpg_local_get(handle, &local_nodeid)) == CS_OK, "cpg_local_get");
  check(CPG_CALL(cpg_max_atomic_msgsize_get(handle, &max_size)) == CS_OK && max_size >= 11,
        "cpg_max_atomic_msgsize_get");

  check(CPG_CALL(cpg_join(handle, &group)) == CS_OK, "cpg_join");
  check(CPG_CALL(cpg_join(second, &group)) == CS_ERR_EXIST, "second join of the same group");
  check(dispatch_until(handle, fd, &self_joined) == CS_OK, "confchg of our own join");
  check(totem_confchgs > 0, "initial totem confchg");

  delivery_seen = 0;
  check(CPG_CALL(cpg_mcast_joined(handle, CPG_TYPE_AGREED, iov, 2)) == CS_OK, "cpg_mcast_joined");
  check(dispatch_until(handle, fd, &delivery_seen) == CS_OK, "delivery of our multicast");
  check(last_message_len == 11 && memcmp(last_message, "hello, ring", 11) == 0,
        "our multicast comes back intact");

  check(CPG_CALL(cpg_zcb_alloc(handle, 64, &zcb)) == CS_OK, "cpg_zcb_alloc");
  if (zcb != NULL) {
    memcpy(zcb, "zero copy", 9);
    delivery_seen = 0;
    check(CPG_CALL(cpg_zcb_mcast_joined(handle, CPG_TYPE_SAFE, zcb, 9)) == CS_OK,
          "cpg_zcb_mcast_joined");
    check(dispatch_until(handle, fd, &delivery_seen) == CS_OK, "delivery of our zcb multicast");
    check(last_message_len == 9 && memcmp(last_message, "zero copy", 9) == 0,
          "our zero-copy multicast comes back intact");
    check(CPG_CALL(cpg_zcb_free(handle, zcb)) == CS_OK, "cpg_zcb_free");
    check(CPG_CALL(cpg_zcb_free(handle, zcb)) == CS_ERR_INVALID_PARAM, "double cpg_zcb_free");
  }

  check(CPG_CALL(cpg_membership_get(handle, &group, members, &member_count)) == CS_OK,
        "cpg_membership_get");
  for (i = 0; i < member_count; i++) {
    if (members[i].nodeid == local_nodeid && members[i].pid == (uint32_t)getpid()) found_self = 1;
  }
  check(found_self, "we are a member of our group");
  check(CPG_CALL(cpg_flow_control_state_get(handle, &flow)) == CS_OK, "cpg_flow_control_state_get");

  found_self = 0;
  check(CPG_CALL(cpg_iteration_initialize(handle, CPG_ITERATION_ALL, NULL, &iteration)) == CS_OK,
        "cpg_iteration_initialize");
  while (CPG_CALL(cpg_iteration_next(iteration, &description)) == CS_OK && !found_self) {
    found_self = description.group.length == group.length && description.pid == (uint32_t)getpid();
  }
  check(found_self, "the iteration lists us");
  check(CPG_CALL(cpg_iteration_finalize(iteration)) == CS_OK, "cpg_iteration_finalize");

  keep_zcb_buffers(handle, fd, second);
  check(CPG_CALL(cpg_leave(handle, &group)) == CS_OK, "cpg_leave");
  check(dispatch_until(handle, fd, &self_left) == CS_OK, "confchg of our own leave");
  check(CPG_CALL(cpg_dispatch(handle, CS_DISPATCH_ONE_NONBLOCKING)) == CS_ERR_TRY_AGAIN,
        "nothing left to dispatch");
  check(CPG_CALL(cpg_finalize(second)) == CS_OK, "cpg_finalize of the second handle");
  check(CPG_CALL(cpg_finalize(handle)) == CS_OK, "cpg_finalize");
  check(CPG_CALL(cpg_finalize(handle)) == CS_ERR_BAD_HANDLE, "second cpg_finalize");
}

int main(void) {
  check_types_and_values();
  check_print_formats();
  check_strerror();
#ifdef CPG_COMPAT_LINK_ALL
  run_session();
#else
  (void)run_session; /* compiled and type-checked; runs once the CPG calls are linked */
#endif
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("corosync compatibility checks passed\n");
  return 0;
}
