/*
 * cpgbench: latency and throughput of a closed process group, through the
 * CPG API alone, so that the same source measures corosync (built against
 * Debian's libcpg) and ringcast (built against libringcast with
 * -I api/compat). Written in the manner of corosync's test programs.
 *
 *   cpgbench -m latency -s 1024 -n 2000          send -> self-delivery, one in flight
 *   cpgbench -m throughput -s 1024 -n 20000      as fast as flow control allows
 *   cpgbench -m both -n 2000 -N 20000            latency, then throughput (-N messages)
 *   cpgbench -m listen                           a passive member (multi-node runs):
 *                                                one line per phase of the sender's
 *
 * Options: -g GROUP (default "cpgbench"), -G agreed|safe, -w MEMBERS (wait
 * until the group has that many members before sending), -t SECONDS (give
 * up), -I NAME (the implementation's name in the output), -z (send from a
 * buffer of cpg_zcb_alloc() with cpg_zcb_mcast_joined(), as corosync's
 * cpgbenchzc does; the lines then carry "send":"zero-copy").
 *
 * Output: one JSON line on stdout, e.g.
 *   {"tool":"cpgbench","impl":"corosync","mode":"latency","size":1024,"count":2000,
 *    "guarantee":"agreed","members":1,"latency":{"samples":2000,"min_usec":...,
 *    "median_usec":...,"avg_usec":...,"p99_usec":...,"p99_9_usec":...,"max_usec":...}}
 *   {"tool":"cpgbench",...,"mode":"throughput",...,"elapsed_s":...,"msgs_per_s":...,
 *    "mb_per_s":...}
 * MB is 10^6 bytes. Errors go to stderr and the exit status is 1.
 *
 * Every message starts with a header (send time, index, flags); the sender
 * stamps it with CLOCK_MONOTONIC just before cpg_mcast_joined() and the
 * deliver callback measures against the same clock.
 */
#include <corosync/cpg.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FLAG_LAST 1u /* the last message of a phase: listeners report */
#define FLAG_END 2u  /* the sender's last message: listeners stop after it */

struct bench_header {
  uint64_t send_ns;
  uint64_t index;
  uint32_t flags;
  uint32_t reserved;
};

enum bench_mode { MODE_LATENCY, MODE_THROUGHPUT, MODE_BOTH, MODE_LISTEN };

static enum bench_mode mode = MODE_LATENCY;
static size_t msg_size = 64;
static uint64_t msg_count = 1000;     /* -n: latency samples, or throughput messages */
static uint64_t throughput_count = 0; /* -N: throughput messages of -m both (0: -n) */
static const char* group_text = "cpgbench";
static cpg_guarantee_t guarantee = CPG_TYPE_AGREED;
static unsigned int wait_members = 1;
static int timeout_s = 300;
static const char* impl_name = "cpg";
static int zero_copy; /* -z */

static cpg_handle_t handle;
static unsigned int my_nodeid;
static uint32_t my_pid;
static unsigned int group_members;
static int joined_seen;

static uint64_t* samples;
static uint64_t own_delivered;
static uint64_t delivered;
static uint64_t delivered_bytes;
static uint64_t first_send_ns;
static uint64_t last_deliver_ns;
static int sampling; /* the latency phase: own deliveries are timed */
static uint64_t phase_count;
static int last_seen;
static uint64_t end_seen_count; /* messages with FLAG_END (wait_for counts) */

/* A listener's account of each phase of the sender's, kept by the deliver
 * callback itself: one dispatch may deliver the end of a phase and the start
 * of the next. */
#define MAX_PHASES 8
struct listened_phase {
  uint64_t messages;
  uint64_t bytes;
  uint64_t first_ns;
  uint64_t last_ns;
};
static struct listened_phase phases[MAX_PHASES];
static unsigned int phases_done;

static void listen_account(size_t msg_len, uint64_t now, uint32_t flags) {
  struct listened_phase* p;

  if (phases_done == MAX_PHASES) return;
  p = &phases[phases_done];
  if (p->messages++ == 0) p->first_ns = now;
  p->bytes += msg_len;
  p->last_ns = now;
  if (flags & FLAG_LAST) phases_done++;
}

