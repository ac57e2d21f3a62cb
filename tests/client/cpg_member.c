/*
 * cpg_member: one process of the soft-RoCE CPG test (cpg_rdma_test.cpp), in
 * the style of corosync's test programs, built only with <corosync/cpg.h>
 * (api/compat) and <ringcast/counters.h> for the copy counter.
 *
 *   RINGCAST_CONFIG=cluster.conf RINGCAST_NODE_ID=n cpg_member MODE M
 *
 * Joins group A on a cpg_initialize() handle and group B on a
 * cpg_model_initialize() handle (totem confchg, initial totem conf), waits
 * until both groups have 3 members, sends M messages to A with
 * cpg_mcast_joined() (2 iovec pieces) and M to B from cpg_zcb_alloc()
 * buffers, and checks everything it receives. MODE says how it dispatches:
 *   poll     one poll() loop on both cpg_fd_get() fds, CS_DISPATCH_ALL
 *   threads  a CS_DISPATCH_BLOCKING thread on A while two threads multicast
 *            on A; CS_DISPATCH_ONE_NONBLOCKING on B in the main thread
 *   one      a CS_DISPATCH_ONE thread per handle
 * Output lines (stdout): "result A|B ...", "counters ...", "ready", then
 * "procdown A|B <node> <pid>" whenever a member goes away, "error ..." for
 * each failed check. Commands (stdin): "finalize" (prints "finalized"),
 * "exit" (exit status 0 when every check held, else 1).
 */
#define _POSIX_C_SOURCE 200809L

#include <corosync/cpg.h>
#include <ringcast/counters.h>

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODE 8
#define STREAMS 2
#define MAGIC 0x52434d31u /* "RCM1" */
#define MAX_A_BODY 1000u
#define MAX_B_BYTES 8192u
#define MEMBERS 3u

/* ---- output and failures ---- */

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0; /* guarded by print_lock */

static void say(const char* fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&print_lock);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
  pthread_mutex_unlock(&print_lock);
}

/* Counts and prints a failed check; returns 0 so that callers can `return fail(...)`. */
static int fail(const char* what, long long detail) {
  pthread_mutex_lock(&print_lock);
  failures++;
  printf("error %s (%lld)\n", what, detail);
  fflush(stdout);
  pthread_mutex_unlock(&print_lock);
  return 0;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_us(long us) {
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&t, NULL);
}

/* ---- message contents: a header and a pattern from (sender, stream, index) ---- */

struct header {
  uint32_t magic;
  uint32_t stream;
  uint32_t index;
  uint32_t length; /* of the whole message */
};

static uint8_t pattern(uint32_t sender, uint32_t stream, uint32_t index, size_t at) {
  return (uint8_t)(sender * 97u + stream * 53u + index * 31u + (uint32_t)at * 7u + (at >> 7));
}

static uint32_t mix(uint32_t sender, uint32_t stream, uint32_t index) {
  uint64_t x = ((uint64_t)sender << 40) ^ ((uint64_t)stream << 32) ^ index;
  x *= 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return (uint32_t)x;
}

static void fill_body(uint8_t* body, size_t bytes, uint32_t sender, uint32_t stream,
                      uint32_t index) {
  size_t i;
  for (i = 0; i < bytes; i++)
    body[i] = pattern(sender, stream, index, sizeof(struct header) + i);
}

static uint32_t crc_table[256];

