/*
 * cpg_stream: one member process of the separate-hosts test (one per VM,
 * tests/cluster/). It joins one CPG group, multicasts a steady stream
 * (AGREED, RATE messages per second) and reports, for every view (the
 * group's membership between two confchgs), how many messages it delivered
 * in it and a hash of them: members that go through the same two views must
 * report the same count and hash (extended virtual synchrony), which the
 * host script compares across VMs.
 *
 *   RINGCAST_CONFIG=cluster.conf RINGCAST_NODE_ID=n cpg_stream [RATE] [BYTES]
 *
 * Output lines (stdout):
 *   local nodeid=N pid=P
 *   ring id=R members=1,2,3                     a totem confchg (the ring)
 *   view_end members=1,2,3 count=C hash=H ring=R next=R2/1,2
 *        the view that just ended (R: the ring it began in), and the one
 *        that follows (R2: the ring it begins in)
 *   view members=1,2 left=3:nodedown down_ms=3:212 joined=
 *   view members=1,2 left= down_ms= joined=2:nodeup
 *        the new view (a CPG confchg; left and joined with their reasons);
 *        down_ms: per node that left, the time since its last delivered
 *        message (the stream stops when its host dies, so this is about
 *        the time from the crash to this confchg)
 *   tick members=1,2 count=C delivered=D sent=S  every 2 s
 *   report members=... count=C hash=H ring=R next=end   on "report"
 *   error WHAT DETAIL                            a failed check
 * A view is keyed by its members and the ring it began in: for a confchg
 * with NODEDOWN, the ring of the totem confchg that follows it at once (the
 * ring without those nodes); for JOIN, LEAVE and NODEUP (at the end of the
 * sync that follows a merge), the current ring.
 * With RINGCAST_VIEW_HASHES=FILE it also writes there, per view, a line
 * "view members=M ring=R" and then the view's running hash after each
 * delivery: the host checks that members which parted ways delivered
 * prefixes of one sequence in the view they shared.
 * Commands (stdin, one per line): "stop" (stop sending), "start",
 * "report", "exit" (status 0 when no check failed).
 */
#define _POSIX_C_SOURCE 200809L

#include <corosync/cpg.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODE 64
#define MAGIC 0x52435331u /* "RCS1" */
#define GROUP "cluster-stream"

struct header {
  uint32_t magic;
  uint32_t nodeid;
  uint64_t seq;
};

/* What one sender looked like so far, as seen here. */
struct sender {
  uint32_t pid;
  uint64_t last_seq;
  int seen;
  int gap_allowed; /* it (re)joined: its first message may follow a gap */
  uint64_t last_delivery_ns;
};

static struct {
  unsigned int nodeid;
  uint32_t pid;
  uint32_t members[MAX_NODE];
  size_t member_count;
  char ring[48];      /* the ring id of the latest totem confchg */
  char view_ring[48]; /* the ring id when the current view began */
  uint64_t view_count;
  uint64_t view_hash;
  uint64_t delivered;
  uint64_t sent;
  unsigned failures;
  struct sender senders[MAX_NODE + 1];
  FILE* hashes; /* RINGCAST_VIEW_HASHES, or none */
} st;

/* The latest confchg, until its view is opened (open_view). */
static struct {
  int pending;
  uint64_t at_ns;
  uint32_t members[MAX_NODE];
  size_t member_count;
  struct cpg_address left[MAX_NODE];
  size_t left_count;
  struct cpg_address joined[MAX_NODE];
  size_t joined_count;
} change;

static void open_view(void);

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void fail(const char* what, long long detail) {
  st.failures++;
  printf("error %s %lld\n", what, detail);
  fflush(stdout);
}

static void hash_in(uint64_t* h, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) {
    *h ^= (v >> (8 * i)) & 0xff;
    *h *= 0x100000001b3ull;
  }
}

static uint8_t pattern(uint32_t nodeid, uint64_t seq, size_t at) {
  return (uint8_t)(nodeid * 131u + (uint32_t)seq * 7u + (uint32_t)at);
}

/* "1,2,3" for a list of node ids, sorted: CPG lists members in join order,
 * which differs between members; the host compares views by this text. */