static uint64_t now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void deliver_fn(cpg_handle_t h, const struct cpg_name* group_name, uint32_t nodeid,
                       uint32_t pid, void* msg, size_t msg_len) {
  struct bench_header header;
  uint64_t now = now_ns();

  (void)h;
  (void)group_name;
  delivered++;
  delivered_bytes += msg_len;
  last_deliver_ns = now;
  if (msg_len < sizeof(header)) {
    return;
  }
  memcpy(&header, msg, sizeof(header));
  if (mode == MODE_LISTEN) listen_account(msg_len, now, header.flags);
  if (header.flags & FLAG_LAST) last_seen = 1;
  if (header.flags & FLAG_END) end_seen_count++;
  if (nodeid == my_nodeid && pid == my_pid) {
    if (sampling && own_delivered < phase_count) {
      samples[own_delivered] = now - header.send_ns;
    }
    own_delivered++;
  }
}

static void confchg_fn(cpg_handle_t h, const struct cpg_name* group_name,
                       const struct cpg_address* member_list, size_t member_list_entries,
                       const struct cpg_address* left_list, size_t left_list_entries,
                       const struct cpg_address* joined_list, size_t joined_list_entries) {
  size_t i;

  (void)h;
  (void)group_name;
  (void)left_list;
  (void)left_list_entries;
  (void)joined_list;
  (void)joined_list_entries;
  group_members = (unsigned int)member_list_entries;
  for (i = 0; i < member_list_entries; i++) {
    if (member_list[i].nodeid == my_nodeid && member_list[i].pid == my_pid) {
      joined_seen = 1;
    }
  }
}

static cpg_callbacks_t callbacks = {
    .cpg_deliver_fn = deliver_fn,
    .cpg_confchg_fn = confchg_fn,
};

static void fail(const char* what, cs_error_t err) {
  fprintf(stderr, "cpgbench (%s): %s failed: error %d\n", impl_name, what, (int)err);
  exit(1);
}

/* Runs the callbacks that are pending, waiting up to wait_ms for one. */
static void dispatch_for(int fd, int wait_ms) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  cs_error_t err;

  if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
    perror("cpgbench: poll");
    exit(1);
  }
  err = cpg_dispatch(handle, CS_DISPATCH_ALL);
  if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
    fail("cpg_dispatch", err);
  }
}

/* Dispatches until *counter reaches target, or fails after timeout_s. */
static void wait_for(int fd, const uint64_t* counter, uint64_t target, const char* what) {
  uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;

  while (*counter < target) {
    if (now_ns() > deadline) {
      fprintf(stderr, "cpgbench (%s): timed out waiting for %s (%" PRIu64 " of %" PRIu64 ")\n",
              impl_name, what, *counter, target);
      exit(1);
    }
    dispatch_for(fd, 100);
  }
}

/* Our own confchg, then as many members as asked for (-w). */
static void wait_joined(int fd) {
  uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull;

  while (!joined_seen || group_members < wait_members) {
    if (now_ns() > deadline) {
      fprintf(stderr, "cpgbench (%s): timed out waiting for %u members (%u)\n", impl_name,
              wait_members, group_members);
      exit(1);
    }
    dispatch_for(fd, 100);
  }
}

/* Multicasts one message, dispatching while flow control says try again. */
static void send_one(int fd, char* buffer, uint64_t index, uint32_t flags) {
  struct bench_header header;
  struct iovec iov;
  cs_error_t err;

  iov.iov_base = buffer;
  iov.iov_len = msg_size;
  for (;;) {
    header.send_ns = now_ns();
    header.index = index;
    header.flags = flags;
    header.reserved = 0;
    memcpy(buffer, &header, sizeof(header));
    err = zero_copy ? cpg_zcb_mcast_joined(handle, guarantee, buffer, msg_size)
                    : cpg_mcast_joined(handle, guarantee, &iov, 1);
    if (err == CS_OK) {
      return;
    }
    if (err != CS_ERR_TRY_AGAIN) {
      fail(zero_copy ? "cpg_zcb_mcast_joined" : "cpg_mcast_joined", err);
    }
    dispatch_for(fd, 1);
  }
}

static int compare_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a;
  uint64_t y = *(const uint64_t*)b;

  return x < y ? -1 : x > y;
}

