/*
 * cpg_calls.so: an LD_PRELOAD observer for ci/corosync-tests. corosync's test
 * programs ignore the result of some calls (testzcgc's cpg_zcb_alloc(),
 * cpgbound's and testcpg's cpg_mcast_joined()), so their own output cannot
 * tell a refused send or allocation from a done one. This shim passes every
 * call through unchanged and writes to $CPG_CALLS_LOG:
 *   first FUNC RESULT call=N   the first time FUNC returned RESULT
 *   total FUNC RESULT=COUNT... at exit (not written when a signal kills it)
 * RESULT is the cs_error_t number. Nothing is written without CPG_CALLS_LOG.
 */
#define _GNU_SOURCE

#include <corosync/cpg.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

enum {
  F_INIT,
  F_MODEL_INIT,
  F_JOIN,
  F_MCAST,
  F_ZCB_ALLOC,
  F_ZCB_FREE,
  F_ZCB_MCAST,
  F_MEMB_GET,
  F_LOCAL_GET,
  F_COUNT
};
#define MAX_RESULT 64

static const char* const names[F_COUNT] = {
    "cpg_initialize",       "cpg_model_initialize", "cpg_join",
    "cpg_mcast_joined",     "cpg_zcb_alloc",        "cpg_zcb_free",
    "cpg_zcb_mcast_joined", "cpg_membership_get",   "cpg_local_get"};

static unsigned long counts[F_COUNT][MAX_RESULT + 1];
static FILE* log_file;

/* Opened on first use: a constructor could run before stdio is usable. */
static FILE* out(void) {
  if (log_file == NULL) {
    const char* path = getenv("CPG_CALLS_LOG");
    if (path == NULL || *path == '\0') return NULL;
    log_file = fopen(path, "a");
    if (log_file != NULL) setvbuf(log_file, NULL, _IOLBF, 0);
  }
  return log_file;
}

static cs_error_t record(int f, cs_error_t result) {
  const int r = (result >= 0 && result < MAX_RESULT) ? (int)result : MAX_RESULT;
  const unsigned long n = __atomic_add_fetch(&counts[f][r], 1, __ATOMIC_RELAXED);
  unsigned long calls = 0;
  for (int i = 0; i <= MAX_RESULT; ++i)
    calls += __atomic_load_n(&counts[f][i], __ATOMIC_RELAXED);
  FILE* o = n == 1 ? out() : NULL;
  if (o != NULL) fprintf(o, "first %s %d call=%lu\n", names[f], (int)result, calls);
  return result;
}

static void* next(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == NULL) {
    fprintf(stderr, "cpg_calls: %s not found\n", name);
    abort();
  }
  return p;
}

__attribute__((destructor)) static void totals(void) {
  FILE* o = out();
  if (o == NULL) return;
  for (int f = 0; f < F_COUNT; ++f) {
    int any = 0;
    for (int r = 0; r <= MAX_RESULT; ++r) {
      if (counts[f][r] == 0) continue;
      fprintf(o, "%s%s %d=%lu", any ? "" : "total ", any ? "" : names[f], r, counts[f][r]);
      any = 1;
    }
    if (any) fputc('\n', o);
  }
  fflush(o);
}

cs_error_t cpg_initialize(cpg_handle_t* handle, cpg_callbacks_t* callbacks) {
  static cs_error_t (*real)(cpg_handle_t*, cpg_callbacks_t*);
  if (real == NULL) real = next(__func__);
  return record(F_INIT, real(handle, callbacks));
}

cs_error_t cpg_model_initialize(cpg_handle_t* handle, cpg_model_t model,
                                cpg_model_data_t* model_data, void* context) {
  static cs_error_t (*real)(cpg_handle_t*, cpg_model_t, cpg_model_data_t*, void*);
  if (real == NULL) real = next(__func__);
  return record(F_MODEL_INIT, real(handle, model, model_data, context));
}

cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name* group) {
  static cs_error_t (*real)(cpg_handle_t, const struct cpg_name*);
  if (real == NULL) real = next(__func__);
  return record(F_JOIN, real(handle, group));
}

cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
                            const struct iovec* iovec, unsigned int iov_len) {
  static cs_error_t (*real)(cpg_handle_t, cpg_guarantee_t, const struct iovec*, unsigned int);
  if (real == NULL) real = next(__func__);
  return record(F_MCAST, real(handle, guarantee, iovec, iov_len));
}

cs_error_t cpg_zcb_alloc(cpg_handle_t handle, size_t size, void** buffer) {
  static cs_error_t (*real)(cpg_handle_t, size_t, void**);
  if (real == NULL) real = next(__func__);
  return record(F_ZCB_ALLOC, real(handle, size, buffer));
}

cs_error_t cpg_zcb_free(cpg_handle_t handle, void* buffer) {
  static cs_error_t (*real)(cpg_handle_t, void*);
  if (real == NULL) real = next(__func__);
  return record(F_ZCB_FREE, real(handle, buffer));
}

cs_error_t cpg_zcb_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee, void* msg,
                                size_t msg_len) {
  static cs_error_t (*real)(cpg_handle_t, cpg_guarantee_t, void*, size_t);
  if (real == NULL) real = next(__func__);
  return record(F_ZCB_MCAST, real(handle, guarantee, msg, msg_len));
}

cs_error_t cpg_membership_get(cpg_handle_t handle, struct cpg_name* groupName,
                              struct cpg_address* member_list, int* member_list_entries) {
  static cs_error_t (*real)(cpg_handle_t, struct cpg_name*, struct cpg_address*, int*);
  if (real == NULL) real = next(__func__);
  return record(F_MEMB_GET, real(handle, groupName, member_list, member_list_entries));
}

cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int* local_nodeid) {
  static cs_error_t (*real)(cpg_handle_t, unsigned int*);
  if (real == NULL) real = next(__func__);
  return record(F_LOCAL_GET, real(handle, local_nodeid));
}
