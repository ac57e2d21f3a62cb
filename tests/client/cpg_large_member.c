/*
 * cpg_large_member: one process of cpg_large_rdma_test.cpp, built only with
 * <corosync/cpg.h> (api/compat) and <ringcast/counters.h>: joins group
 * "large", sends messages of any size on command, copied (cpg_mcast_joined)
 * or from a zcb buffer (cpg_zcb_alloc, cpg_zcb_mcast_joined), and checks
 * every message it delivers byte by byte.
 *
 *   RINGCAST_CONFIG=cluster.conf RINGCAST_NODE_ID=n cpg_large_member
 *
 * A message: u64 sender node id, u64 its number, u64 its size, then 64-bit
 * words of a sequence seeded by the three (the last word cut to fit).
 * Output lines (stdout):
 *   confchg members=<ids, ascending> left=<id:reason,...>
 *   deliver <node> <number> <bytes> ok|corrupt@<offset>
 *   sent <bytes> <cs_error_t>            (after "send")
 *   zsent <bytes> <cs_error_t>           (after "zsend")
 *   counters records=<n> large=<n> abandoned=<n> assembled_bytes=<n>
 *            copied_on_send=<n> zcb_sends=<n> zcb_copied=<n> zcb_from_buffer=<n>
 *            atomic=<cpg_max_atomic_msgsize_get>
 *   error <what>
 * Commands (stdin): "send <bytes>", "zsend <bytes>", "counters", "exit".
 */
#define _POSIX_C_SOURCE 200809L

#include <corosync/cpg.h>
#include <ringcast/counters.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t next_word(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t seed_of(uint64_t node, uint64_t number, uint64_t bytes) {
  return node * 1000003ull + number * 7919ull + bytes;
}

static void fill(unsigned char* p, uint64_t bytes, uint64_t node, uint64_t number) {
  uint64_t head[3] = {node, number, bytes};
  uint64_t state = seed_of(node, number, bytes), off;
  memcpy(p, head, sizeof head);
  for (off = sizeof head; off < bytes; off += 8) {
    uint64_t w = next_word(&state);
    memcpy(p + off, &w, bytes - off < 8 ? bytes - off : 8);
  }
}

/* The offset of the first wrong byte, or the size when all are right. */
static uint64_t check(const unsigned char* p, uint64_t bytes, uint64_t* node, uint64_t* number) {
  uint64_t head[3], state, off;
  if (bytes < sizeof head) return 0;
  memcpy(head, p, sizeof head);
  *node = head[0];
  *number = head[1];
  if (head[2] != bytes) return 16;
  state = seed_of(head[0], head[1], bytes);
  for (off = sizeof head; off < bytes; off += 8) {
    uint64_t w = next_word(&state);
    if (memcmp(p + off, &w, bytes - off < 8 ? bytes - off : 8) != 0) return off;
  }
  return bytes;
}

static void deliver_cb(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t msg_len) {
  uint64_t node = 0, number = 0, good;
  (void)handle;
  (void)group;
  (void)pid;
  good = check(msg, msg_len, &node, &number);
  if (node != nodeid) good = 0;
  if (good == msg_len)
    printf("deliver %u %llu %zu ok\n", nodeid, (unsigned long long)number, msg_len);
  else
    printf("deliver %u %llu %zu corrupt@%llu\n", nodeid, (unsigned long long)number, msg_len,
           (unsigned long long)good);
  fflush(stdout);
}