static double percentile_usec(double fraction) {
  uint64_t i = (uint64_t)((double)phase_count * fraction);

  if (i >= phase_count) {
    i = phase_count - 1;
  }
  return (double)samples[i] / 1000.0;
}

static void print_start(const char* mode_text) {
  printf(
      "{\"tool\":\"cpgbench\",\"impl\":\"%s\",\"mode\":\"%s\",\"size\":%zu,"
      "\"count\":%" PRIu64 ",\"guarantee\":\"%s\",\"members\":%u",
      impl_name, mode_text, msg_size, phase_count, guarantee == CPG_TYPE_SAFE ? "safe" : "agreed",
      group_members);
  if (zero_copy && mode != MODE_LISTEN) printf(",\"send\":\"zero-copy\"");
}

static void print_latency(void) {
  double sum = 0;
  uint64_t i;

  qsort(samples, phase_count, sizeof(samples[0]), compare_u64);
  for (i = 0; i < phase_count; i++) {
    sum += (double)samples[i];
  }
  print_start("latency");
  printf(",\"latency\":{\"samples\":%" PRIu64
         ",\"min_usec\":%.3f,\"median_usec\":%.3f,"
         "\"avg_usec\":%.3f,\"p99_usec\":%.3f,\"p99_9_usec\":%.3f,\"max_usec\":%.3f}}\n",
         phase_count, (double)samples[0] / 1000.0, percentile_usec(0.5),
         sum / (double)phase_count / 1000.0, percentile_usec(0.99), percentile_usec(0.999),
         (double)samples[phase_count - 1] / 1000.0);
}

static void print_throughput(const char* mode_text) {
  double elapsed_s = (double)(last_deliver_ns - first_send_ns) / 1e9;

  print_start(mode_text);
  printf(",\"delivered\":%" PRIu64
         ",\"elapsed_s\":%.6f,\"msgs_per_s\":%.1f,"
         "\"mb_per_s\":%.3f}\n",
         delivered, elapsed_s, elapsed_s > 0 ? (double)delivered / elapsed_s : 0.0,
         elapsed_s > 0 ? (double)delivered_bytes / elapsed_s / 1e6 : 0.0);
}

/* Counters start again for the next phase (the callbacks stay the same). */
static void start_phase(uint64_t count, int sample) {
  phase_count = count;
  sampling = sample;
  own_delivered = 0;
  delivered = 0;
  delivered_bytes = 0;
  last_seen = 0;
}

/* flags: FLAG_END on the last message when this is the run's last phase. */
static void run_latency(int fd, char* buffer, uint64_t count, uint32_t end) {
  uint64_t i;

  start_phase(count, 1);
  for (i = 0; i < count; i++) {
    send_one(fd, buffer, i, i + 1 == count ? FLAG_LAST | end : 0);
    wait_for(fd, &own_delivered, i + 1, "self-delivery");
  }
  sampling = 0;
  print_latency();
}

static void run_throughput(int fd, char* buffer, uint64_t count, uint32_t end) {
  uint64_t i;

  start_phase(count, 0);
  first_send_ns = now_ns();
  for (i = 0; i < count; i++) {
    send_one(fd, buffer, i, i + 1 == count ? FLAG_LAST | end : 0);
    dispatch_for(fd, 0);
  }
  wait_for(fd, &own_delivered, count, "self-delivery");
  delivered_bytes = own_delivered * msg_size;
  delivered = own_delivered;
  print_throughput("throughput");
}

/* One line per phase of the sender's (its FLAG_LAST), once its FLAG_END
 * arrived. A phase's clock starts at its first delivery: a listener does not
 * send. */
static void run_listen(int fd) {
  unsigned int i;

  wait_for(fd, &end_seen_count, 1, "the sender's last message");
  for (i = 0; i < phases_done; i++) {
    phase_count = phases[i].messages;
    msg_size = (size_t)(phases[i].bytes / phases[i].messages);
    delivered = phases[i].messages;
    delivered_bytes = phases[i].bytes;
    first_send_ns = phases[i].first_ns;
    last_deliver_ns = phases[i].last_ns;
    print_throughput("listen");
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: cpgbench [-m latency|throughput|both|listen] [-s SIZE] [-n COUNT] [-N COUNT]\n"
          "                [-g GROUP] [-G agreed|safe] [-w MEMBERS] [-t SECONDS] [-I NAME] [-z]\n");
  exit(2);
}

