/*
 * daemon_client: one client process of ringcastd's soft-RoCE test
 * (daemon_rdma_test.sh), built only with <corosync/cpg.h> (api/compat): it
 * runs in either mode, and the test runs it with RINGCAST_MODE=daemon.
 *
 *   daemon_client GROUPS [AT_ONCE]     GROUPS: letters, one group each ("AB")
 *
 * Opens one handle per group (model V1 with a totem confchg callback, no
 * initial totem conf: so every "totem" line is a ring change), joins, and
 * with AT_ONCE > 0 sends that many messages to each group right away. Every
 * delivery is checked (header, sender, per-sender order, every byte) and
 * folded into a running hash of (node, pid, seq), the same at every member
 * that delivered the same sequence.
 * Output lines: "started startup_tryagain=N" (CS_ERR_TRY_AGAIN results of
 * initialize, join and the AT_ONCE sends), "members G N", "joined G NODE
 * PID", "left G NODE PID REASON", "totem G NODE SEQ MEMBERS", "lost G ERROR"
 * (dispatch failed: the daemon is gone), "sent N tryagain=K", "result G
 * delivered=N hash=H errors=E", "bye errors=E".
 * Commands (stdin): "send N" (N messages to each group), "await N" (the
 * results once every group delivered N, or after 120 s), "exit".
 */
#define _POSIX_C_SOURCE 200809L

#include <corosync/cpg.h>

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_GROUPS 4
#define MAX_SENDERS 64
#define MAGIC 0x52434443u /* "RCDC" */
#define MAX_BODY 1500u

struct header {
  uint32_t magic, node, pid, seq, length;
};

struct sender {
  uint32_t node, pid, next_seq;
};

struct group {
  char tag;
  cpg_handle_t handle;
  struct cpg_name name;
  int lost;
  uint64_t delivered, hash;
  unsigned errors;
  struct sender senders[MAX_SENDERS];
  size_t sender_count;
  uint32_t next_send;
};

static struct group groups[MAX_GROUPS];
static size_t group_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stopping;
static uint32_t my_node, my_pid;

static void say(const char* fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&lock);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  pthread_mutex_unlock(&lock);
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static uint8_t pattern(uint32_t node, uint32_t pid, uint32_t seq, size_t at) {
  return (uint8_t)(node * 97u + pid * 13u + seq * 31u + (uint32_t)at * 7u);
}

static size_t body_bytes(uint32_t seq) {
  return (seq * 131u) % MAX_BODY;
}

/* ---- receiving ---- */

static struct sender* sender_of(struct group* g, uint32_t node, uint32_t pid) {
  size_t i;
  for (i = 0; i < g->sender_count; i++)
    if (g->senders[i].node == node && g->senders[i].pid == pid) return &g->senders[i];
  if (g->sender_count == MAX_SENDERS) return NULL;
  g->senders[g->sender_count].node = node;
  g->senders[g->sender_count].pid = pid;
  g->senders[g->sender_count].next_seq = 0;
  return &g->senders[g->sender_count++];
}

/* 0 when the message is what its sender wrote, in its sender's order. */
static int check(struct group* g, uint32_t node, uint32_t pid, const uint8_t* m, size_t len) {
  struct header h;
  struct sender* s;
  size_t i;
  if (len < sizeof h) return 1;
  memcpy(&h, m, sizeof h);
  if (h.magic != MAGIC || h.node != node || h.pid != pid || h.length != len) return 2;
  if (len != sizeof h + body_bytes(h.seq)) return 3;
  for (i = sizeof h; i < len; i++)
    if (m[i] != pattern(node, pid, h.seq, i)) return 4;
  s = sender_of(g, node, pid);
  if (s == NULL || s->next_seq != h.seq) return 5;
  s->next_seq = h.seq + 1;
  g->hash = (g->hash ^ (((uint64_t)node << 48) ^ ((uint64_t)pid << 24) ^ h.seq)) * 0x100000001B3ull;
  return 0;
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name* name, uint32_t node,
                       uint32_t pid, void* msg, size_t len) {
  struct group* g = NULL;
  int bad;
  (void)name;
  cpg_context_get(handle, (void**)&g);
  pthread_mutex_lock(&lock);
  bad = check(g, node, pid, msg, len);
  g->delivered++;
  if (bad) g->errors++;
  pthread_mutex_unlock(&lock);
  if (bad) say("error %c bad message %d from %u/%u", g->tag, bad, node, pid);
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name* name,
                       const struct cpg_address* members, size_t member_count,
                       const struct cpg_address* left, size_t left_count,
                       const struct cpg_address* joined, size_t joined_count) {
  struct group* g = NULL;
  size_t i;
  (void)name;
  (void)members;
  cpg_context_get(handle, (void**)&g);
  for (i = 0; i < left_count; i++)
    say("left %c %u %u %u", g->tag, left[i].nodeid, left[i].pid, left[i].reason);
  for (i = 0; i < joined_count; i++)
    say("joined %c %u %u", g->tag, joined[i].nodeid, joined[i].pid);
  say("members %c %zu", g->tag, member_count);
}

static void on_totem(cpg_handle_t handle, struct cpg_ring_id ring, uint32_t count,
                     const uint32_t* members) {
  struct group* g = NULL;
  (void)members;
  cpg_context_get(handle, (void**)&g);
  say("totem %c %u %llu %u", g->tag, ring.nodeid, (unsigned long long)ring.seq, count);
}

/* Dispatches every group's events until stopping; a group whose dispatch
 * fails (its daemon is gone) is reported once and left alone. */