static int compare_ids(const void* a, const void* b) {
  const uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

static void confchg_cb(cpg_handle_t handle, const struct cpg_name* group,
                       const struct cpg_address* members, size_t n_members,
                       const struct cpg_address* left, size_t n_left,
                       const struct cpg_address* joined, size_t n_joined) {
  size_t i;
  (void)handle;
  (void)group;
  (void)joined;
  (void)n_joined;
  uint32_t ids[128];
  size_t n = n_members < 128 ? n_members : 128;
  for (i = 0; i < n; i++)
    ids[i] = members[i].nodeid;
  qsort(ids, n, sizeof ids[0], compare_ids); /* CPG lists them in join order */
  printf("confchg members=");
  for (i = 0; i < n; i++)
    printf("%s%u", i ? "," : "", ids[i]);
  printf(" left=");
  for (i = 0; i < n_left; i++)
    printf("%s%u:%u", i ? "," : "", left[i].nodeid, left[i].reason);
  printf("\n");
  fflush(stdout);
}

/* Sends until the ring takes it: TRY_AGAIN while it reforms or has no room. */
static cs_error_t until_taken(cpg_handle_t handle, const struct iovec* iov, void* zcb) {
  cs_error_t e;
  do {
    e = zcb ? cpg_zcb_mcast_joined(handle, CPG_TYPE_AGREED, zcb, iov->iov_len)
            : cpg_mcast_joined(handle, CPG_TYPE_AGREED, iov, 1);
    if (e == CS_ERR_TRY_AGAIN) cpg_dispatch(handle, CS_DISPATCH_ALL);
  } while (e == CS_ERR_TRY_AGAIN);
  return e;
}

/* zero_copy: the message is written into a zcb buffer and the NIC reads it
 * from there (in fragments above the atomic size). */
static void send_one(cpg_handle_t handle, uint64_t node, uint64_t number, uint64_t bytes,
                     int zero_copy) {
  void* p = NULL;
  struct iovec iov;
  cs_error_t e;
  if (zero_copy ? cpg_zcb_alloc(handle, bytes, &p) != CS_OK : (p = malloc(bytes)) == NULL) {
    printf("error %s %llu\n", zero_copy ? "cpg_zcb_alloc" : "malloc", (unsigned long long)bytes);
    fflush(stdout);
    return;
  }
  fill(p, bytes, node, number);
  iov.iov_base = p;
  iov.iov_len = bytes;
  e = until_taken(handle, &iov, zero_copy ? p : NULL);
  printf("%s %llu %d\n", zero_copy ? "zsent" : "sent", (unsigned long long)bytes, (int)e);
  fflush(stdout);
  if (!zero_copy)
    free(p);
  else if (cpg_zcb_free(handle, p) != CS_OK)
    printf("error cpg_zcb_free\n");
}

static void print_counters(cpg_handle_t handle) {
  struct ringcast_counters c;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  if (ringcast_counters_get(handle, &c) != CS_OK) {
    printf("error ringcast_counters_get\n");
  } else {
    uint32_t atomic = 0;
    (void)cpg_max_atomic_msgsize_get(handle, &atomic);
    printf(
        "counters records=%llu large=%llu abandoned=%llu assembled_bytes=%llu"
        " copied_on_send=%llu zcb_sends=%llu zcb_copied=%llu zcb_from_buffer=%llu atomic=%u\n",
        (unsigned long long)c.records_delivered, (unsigned long long)c.large_messages_delivered,
        (unsigned long long)c.large_messages_abandoned,
        (unsigned long long)c.bytes_copied_on_assembly, (unsigned long long)c.bytes_copied_on_send,
        (unsigned long long)c.zero_copy_sends, (unsigned long long)c.zero_copy_bytes_copied,
        (unsigned long long)c.zero_copy_bytes_from_buffer, (unsigned)atomic);
  }
  fflush(stdout);
}

int main(void) {
  cpg_callbacks_t callbacks = {deliver_cb, confchg_cb};
  cpg_handle_t handle;
  struct cpg_name group;
  unsigned int nodeid = 0;
  uint64_t number = 0;
  int fd = -1;
  char line[128];
  size_t used = 0;
  if (cpg_initialize(&handle, &callbacks) != CS_OK) {
    printf("error cpg_initialize\n");
    return 1;
  }
  strcpy(group.value, "large");
  group.length = 5;
  if (cpg_join(handle, &group) != CS_OK || cpg_fd_get(handle, &fd) != CS_OK ||
      cpg_local_get(handle, &nodeid) != CS_OK) {
    printf("error cpg_join\n");
    return 1;
  }
  for (;;) {
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    char* end;
    ssize_t n;
    if (poll(fds, 2, 100) < 0) break;
    if (fds[0].revents) cpg_dispatch(handle, CS_DISPATCH_ALL);
    if (!fds[1].revents) continue;
    n = read(STDIN_FILENO, line + used, sizeof line - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
    line[used] = '\0';
    while ((end = strchr(line, '\n')) != NULL) {
      *end = '\0';
      if (strncmp(line, "exit", 4) == 0) {
        cpg_finalize(handle);
        return 0;
      }
      if (strncmp(line, "send ", 5) == 0)
        send_one(handle, nodeid, ++number, strtoull(line + 5, NULL, 10), 0);
      if (strncmp(line, "zsend ", 6) == 0)
        send_one(handle, nodeid, ++number, strtoull(line + 6, NULL, 10), 1);
      if (strncmp(line, "counters", 8) == 0) print_counters(handle);
      used -= (size_t)(end + 1 - line);
      memmove(line, end + 1, used + 1);
    }
  }
  cpg_finalize(handle);
  return 0;
}