static void parse(int argc, char* argv[]) {
  int opt;

  while ((opt = getopt(argc, argv, "m:s:n:N:g:G:w:t:I:zh")) != -1) {
    switch (opt) {
      case 'm':
        if (strcmp(optarg, "latency") == 0)
          mode = MODE_LATENCY;
        else if (strcmp(optarg, "throughput") == 0)
          mode = MODE_THROUGHPUT;
        else if (strcmp(optarg, "both") == 0)
          mode = MODE_BOTH;
        else if (strcmp(optarg, "listen") == 0)
          mode = MODE_LISTEN;
        else
          usage();
        break;
      case 's':
        msg_size = (size_t)strtoull(optarg, NULL, 10);
        break;
      case 'n':
        msg_count = strtoull(optarg, NULL, 10);
        break;
      case 'N':
        throughput_count = strtoull(optarg, NULL, 10);
        break;
      case 'g':
        group_text = optarg;
        break;
      case 'G':
        if (strcmp(optarg, "agreed") == 0)
          guarantee = CPG_TYPE_AGREED;
        else if (strcmp(optarg, "safe") == 0)
          guarantee = CPG_TYPE_SAFE;
        else
          usage();
        break;
      case 'w':
        wait_members = (unsigned int)atoi(optarg);
        break;
      case 't':
        timeout_s = atoi(optarg);
        break;
      case 'I':
        impl_name = optarg;
        break;
      case 'z':
        zero_copy = 1;
        break;
      default:
        usage();
    }
  }
  if (optind != argc || msg_size < sizeof(struct bench_header) || msg_count == 0 ||
      strlen(group_text) >= CPG_MAX_NAME_LENGTH) {
    usage();
  }
}

/* The message buffer: one of cpg_zcb_alloc() with -z, reused by every send
 * (each call returns once the buffer may be written again). */
static char* alloc_buffer(void) {
  void* buffer = NULL;
  cs_error_t err;

  if (zero_copy) {
    err = cpg_zcb_alloc(handle, msg_size, &buffer);
    if (err != CS_OK) fail("cpg_zcb_alloc", err);
  } else if ((buffer = malloc(msg_size)) == NULL) {
    fprintf(stderr, "cpgbench: out of memory\n");
    exit(1);
  }
  memset(buffer, 0x5a, msg_size);
  return buffer;
}

int main(int argc, char* argv[]) {
  struct cpg_name group;
  cs_error_t err;
  char* buffer;
  int fd;

  parse(argc, argv);
  samples = calloc(msg_count, sizeof(samples[0]));
  if (samples == NULL) {
    fprintf(stderr, "cpgbench: out of memory\n");
    return 1;
  }
  my_pid = (uint32_t)getpid();

  err = cpg_initialize(&handle, &callbacks);
  if (err != CS_OK) fail("cpg_initialize", err);
  buffer = alloc_buffer();
  err = cpg_local_get(handle, &my_nodeid);
  if (err != CS_OK) fail("cpg_local_get", err);
  err = cpg_fd_get(handle, &fd);
  if (err != CS_OK) fail("cpg_fd_get", err);

  group.length = (uint32_t)strlen(group_text);
  memcpy(group.value, group_text, group.length);
  do {
    err = cpg_join(handle, &group);
    if (err == CS_ERR_TRY_AGAIN) dispatch_for(fd, 10);
  } while (err == CS_ERR_TRY_AGAIN);
  if (err != CS_OK) fail("cpg_join", err);

  wait_joined(fd);

  if (mode == MODE_LATENCY) {
    run_latency(fd, buffer, msg_count, FLAG_END);
  } else if (mode == MODE_THROUGHPUT) {
    run_throughput(fd, buffer, msg_count, FLAG_END);
  } else if (mode == MODE_BOTH) {
    run_latency(fd, buffer, msg_count, 0);
    run_throughput(fd, buffer, throughput_count ? throughput_count : msg_count, FLAG_END);
  } else {
    run_listen(fd);
  }

  fflush(stdout);
  if (zero_copy) {
    err = cpg_zcb_free(handle, buffer);
    if (err != CS_OK) fail("cpg_zcb_free", err);
  } else {
    free(buffer);
  }
  cpg_finalize(handle);
  free(samples);
  return 0;
}