static const char* ids_of(const uint32_t* ids, size_t n, char* out, size_t cap) {
  uint32_t sorted[MAX_NODE];
  size_t i, j, used = 0;
  if (n > MAX_NODE) n = MAX_NODE;
  for (i = 0; i < n; i++) {
    for (j = i; j > 0 && sorted[j - 1] > ids[i]; j--)
      sorted[j] = sorted[j - 1];
    sorted[j] = ids[i];
  }
  out[0] = '\0';
  for (i = 0; i < n && used + 12 < cap; i++)
    used += (size_t)snprintf(out + used, cap - used, "%s%u", i ? "," : "", sorted[i]);
  return out;
}

/* next: what follows the view ("ring/members", or "end"): only members that
 * move together to the same view must have delivered the same in this one. */
static void print_view_state(const char* what, const char* next) {
  char ids[MAX_NODE * 12];
  printf("%s members=%s count=%llu hash=%016llx ring=%s next=%s\n", what,
         ids_of(st.members, st.member_count, ids, sizeof ids), (unsigned long long)st.view_count,
         (unsigned long long)st.view_hash, st.view_ring, next);
  fflush(stdout);
}

static int body_ok(const uint8_t* msg, size_t len, const struct header* h) {
  size_t i;
  for (i = sizeof *h; i < len; i++)
    if (msg[i] != pattern(h->nodeid, h->seq, i)) return 0;
  return 1;
}

/* Per sender: each message once, in order, none missing within a view. */
static void check_order(struct sender* s, uint32_t pid, uint64_t seq) {
  if (s->seen && s->pid == pid && !s->gap_allowed && seq != s->last_seq + 1)
    fail(seq <= s->last_seq ? "duplicate_or_reordered" : "missing_messages", (long long)seq);
  if (s->seen && s->pid == pid && s->gap_allowed && seq <= s->last_seq)
    fail("duplicate_after_join", (long long)seq);
  s->pid = pid;
  s->last_seq = seq;
  s->seen = 1;
  s->gap_allowed = 0;
}

static void deliver_cb(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t len) {
  struct header h;
  (void)handle;
  (void)group;
  if (len < sizeof h || nodeid == 0 || nodeid > MAX_NODE) {
    fail("bad_message", (long long)len);
    return;
  }
  open_view(); /* a view still waiting for its ring (none expected) */
  memcpy(&h, msg, sizeof h);
  if (h.magic != MAGIC || h.nodeid != nodeid || !body_ok(msg, len, &h)) {
    fail("bad_content", (long long)nodeid);
    return;
  }
  check_order(&st.senders[nodeid], pid, h.seq);
  st.senders[nodeid].last_delivery_ns = now_ns();
  hash_in(&st.view_hash, nodeid);
  hash_in(&st.view_hash, h.seq);
  if (st.hashes != NULL) fprintf(st.hashes, "%016llx\n", (unsigned long long)st.view_hash);
  st.view_count++;
  st.delivered++;
}

static const char* reason_name(uint32_t r) {
  switch (r) {
    case CPG_REASON_JOIN:
      return "join";
    case CPG_REASON_LEAVE:
      return "leave";
    case CPG_REASON_NODEDOWN:
      return "nodedown";
    case CPG_REASON_NODEUP:
      return "nodeup";
    case CPG_REASON_PROCDOWN:
      return "procdown";
    default:
      return "unknown";
  }
}

static void print_nodes(const char* what, const struct cpg_address* list, size_t n) {
  size_t i;
  printf(" %s=", what);
  for (i = 0; i < n; i++)
    printf("%s%u:%s", i ? "," : "", list[i].nodeid, reason_name(list[i].reason));
}

static void print_down_ms(const struct cpg_address* left, size_t n, uint64_t at_ns) {
  size_t i;
  printf(" down_ms=");
  for (i = 0; i < n; i++) {
    const struct sender* s = left[i].nodeid <= MAX_NODE ? &st.senders[left[i].nodeid] : NULL;
    if (s != NULL && s->last_delivery_ns != 0)
      printf("%s%u:%llu", i ? "," : "", left[i].nodeid,
             (unsigned long long)((at_ns - s->last_delivery_ns) / 1000000));
  }
}

/* Opens the view of the pending confchg, keyed by the ring in st.ring: the
 * view that ends goes on to it (next=ring/members). */
