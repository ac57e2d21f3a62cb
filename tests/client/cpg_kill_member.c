/*
 * cpg_kill_member: one process of cpg_kill_test.cpp, built only with
 * <corosync/cpg.h> (api/compat): joins group "kill", multicasts an AGREED
 * message every 5 ms and reports its configuration changes.
 *
 *   RINGCAST_CONFIG=cluster.conf RINGCAST_NODE_ID=n cpg_kill_member
 *
 * Output lines (stdout):
 *   confchg <t_ns> members=<ids> left=<id:reason,...> joined=<id:reason,...> seg=<count>:<hash>
 *     t_ns: CLOCK_MONOTONIC; reasons as numbers (3 NODEDOWN, 4 NODEUP, 1 JOIN);
 *     seg: the messages delivered since the confchg before (count, running hash)
 *   error <what>
 * Commands (stdin): "exit".
 */
#define _POSIX_C_SOURCE 200809L

#include <corosync/cpg.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t seg_count = 0;
static uint64_t seg_hash = 1469598103934665603ull;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void mix(const void* bytes, size_t n) {
  const unsigned char* p = bytes;
  size_t i;
  for (i = 0; i < n; i++) {
    seg_hash ^= p[i];
    seg_hash *= 1099511628211ull;
  }
}

static void deliver_cb(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t msg_len) {
  (void)handle;
  (void)group;
  mix(&nodeid, sizeof nodeid);
  mix(&pid, sizeof pid);
  mix(msg, msg_len);
  seg_count++;
}

/* "1,2,3" or "3:3,4:3" (with reasons); "-" when empty. */
static void list(char* out, size_t room, const struct cpg_address* a, size_t n, int reasons) {
  size_t i, used = 0;
  out[0] = '\0';
  for (i = 0; i < n && used + 24 < room; i++) {
    used += (size_t)snprintf(out + used, room - used, reasons ? "%s%u:%u" : "%s%u", i ? "," : "",
                             a[i].nodeid, a[i].reason);
  }
  if (n == 0) snprintf(out, room, "-");
}

static void confchg_cb(cpg_handle_t handle, const struct cpg_name* group,
                       const struct cpg_address* members, size_t n_members,
                       const struct cpg_address* left, size_t n_left,
                       const struct cpg_address* joined, size_t n_joined) {
  char m[256], l[256], j[256];
  (void)handle;
  (void)group;
  list(m, sizeof m, members, n_members, 0);
  list(l, sizeof l, left, n_left, 1);
  list(j, sizeof j, joined, n_joined, 1);
  printf("confchg %llu members=%s left=%s joined=%s seg=%llu:%016llx\n",
         (unsigned long long)now_ns(), m, l, j, (unsigned long long)seg_count,
         (unsigned long long)seg_hash);
  fflush(stdout);
  seg_count = 0;
  seg_hash = 1469598103934665603ull;
}

int main(void) {
  cpg_callbacks_t callbacks = {deliver_cb, confchg_cb};
  cpg_handle_t handle;
  struct cpg_name group;
  unsigned int nodeid = 0;
  int fd = -1;
  uint64_t counter = 0, next_send = 0;
  if (cpg_initialize(&handle, &callbacks) != CS_OK) {
    printf("error cpg_initialize\n");
    return 1;
  }
  strcpy(group.value, "kill");
  group.length = 4;
  if (cpg_join(handle, &group) != CS_OK || cpg_fd_get(handle, &fd) != CS_OK ||
      cpg_local_get(handle, &nodeid) != CS_OK) {
    printf("error cpg_join\n");
    return 1;
  }
  for (;;) {
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    char command[64];
    if (poll(fds, 2, 5) < 0) break;
    if (fds[0].revents) cpg_dispatch(handle, CS_DISPATCH_ALL);
    if (fds[1].revents) {
      ssize_t n = read(STDIN_FILENO, command, sizeof command - 1);
      if (n <= 0 || strncmp(command, "exit", 4) == 0) break;
    }
    if (now_ns() >= next_send) {
      uint64_t body[2] = {nodeid, ++counter};
      struct iovec iov = {body, sizeof body};
      cs_error_t e = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1);
      if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
        printf("error cpg_mcast_joined %d\n", (int)e);
        fflush(stdout);
      }
      next_send = now_ns() + 5000000ull;
    }
  }
  cpg_finalize(handle);
  return 0;
}
