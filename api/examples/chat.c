/*
 * ringcast-chat: a chat room over one CPG group.
 *
 *   RINGCAST_CONFIG=cluster.conf ringcast-chat [group]
 *
 * through the node's ringcastd (the default), or, with RINGCAST_MODE=embedded,
 * as a ring member of its own.
 *
 * Lines read from stdin are multicast to the group; every delivered line is
 * printed with its sender, and so is every membership change. One poll()
 * loop serves both stdin and the CPG handle's fd. Written against
 * <corosync/cpg.h> only: the same source builds against corosync's libcpg.
 */
#include <corosync/cpg.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char* reason_text(uint32_t reason) {
  switch (reason) {
    case CPG_REASON_JOIN:
      return "joined";
    case CPG_REASON_LEAVE:
      return "left";
    case CPG_REASON_NODEDOWN:
      return "node went down";
    case CPG_REASON_NODEUP:
      return "node came up";
    case CPG_REASON_PROCDOWN:
      return "process ended";
    default:
      return "changed";
  }
}

static void deliver(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid,
                    uint32_t pid, void* msg, size_t msg_len) {
  (void)handle;
  (void)group;
  printf("[%u/%u] %.*s\n", nodeid, pid, (int)msg_len, (const char*)msg);
  fflush(stdout);
}

static void confchg(cpg_handle_t handle, const struct cpg_name* group,
                    const struct cpg_address* members, size_t n_members,
                    const struct cpg_address* left, size_t n_left, const struct cpg_address* joined,
                    size_t n_joined) {
  size_t i;
  (void)handle;
  for (i = 0; i < n_joined; i++)
    printf("* %u/%u %s %.*s\n", joined[i].nodeid, joined[i].pid, reason_text(joined[i].reason),
           (int)group->length, group->value);
  for (i = 0; i < n_left; i++)
    printf("* %u/%u %s\n", left[i].nodeid, left[i].pid, reason_text(left[i].reason));
  printf("* %zu in the room:", n_members);
  for (i = 0; i < n_members; i++)
    printf(" %u/%u", members[i].nodeid, members[i].pid);
  printf("\n");
  fflush(stdout);
}

static cs_error_t send_line(cpg_handle_t handle, char* line, size_t len) {
  struct iovec iov;
  cs_error_t err;
  iov.iov_base = line;
  iov.iov_len = len;
  /* CS_ERR_TRY_AGAIN is flow control: the ring is full for now. */
  while ((err = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) {
    cpg_dispatch(handle, CS_DISPATCH_ALL);
    usleep(1000);
  }
  return err;
}

int main(int argc, char** argv) {
  cpg_callbacks_t callbacks = {deliver, confchg};
  cpg_handle_t handle;
  struct cpg_name group;
  const char* name = argc > 1 ? argv[1] : "chat";
  struct pollfd fds[2];
  char line[4096];
  cs_error_t err;
  int fd;

  if (strlen(name) > CPG_MAX_NAME_LENGTH) {
    fprintf(stderr, "ringcast-chat: group name longer than %d bytes\n", CPG_MAX_NAME_LENGTH);
    return 2;
  }
  if ((err = cpg_initialize(&handle, &callbacks)) != CS_OK) {
    fprintf(stderr, "ringcast-chat: cpg_initialize: %s\n", cs_strerror(err));
    return 1;
  }
  group.length = (uint32_t)strlen(name);
  memcpy(group.value, name, group.length);
  if ((err = cpg_join(handle, &group)) != CS_OK) {
    fprintf(stderr, "ringcast-chat: cpg_join: %s\n", cs_strerror(err));
    return 1;
  }
  cpg_fd_get(handle, &fd);
  fds[0].fd = STDIN_FILENO;
  fds[0].events = POLLIN;
  fds[1].fd = fd;
  fds[1].events = POLLIN;
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("ringcast-chat: poll");
      break;
    }
    if (fds[1].revents & POLLIN) cpg_dispatch(handle, CS_DISPATCH_ALL);
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      size_t len;
      if (fgets(line, sizeof line, stdin) == NULL) break; /* EOF: leave the room */
      len = strcspn(line, "\n");
      if (len > 0 && (err = send_line(handle, line, len)) != CS_OK) {
        fprintf(stderr, "ringcast-chat: cpg_mcast_joined: %s\n", cs_strerror(err));
        break;
      }
    }
  }
  cpg_leave(handle, &group);
  cpg_finalize(handle);
  return 0;
}