static void open_view(void) {
  char ids[MAX_NODE * 12], next[MAX_NODE * 12 + 64];
  size_t i;
  if (!change.pending) return;
  change.pending = 0;
  if (st.member_count > 0) {
    snprintf(next, sizeof next, "%s/%s", st.ring,
             ids_of(change.members, change.member_count, ids, sizeof ids));
    print_view_state("view_end", next);
  }
  memcpy(st.view_ring, st.ring, sizeof st.ring);
  memcpy(st.members, change.members, sizeof change.members);
  st.member_count = change.member_count;
  st.view_count = 0;
  st.view_hash = 0xcbf29ce484222325ull;
  for (i = 0; i < change.joined_count; i++)
    if (change.joined[i].nodeid <= MAX_NODE) st.senders[change.joined[i].nodeid].gap_allowed = 1;
  ids_of(st.members, st.member_count, ids, sizeof ids);
  if (st.hashes != NULL) fprintf(st.hashes, "view members=%s ring=%s\n", ids, st.view_ring);
  printf("view members=%s", ids);
  print_nodes("left", change.left, change.left_count);
  print_down_ms(change.left, change.left_count, change.at_ns);
  print_nodes("joined", change.joined, change.joined_count);
  printf("\n");
  fflush(stdout);
}

static size_t copy_addresses(struct cpg_address* to, const struct cpg_address* from, size_t n) {
  if (n > MAX_NODE) n = MAX_NODE;
  memcpy(to, from, n * sizeof *from);
  return n;
}

/* A confchg that takes nodes out (NODEDOWN) comes right before the totem
 * confchg of the ring without them (docs/api.md, "Configuration changes"):
 * its view is opened there, so that a view is keyed by the ring that
 * installed it at every member. Other confchgs (JOIN, LEAVE, and NODEUP at
 * the end of a sync) come within the current ring: opened at once. */
static void confchg_cb(cpg_handle_t handle, const struct cpg_name* group,
                       const struct cpg_address* members, size_t member_count,
                       const struct cpg_address* left, size_t left_count,
                       const struct cpg_address* joined, size_t joined_count) {
  size_t i;
  int nodedown = 0;
  (void)handle;
  (void)group;
  open_view(); /* a previous one still waiting for its ring (none expected) */
  change.at_ns = now_ns();
  change.member_count = member_count < MAX_NODE ? member_count : MAX_NODE;
  for (i = 0; i < change.member_count; i++)
    change.members[i] = members[i].nodeid;
  change.left_count = copy_addresses(change.left, left, left_count);
  change.joined_count = copy_addresses(change.joined, joined, joined_count);
  for (i = 0; i < change.left_count; i++)
    nodedown |= change.left[i].reason == CPG_REASON_NODEDOWN;
  change.pending = 1;
  if (!nodedown) open_view();
}

static void totem_cb(cpg_handle_t handle, struct cpg_ring_id ring_id, uint32_t count,
                     const uint32_t* members) {
  char ids[MAX_NODE * 12];
  (void)handle;
  snprintf(st.ring, sizeof st.ring, "%u.%llu", ring_id.nodeid, (unsigned long long)ring_id.seq);
  printf("ring id=%s members=%s\n", st.ring,
         ids_of(members, count < MAX_NODE ? count : MAX_NODE, ids, sizeof ids));
  fflush(stdout);
  open_view();
}

/* One message of the stream; 0 when the ring refused it for now. */
static int send_one(cpg_handle_t handle, uint8_t* buf, size_t bytes) {
  struct header h = {MAGIC, st.nodeid, st.sent + 1};
  struct iovec iov = {buf, bytes};
  size_t i;
  cs_error_t rc;
  memcpy(buf, &h, sizeof h);
  for (i = sizeof h; i < bytes; i++)
    buf[i] = pattern(h.nodeid, h.seq, i);
  rc = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1);
  if (rc == CS_OK) {
    st.sent++;
    return 1;
  }
  if (rc != CS_ERR_TRY_AGAIN) fail("mcast", rc);
  return 0;
}

/* Reads and runs the commands of stdin; 1 on "exit" or end of input. */
static int commands(int* sending) {
  static char line[256];
  static size_t used = 0;
  ssize_t n = read(STDIN_FILENO, line + used, sizeof line - 1 - used);
  char* nl;
  if (n <= 0) return n == 0 || (errno != EAGAIN && errno != EINTR);
  used += (size_t)n;
  line[used] = '\0';
  while ((nl = strchr(line, '\n')) != NULL) {
    *nl = '\0';
    if (strcmp(line, "stop") == 0) *sending = 0;
    if (strcmp(line, "start") == 0) *sending = 1;
    if (strcmp(line, "report") == 0) {
      open_view();
      print_view_state("report", "end");
    }
    if (strcmp(line, "exit") == 0) return 1;
    used -= (size_t)(nl + 1 - line);
    memmove(line, nl + 1, used + 1);
  }
  if (used == sizeof line - 1) used = 0; /* an overlong line: dropped */
  return 0;
}