static void crc_init(void) {
  uint32_t i, k;
  for (i = 0; i < 256; i++) {
    uint32_t c = i;
    for (k = 0; k < 8; k++)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32_of(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  size_t i;
  for (i = 0; i < n; i++)
    c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* ---- what a group's callbacks saw ---- */

struct group_state {
  pthread_mutex_t lock;
  char tag; /* 'A' or 'B' */
  struct cpg_name name;
  size_t members;
  int own_join;
  int self_member;
  unsigned confchgs;
  uint64_t delivered;
  uint64_t bytes;
  uint64_t hash;
  uint32_t next_index[MAX_NODE + 1][STREAMS];
  uint64_t fifo_errors;
  uint64_t content_errors;
  unsigned procdowns;
};

static struct group_state groups[2];
static unsigned int local_nodeid = 0;
static uint32_t local_pid = 0;
static uint32_t totem_members = 0; /* of the latest totem confchg */
static unsigned totem_confchgs = 0;

static struct group_state* state_of(const struct cpg_name* name) {
  int g;
  for (g = 0; g < 2; g++) {
    if (name->length == groups[g].name.length &&
        memcmp(name->value, groups[g].name.value, name->length) == 0)
      return &groups[g];
  }
  fail("callback for an unknown group", name->length);
  return NULL;
}

static void init_group(struct group_state* s, char tag, const char* name) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->lock, NULL);
  s->tag = tag;
  s->name.length = (uint32_t)strlen(name);
  memcpy(s->name.value, name, s->name.length);
  s->hash = 0xcbf29ce484222325ull;
}

static void hash_in(uint64_t* h, uint64_t v) {
  *h ^= v;
  *h *= 0x100000001b3ull;
}

/* Checks a message byte for byte; 0 when it is what (nodeid, stream, index) made. */
static int content_ok(const uint8_t* msg, size_t len, uint32_t nodeid, struct header* h) {
  size_t i;
  if (len < sizeof *h) return 0;
  memcpy(h, msg, sizeof *h);
  if (h->magic != MAGIC || h->length != len || h->stream >= STREAMS) return 0;
  for (i = sizeof *h; i < len; i++)
    if (msg[i] != pattern(nodeid, h->stream, h->index, i)) return 0;
  return 1;
}

static void deliver_cb(cpg_handle_t handle, const struct cpg_name* group_name, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t msg_len) {
  struct group_state* s = state_of(group_name);
  struct header h;
  (void)handle;
  if (s == NULL) return;
  pthread_mutex_lock(&s->lock);
  if (nodeid == 0 || nodeid > MAX_NODE || !content_ok(msg, msg_len, nodeid, &h)) {
    s->content_errors++;
  } else {
    if (h.index != s->next_index[nodeid][h.stream]) s->fifo_errors++;
    s->next_index[nodeid][h.stream] = h.index + 1;
  }
  hash_in(&s->hash, nodeid);
  hash_in(&s->hash, pid);
  hash_in(&s->hash, crc32_of(msg, msg_len));
  s->delivered++;
  s->bytes += msg_len;
  pthread_mutex_unlock(&s->lock);
}

static int is_self(const struct cpg_address* a) {
  return a->nodeid == local_nodeid && a->pid == local_pid;
}

static void confchg_cb(cpg_handle_t handle, const struct cpg_name* group_name,
                       const struct cpg_address* member_list, size_t member_list_entries,
                       const struct cpg_address* left_list, size_t left_list_entries,
                       const struct cpg_address* joined_list, size_t joined_list_entries) {
  struct group_state* s = state_of(group_name);
  size_t i;
  (void)handle;
  if (s == NULL) return;
  pthread_mutex_lock(&s->lock);
  /* The first confchg a handle sees is its own join; each one follows from the last. */
  if (s->confchgs > 0 &&
      member_list_entries != s->members + joined_list_entries - left_list_entries)
    fail("confchg member count does not follow from the last one", (long long)member_list_entries);
  for (i = 0; i < joined_list_entries; i++)
    if (is_self(&joined_list[i]) && joined_list[i].reason == CPG_REASON_JOIN) s->own_join = 1;
  if (!s->own_join) fail("a confchg before our own join", (long long)s->confchgs);
  for (i = 0; i < left_list_entries; i++) {
    if (left_list[i].reason == CPG_REASON_PROCDOWN) {
      s->procdowns++;
      say("procdown %c %u %u", s->tag, left_list[i].nodeid, left_list[i].pid);
    } else {
      say("left %c %u %u reason %u", s->tag, left_list[i].nodeid, left_list[i].pid,
          left_list[i].reason);
    }
  }
  s->self_member = 0;
  for (i = 0; i < member_list_entries; i++)
    if (is_self(&member_list[i])) s->self_member = 1;
  s->members = member_list_entries;
  s->confchgs++;
  pthread_mutex_unlock(&s->lock);
}

static void totem_confchg_cb(cpg_handle_t handle, struct cpg_ring_id ring_id,
                             uint32_t member_list_entries, const uint32_t* member_list) {
  (void)handle;
  (void)member_list;
  (void)ring_id;
  pthread_mutex_lock(&print_lock);
  totem_members = member_list_entries;
  totem_confchgs++;
  pthread_mutex_unlock(&print_lock);
}

/* ---- the process: handles, dispatching by mode ---- */

enum mode { MODE_POLL, MODE_THREADS, MODE_ONE };

static enum mode mode;
static cpg_handle_t handle_a, handle_b;
static int fd_a = -1, fd_b = -1;
static int finalized = 0;
static pthread_t dispatchers[2];
static int dispatcher_count = 0;
static uint32_t messages = 0; /* M */

static void* dispatch_blocking(void* arg) {
  cs_error_t e = cpg_dispatch(*(cpg_handle_t*)arg, CS_DISPATCH_BLOCKING);
  if (e != CS_OK) fail("cpg_dispatch(BLOCKING)", e);
  return NULL;
}

/* CS_DISPATCH_ONE until the handle is finalized (then CS_ERR_BAD_HANDLE). */
static void* dispatch_one(void* arg) {
  cs_error_t e;
  while ((e = cpg_dispatch(*(cpg_handle_t*)arg, CS_DISPATCH_ONE)) == CS_OK) {
  }
  if (e != CS_ERR_BAD_HANDLE) fail("cpg_dispatch(ONE)", e);
  return NULL;
}

static void start_dispatchers(void) {
  if (mode == MODE_THREADS) {
    pthread_create(&dispatchers[dispatcher_count++], NULL, dispatch_blocking, &handle_a);
  } else if (mode == MODE_ONE) {
    pthread_create(&dispatchers[dispatcher_count++], NULL, dispatch_one, &handle_a);
    pthread_create(&dispatchers[dispatcher_count++], NULL, dispatch_one, &handle_b);
  }
}

/* The main thread's share of dispatching, waiting at most timeout_ms for work. */
static void pump(int timeout_ms) {
  struct pollfd p[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
  cs_error_t e;
  if (finalized || mode == MODE_ONE) {
    if (timeout_ms > 0) sleep_us(timeout_ms * 1000L);
    return;
  }
  if (mode == MODE_POLL) {
    if (poll(p, 2, timeout_ms) <= 0) return;
    if ((p[0].revents & POLLIN) && (e = cpg_dispatch(handle_a, CS_DISPATCH_ALL)) != CS_OK)
      fail("cpg_dispatch(ALL) on A", e);
    if ((p[1].revents & POLLIN) && (e = cpg_dispatch(handle_b, CS_DISPATCH_ALL)) != CS_OK)
      fail("cpg_dispatch(ALL) on B", e);
    return;
  }
  if (poll(&p[1], 1, timeout_ms) <= 0) return;
  while ((e = cpg_dispatch(handle_b, CS_DISPATCH_ONE_NONBLOCKING)) == CS_OK) {
  }
  if (e != CS_ERR_TRY_AGAIN) fail("cpg_dispatch(ONE_NONBLOCKING) on B", e);
}

typedef int (*condition_fn)(void);

/* Pumps until cond() holds; 0 after timeout_s. */
static int wait_for(condition_fn cond, double timeout_s) {
  const double end = now_s() + timeout_s;
  while (!cond()) {
    if (now_s() > end) return 0;
    pump(5);
  }
  return 1;
}

static int both_groups_full(void) {
  int g, ok = 1;
  for (g = 0; g < 2; g++) {
    pthread_mutex_lock(&groups[g].lock);
    ok = ok && groups[g].own_join && groups[g].members == MEMBERS;
    pthread_mutex_unlock(&groups[g].lock);
  }
  return ok;
}

static int everything_delivered(void) {
  int g, ok = 1;
  for (g = 0; g < 2; g++) {
    pthread_mutex_lock(&groups[g].lock);
    ok = ok && groups[g].delivered >= (uint64_t)MEMBERS * messages;
    pthread_mutex_unlock(&groups[g].lock);
  }
  return ok;
}

/* ---- sending ---- */

static uint64_t copied_bytes(void) {
  struct ringcast_counters c;
  cs_error_t e;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  e = ringcast_counters_get(handle_a, &c);
  if (e != CS_OK) fail("ringcast_counters_get", e);
  return c.bytes_copied_on_send;
}

static cpg_guarantee_t guarantee_of(uint32_t index) {
  return index % 3 == 0 ? CPG_TYPE_SAFE : CPG_TYPE_AGREED;
}

/* One group-A message of `stream`: header and body as two iovec pieces. */
static size_t send_a(uint32_t stream, uint32_t index, int pump_on_wait) {
  static _Thread_local uint8_t body[MAX_A_BODY];
  const size_t body_bytes = mix(local_nodeid, stream, index) % MAX_A_BODY;
  struct header h = {MAGIC, stream, index, 0};
  struct iovec iov[2];
  cs_error_t e;
  h.length = (uint32_t)(sizeof h + body_bytes);
  fill_body(body, body_bytes, local_nodeid, stream, index);
  iov[0].iov_base = &h;
  iov[0].iov_len = sizeof h;
  iov[1].iov_base = body;
  iov[1].iov_len = body_bytes;
  while ((e = cpg_mcast_joined(handle_a, guarantee_of(index), iov, 2)) == CS_ERR_TRY_AGAIN) {
    if (pump_on_wait)
      pump(1);
    else
      sleep_us(200);
  }
  if (e != CS_OK) {
    fail("cpg_mcast_joined", e);
    return 0;
  }
  if (mode == MODE_POLL) pump(0);
  return h.length;
}

struct sender {
  pthread_t thread;
  uint32_t stream, count;
  size_t bytes;
};

static pthread_mutex_t senders_lock = PTHREAD_MUTEX_INITIALIZER;
static int senders_finished = 0;

static void* sender_thread(void* arg) {
  struct sender* s = arg;
  uint32_t i;
  for (i = 0; i < s->count; i++) {
    const size_t sent = send_a(s->stream, i, 0);
    if (sent == 0) break;
    s->bytes += sent;
  }
  pthread_mutex_lock(&senders_lock);
  senders_finished++;
  pthread_mutex_unlock(&senders_lock);
  return NULL;
}

static int both_senders_finished(void) {
  int n;
  pthread_mutex_lock(&senders_lock);
  n = senders_finished;
  pthread_mutex_unlock(&senders_lock);
  return n == 2;
}

/* Sends M messages to group A; returns their bytes. */
static size_t send_group_a(void) {
  struct sender s[2];
  size_t bytes = 0;
  uint32_t i;
  if (mode != MODE_THREADS) {
    for (i = 0; i < messages; i++) {
      const size_t sent = send_a(0, i, mode == MODE_POLL);
      if (sent == 0) break;
      bytes += sent;
    }
    return bytes;
  }
  /* Two threads multicast on handle A while the dispatcher thread runs on it
   * and this thread dispatches B. */
  memset(s, 0, sizeof s);
  s[0].count = messages / 2;
  s[1].stream = 1;
  s[1].count = messages - messages / 2;
  pthread_create(&s[0].thread, NULL, sender_thread, &s[0]);
  pthread_create(&s[1].thread, NULL, sender_thread, &s[1]);
  while (!both_senders_finished())
    pump(1);
  pthread_join(s[0].thread, NULL);
  pthread_join(s[1].thread, NULL);
  return s[0].bytes + s[1].bytes;
}

/* One group-B message from a zero-copy buffer, written in place. */
static size_t send_b(void* buffer, uint32_t index) {
  const size_t bytes = sizeof(struct header) + mix(local_nodeid, 7, index) % (MAX_B_BYTES - 16);
  struct header h = {MAGIC, 0, index, 0};
  cs_error_t e;
  h.length = (uint32_t)bytes;
  memcpy(buffer, &h, sizeof h);
  fill_body((uint8_t*)buffer + sizeof h, bytes - sizeof h, local_nodeid, 0, index);
  while ((e = cpg_zcb_mcast_joined(handle_b, guarantee_of(index), buffer, bytes)) ==
         CS_ERR_TRY_AGAIN)
    pump(1);
  if (e != CS_OK) {
    fail("cpg_zcb_mcast_joined", e);
    return 0;
  }
  if (mode == MODE_POLL) pump(0);
  return bytes;
}

/* Sends M messages to group B from two buffers in turn; returns their bytes. */
static size_t send_group_b(void) {
  void* buffers[2] = {NULL, NULL};
  size_t bytes = 0;
  uint32_t i;
  cs_error_t e;
  for (i = 0; i < 2; i++) {
    if ((e = cpg_zcb_alloc(handle_b, MAX_B_BYTES, &buffers[i])) != CS_OK) {
      fail("cpg_zcb_alloc", e);
      return 0;
    }
  }
  for (i = 0; i < messages; i++) {
    const size_t sent = send_b(buffers[i % 2], i);
    if (sent == 0) break; /* failed: the rest would only wait as long again */
    bytes += sent;
  }
  for (i = 0; i < 2; i++) {
    if ((e = cpg_zcb_free(handle_b, buffers[i])) != CS_OK) fail("cpg_zcb_free", e);
  }
  if ((e = cpg_zcb_free(handle_b, buffers[0])) != CS_ERR_INVALID_PARAM)
    fail("a second cpg_zcb_free is refused", e);
  return bytes;
}

/* ---- results ---- */

static void report_group(struct group_state* s) {
  pthread_mutex_lock(&s->lock);
  say("result %c delivered=%llu bytes=%llu hash=%016llx fifo_errors=%llu content_errors=%llu "
      "members=%zu own_join=%d self_member=%d confchgs=%u",
      s->tag, (unsigned long long)s->delivered, (unsigned long long)s->bytes,
      (unsigned long long)s->hash, (unsigned long long)s->fifo_errors,
      (unsigned long long)s->content_errors, s->members, s->own_join, s->self_member, s->confchgs);
  if (s->delivered != (uint64_t)MEMBERS * messages)
    fail("delivered count", (long long)s->delivered);
  if (s->fifo_errors || s->content_errors) fail("fifo or content errors", s->tag);
  if (s->members != MEMBERS || !s->own_join || !s->self_member) fail("final view", s->tag);
  pthread_mutex_unlock(&s->lock);
}

struct copies {
  uint64_t before_a, after_a, after_b;
  size_t sent_a, sent_b;
  double seconds_a, seconds_b;
};

static void report_copies(const struct copies* c) {
  const uint64_t copied_a = c->after_a - c->before_a, copied_b = c->after_b - c->after_a;
  unsigned totem, totem_n;
  pthread_mutex_lock(&print_lock);
  totem = totem_members;
  totem_n = totem_confchgs;
  pthread_mutex_unlock(&print_lock);
  say("counters copied_a=%llu sent_a=%zu copied_b=%llu sent_b=%zu seconds_a=%.3f seconds_b=%.3f "
      "totem_members=%u totem_confchgs=%u",
      (unsigned long long)copied_a, c->sent_a, (unsigned long long)copied_b, c->sent_b,
      c->seconds_a, c->seconds_b, totem, totem_n);
  if (copied_a != c->sent_a)
    fail("cpg_mcast_joined copied other than its bytes", (long long)copied_a);
  if (copied_b != 0) fail("zero-copy sends were copied", (long long)copied_b);
  if (totem != MEMBERS || totem_n == 0) fail("initial totem confchg", totem);
}

/* ---- set-up, the run, and the commands ---- */

static void finalize_all(void) {
  cs_error_t e;
  int i;
  if (finalized) return;
  finalized = 1;
  if ((e = cpg_finalize(handle_a)) != CS_OK) fail("cpg_finalize(A)", e);
  if ((e = cpg_finalize(handle_b)) != CS_OK) fail("cpg_finalize(B)", e);
  for (i = 0; i < dispatcher_count; i++)
    pthread_join(dispatchers[i], NULL);
  say("finalized");
}

static int open_and_join(void) {
  cpg_callbacks_t callbacks = {deliver_cb, confchg_cb};
  cpg_model_v1_data_t model = {CPG_MODEL_V1, deliver_cb, confchg_cb, totem_confchg_cb,
                               CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF};
  cs_error_t e;
  if ((e = cpg_initialize(&handle_a, &callbacks)) != CS_OK) return fail("cpg_initialize", e);
  if ((e = cpg_model_initialize(&handle_b, CPG_MODEL_V1, (cpg_model_data_t*)&model, NULL)) != CS_OK)
    return fail("cpg_model_initialize", e);
  if (cpg_fd_get(handle_a, &fd_a) != CS_OK || cpg_fd_get(handle_b, &fd_b) != CS_OK)
    return fail("cpg_fd_get", 0);
  if ((e = cpg_local_get(handle_a, &local_nodeid)) != CS_OK) return fail("cpg_local_get", e);
  start_dispatchers();
  while ((e = cpg_join(handle_a, &groups[0].name)) == CS_ERR_TRY_AGAIN)
    pump(1);
  if (e != CS_OK) return fail("cpg_join(A)", e);
  while ((e = cpg_join(handle_b, &groups[1].name)) == CS_ERR_TRY_AGAIN)
    pump(1);
  if (e != CS_OK) return fail("cpg_join(B)", e);
  return 1;
}

static void run(void) {
  struct copies c;
  double t;
  memset(&c, 0, sizeof c);
  if (!wait_for(both_groups_full, 120)) fail("timed out waiting for 3 members in both groups", 0);
  say("joined");
  c.before_a = copied_bytes();
  t = now_s();
  c.sent_a = send_group_a();
  c.seconds_a = now_s() - t;
  c.after_a = copied_bytes();
  t = now_s();
  c.sent_b = send_group_b();
  c.seconds_b = now_s() - t;
  c.after_b = copied_bytes();
  if (!wait_for(everything_delivered, 180)) fail("timed out waiting for every message", 0);
  report_group(&groups[0]);
  report_group(&groups[1]);
  report_copies(&c);
}

/* Reads commands from stdin while dispatching; returns at "exit" or EOF. */
static void serve_commands(void) {
  char line[64];
  size_t used = 0;
  for (;;) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    ssize_t n;
    char* nl;
    pump(0);
    if (poll(&p, 1, 2) <= 0) continue;
    n = read(STDIN_FILENO, line + used, sizeof line - 1 - used);
    if (n <= 0) return;
    used += (size_t)n;
    line[used] = '\0';
    while ((nl = strchr(line, '\n')) != NULL) {
      *nl = '\0';
      if (strcmp(line, "exit") == 0) return;
      if (strcmp(line, "finalize") == 0) finalize_all();
      used -= (size_t)(nl + 1 - line);
      memmove(line, nl + 1, used + 1);
    }
    if (used == sizeof line - 1) used = 0; /* an overlong line is dropped */
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: cpg_member poll|threads|one MESSAGES\n");
    return 2;
  }
  if (strcmp(argv[1], "poll") == 0) {
    mode = MODE_POLL;
  } else if (strcmp(argv[1], "threads") == 0) {
    mode = MODE_THREADS;
  } else if (strcmp(argv[1], "one") == 0) {
    mode = MODE_ONE;
  } else {
    fprintf(stderr, "cpg_member: unknown mode '%s'\n", argv[1]);
    return 2;
  }
  messages = (uint32_t)strtoul(argv[2], NULL, 10);
  local_pid = (uint32_t)getpid();
  crc_init();
  init_group(&groups[0], 'A', "cpg-rdma-A");
  init_group(&groups[1], 'B', "cpg-rdma-B");
  if (open_and_join()) run();
  say("ready");
  serve_commands();
  finalize_all();
  say("bye failures=%d", failures);
  return failures == 0 ? 0 : 1;
}
