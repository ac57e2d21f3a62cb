/*
 * ringcast-zcb-send: a throughput sender that uses zero-copy buffers.
 *
 *   RINGCAST_CONFIG=cluster.conf ringcast-zcb-send [-g group] [-s bytes] [-n count]
 *
 * through the node's ringcastd (the default), or, with RINGCAST_MODE=embedded,
 * as a ring member of its own (the zero-copy path below is embedded mode's).
 *
 * Allocates one buffer with cpg_zcb_alloc(), writes a sequence number into
 * it before every send, and multicasts it with cpg_zcb_mcast_joined(): the
 * NIC reads the buffer itself, nothing is copied (below the node's
 * totem.zcb_copy_below_bytes, where a copy is cheaper, the library copies it).
 * Either way the buffer is free again when cpg_zcb_mcast_joined() returns, so
 * the next iteration may write it.
 * Prints messages/s and MB/s, and how many of its own messages came back.
 */
#include <corosync/cpg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long delivered = 0;

static void deliver(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid,
                    uint32_t pid, void* msg, size_t msg_len) {
  unsigned int local = 0;
  (void)group;
  (void)msg;
  (void)msg_len;
  cpg_local_get(handle, &local);
  if (nodeid == local && pid == (uint32_t)getpid()) delivered++;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  cpg_callbacks_t callbacks = {deliver, NULL};
  const char* name = "zcb";
  size_t size = 65536;
  unsigned long count = 10000, i;
  struct cpg_name group;
  cpg_handle_t handle;
  cs_error_t err;
  void* buffer = NULL;
  double start, elapsed;
  int opt;

  while ((opt = getopt(argc, argv, "g:s:n:")) != -1) {
    switch (opt) {
      case 'g':
        name = optarg;
        break;
      case 's':
        size = strtoul(optarg, NULL, 0);
        break;
      case 'n':
        count = strtoul(optarg, NULL, 0);
        break;
      default:
        fprintf(stderr, "usage: ringcast-zcb-send [-g group] [-s bytes] [-n count]\n");
        return 2;
    }
  }
  if (strlen(name) > CPG_MAX_NAME_LENGTH || size < sizeof(unsigned long)) {
    fprintf(stderr, "ringcast-zcb-send: bad group name or size\n");
    return 2;
  }
  if ((err = cpg_initialize(&handle, &callbacks)) != CS_OK) {
    fprintf(stderr, "ringcast-zcb-send: cpg_initialize: %s\n", cs_strerror(err));
    return 1;
  }
  group.length = (uint32_t)strlen(name);
  memcpy(group.value, name, group.length);
  if ((err = cpg_join(handle, &group)) != CS_OK ||
      (err = cpg_zcb_alloc(handle, size, &buffer)) != CS_OK) {
    fprintf(stderr, "ringcast-zcb-send: %s\n", cs_strerror(err));
    return 1;
  }
  memset(buffer, 0xab, size);
  start = now_s();
  for (i = 0; i < count; i++) {
    memcpy(buffer, &i, sizeof i);
    while ((err = cpg_zcb_mcast_joined(handle, CPG_TYPE_AGREED, buffer, size)) == CS_ERR_TRY_AGAIN)
      cpg_dispatch(handle, CS_DISPATCH_ALL);
    if (err != CS_OK) {
      fprintf(stderr, "ringcast-zcb-send: cpg_zcb_mcast_joined: %s\n", cs_strerror(err));
      return 1;
    }
    cpg_dispatch(handle, CS_DISPATCH_ALL);
  }
  while (delivered < count)
    cpg_dispatch(handle, CS_DISPATCH_ONE);
  elapsed = now_s() - start;
  printf("%lu messages of %zu bytes in %.3f s: %.0f msg/s, %.1f MB/s, %lu delivered back\n", count,
         size, elapsed, (double)count / elapsed, (double)count * (double)size / elapsed / 1e6,
         delivered);
  cpg_zcb_free(handle, buffer);
  cpg_finalize(handle);
  return delivered == count ? 0 : 1;
}