static void tick(uint64_t now, uint64_t* next_tick_ns) {
  char ids[MAX_NODE * 12];
  if (now < *next_tick_ns) return;
  *next_tick_ns = now + 2000000000ull;
  printf("tick members=%s count=%llu delivered=%llu sent=%llu\n",
         ids_of(st.members, st.member_count, ids, sizeof ids), (unsigned long long)st.view_count,
         (unsigned long long)st.delivered, (unsigned long long)st.sent);
  fflush(stdout);
}

/* Dispatches, sends on schedule and reads commands until "exit". */
static void run(cpg_handle_t handle, int fd, long rate, uint8_t* buf, size_t bytes) {
  const uint64_t period_ns = 1000000000ull / (uint64_t)rate;
  uint64_t next_send_ns = now_ns(), next_tick_ns = now_ns();
  int sending = 1, stdin_open = 1;
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    uint64_t now = now_ns();
    int wait_ms = 10;
    if (sending && st.member_count > 0 && now >= next_send_ns) {
      if (send_one(handle, buf, bytes)) next_send_ns += period_ns;
      if (next_send_ns + 100 * period_ns < now) next_send_ns = now; /* no catch-up burst */
    }
    if (poll(p, stdin_open ? 2 : 1, wait_ms) < 0 && errno != EINTR) {
      fail("poll", errno);
      return;
    }
    if (p[0].revents & POLLIN) {
      cs_error_t rc = cpg_dispatch(handle, CS_DISPATCH_ALL);
      if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN) fail("dispatch", rc);
    }
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP)) && commands(&sending)) return;
    tick(now_ns(), &next_tick_ns);
  }
}

/* RINGCAST_VIEW_HASHES, fully buffered (a write every ~60,000 deliveries). */
static int open_hashes(void) {
  static char buffer[1 << 20];
  const char* path = getenv("RINGCAST_VIEW_HASHES");
  if (path == NULL || *path == '\0') return 1;
  st.hashes = fopen(path, "w");
  if (st.hashes == NULL) {
    printf("error cannot_write_view_hashes %d\n", errno);
    return 0;
  }
  setvbuf(st.hashes, buffer, _IOFBF, sizeof buffer);
  return 1;
}

int main(int argc, char** argv) {
  const long rate = argc > 1 ? atol(argv[1]) : 100;
  const size_t bytes = argc > 2 ? (size_t)atol(argv[2]) : 64;
  cpg_model_v1_data_t model = {CPG_MODEL_V1, deliver_cb, confchg_cb, totem_cb,
                               CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF};
  struct cpg_name group;
  cpg_handle_t handle;
  uint8_t* buf;
  int fd = -1;
  cs_error_t rc;
  if (rate < 1 || rate > 100000 || bytes < sizeof(struct header) || bytes > 65536) {
    fprintf(stderr, "usage: cpg_stream [RATE 1..100000] [BYTES 16..65536]\n");
    return 2;
  }
  rc = cpg_model_initialize(&handle, CPG_MODEL_V1, (cpg_model_data_t*)&model, NULL);
  if (rc != CS_OK) {
    printf("error initialize %d\n", rc);
    return 1;
  }
  cpg_local_get(handle, &st.nodeid);
  st.pid = (uint32_t)getpid();
  printf("local nodeid=%u pid=%u\n", st.nodeid, st.pid);
  fflush(stdout);
  group.length = (uint32_t)strlen(GROUP);
  memcpy(group.value, GROUP, group.length);
  if (cpg_join(handle, &group) != CS_OK || cpg_fd_get(handle, &fd) != CS_OK) {
    printf("error join\n");
    return 1;
  }
  buf = malloc(bytes);
  if (buf == NULL) return 1;
  if (!open_hashes()) return 1;
  run(handle, fd, rate, buf, bytes);
  open_view();
  print_view_state("final", "end");
  /* The view hashes are complete before the host reads "exit": it compares
   * them as soon as it sees that line. */
  if (st.hashes != NULL && fclose(st.hashes) != 0) fail("write_view_hashes", errno);
  st.hashes = NULL;
  printf("exit failures=%u delivered=%llu sent=%llu\n", st.failures,
         (unsigned long long)st.delivered, (unsigned long long)st.sent);
  fflush(stdout);
  free(buf);
  cpg_finalize(handle);
  return st.failures == 0 ? 0 : 1;
}