static void* dispatch_loop(void* unused) {
  struct pollfd fds[MAX_GROUPS];
  size_t i;
  (void)unused;
  for (i = 0; i < group_count; i++) {
    int fd = -1;
    cpg_fd_get(groups[i].handle, &fd);
    fds[i].fd = fd;
    fds[i].events = POLLIN;
  }
  while (!stopping) {
    if (poll(fds, group_count, 100) <= 0) continue;
    for (i = 0; i < group_count; i++) {
      cs_error_t e;
      if (fds[i].revents == 0 || groups[i].lost) continue;
      e = cpg_dispatch(groups[i].handle, CS_DISPATCH_ALL);
      if (e == CS_OK || e == CS_ERR_TRY_AGAIN) continue;
      groups[i].lost = 1;
      fds[i].fd = -1;
      say("lost %c %d", groups[i].tag, (int)e);
    }
  }
  return NULL;
}

/* ---- sending ---- */

/* The next message of this sender to g; the number of CS_ERR_TRY_AGAIN
 * results before it went, or -1 when it failed. */
static int send_one(struct group* g) {
  uint8_t m[sizeof(struct header) + MAX_BODY];
  struct header h = {MAGIC, my_node, my_pid, g->next_send, 0};
  const size_t len = sizeof h + body_bytes(h.seq);
  struct iovec iov;
  size_t i;
  int tries = 0;
  cs_error_t e;
  h.length = (uint32_t)len;
  memcpy(m, &h, sizeof h);
  for (i = sizeof h; i < len; i++)
    m[i] = pattern(my_node, my_pid, h.seq, i);
  iov.iov_base = m;
  iov.iov_len = len;
  while ((e = cpg_mcast_joined(g->handle, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN) {
    if (++tries > 20000) break;
    sleep_ms(1);
  }
  if (e != CS_OK) {
    say("error %c cpg_mcast_joined %d", g->tag, (int)e);
    return -1;
  }
  g->next_send++;
  return tries;
}

/* n messages to each group, in turn; the CS_ERR_TRY_AGAIN count. */
static unsigned send_all(unsigned n) {
  unsigned k, tryagain = 0;
  size_t i;
  for (k = 0; k < n; k++) {
    for (i = 0; i < group_count; i++) {
      int t = send_one(&groups[i]);
      if (t > 0) tryagain += (unsigned)t;
    }
  }
  return tryagain;
}

/* ---- start, commands ---- */

static unsigned open_group(struct group* g) {
  cpg_model_v1_data_t model;
  unsigned tryagain = 0;
  cs_error_t e;
  memset(&model, 0, sizeof model);
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = on_deliver;
  model.cpg_confchg_fn = on_confchg;
  model.cpg_totem_confchg_fn = on_totem;
  while ((e = cpg_model_initialize(&g->handle, CPG_MODEL_V1, (cpg_model_data_t*)&model, g)) ==
         CS_ERR_TRY_AGAIN) {
    tryagain++;
    sleep_ms(10);
  }
  if (e != CS_OK) {
    say("error %c cpg_model_initialize %d", g->tag, (int)e);
    exit(2);
  }
  g->name.length = 1;
  g->name.value[0] = g->tag;
  while ((e = cpg_join(g->handle, &g->name)) == CS_ERR_TRY_AGAIN) {
    tryagain++;
    sleep_ms(10);
  }
  if (e != CS_OK) {
    say("error %c cpg_join %d", g->tag, (int)e);
    exit(2);
  }
  return tryagain;
}

static int all_delivered(uint64_t n) {
  size_t i;
  int all = 1;
  pthread_mutex_lock(&lock);
  for (i = 0; i < group_count; i++)
    all = all && groups[i].delivered >= n;
  pthread_mutex_unlock(&lock);
  return all;
}

static void report(uint64_t n) {
  size_t i;
  int waited_ms = 0;
  while (!all_delivered(n) && waited_ms < 120000) {
    sleep_ms(10);
    waited_ms += 10;
  }
  for (i = 0; i < group_count; i++) {
    struct group* g = &groups[i];
    pthread_mutex_lock(&lock);
    printf("result %c delivered=%llu hash=%016llx errors=%u\n", g->tag,
           (unsigned long long)g->delivered, (unsigned long long)g->hash, g->errors);
    fflush(stdout);
    pthread_mutex_unlock(&lock);
  }
}

int main(int argc, char** argv) {
  pthread_t dispatcher;
  unsigned startup_tryagain = 0, errors = 0;
  char line[128];
  size_t i;
  if (argc < 2 || strlen(argv[1]) == 0 || strlen(argv[1]) > MAX_GROUPS) {
    fprintf(stderr, "usage: daemon_client GROUPS [AT_ONCE]\n");
    return 2;
  }
  my_pid = (uint32_t)getpid();
  group_count = strlen(argv[1]);
  for (i = 0; i < group_count; i++) {
    groups[i].tag = argv[1][i];
    startup_tryagain += open_group(&groups[i]);
  }
  cpg_local_get(groups[0].handle, &my_node);
  pthread_create(&dispatcher, NULL, dispatch_loop, NULL);
  if (argc > 2) startup_tryagain += send_all((unsigned)atoi(argv[2]));
  say("started startup_tryagain=%u", startup_tryagain);
  while (fgets(line, sizeof line, stdin) != NULL && strncmp(line, "exit", 4) != 0) {
    if (strncmp(line, "send ", 5) == 0) {
      unsigned n = (unsigned)atoi(line + 5);
      say("sent %u tryagain=%u", n, send_all(n));
    } else if (strncmp(line, "await ", 6) == 0) {
      report((uint64_t)atoll(line + 6));
    }
  }
  stopping = 1;
  pthread_join(dispatcher, NULL);
  for (i = 0; i < group_count; i++) {
    errors += groups[i].errors;
    cpg_finalize(groups[i].handle);
  }
  say("bye errors=%u", errors);
  return errors == 0 ? 0 : 1;
}
