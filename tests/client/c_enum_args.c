/*
 * Every C API function that takes an enum, called from C with values the
 * enum does not hold: C lets a caller pass any int there. Each call must
 * give its documented answer (CS_ERR_INVALID_PARAM, or "Unknown error" from
 * cs_strerror()); the library must not read such a value as the C++ enum,
 * which is undefined (a clang -fsanitize=enum build stops on it).
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "c_enum_args.h"

static int failures = 0;

static void check(int ok, const char* what, int value) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s with %d\n", what, value);
    failures++;
  }
}

/* Beyond the range of each enum (the smallest bit field holding its values),
 * negative, and 0 where 0 is no value of the enum. */
static const int outside_dispatch_flags[] = {0, 5, 8, 9, -1, INT_MAX, INT_MIN};
static const int outside_guarantees[] = {4, 7, 256, -1, INT_MAX};
static const int outside_iteration_types[] = {0, 4, 9, -1, INT_MAX};
static const int outside_cpg_models[] = {0, 2, 3, -1, INT_MAX};
static const int outside_quorum_models[] = {2, 7, -1, INT_MAX};
static const int outside_errors[] = {0, 29, 33, 64, 1000, -1, INT_MAX, INT_MIN};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int c_enum_args_without_handle(void) {
  size_t i;
  failures = 0;
  for (i = 0; i < COUNT(outside_errors); i++) {
    const int v = outside_errors[i];
    check(strcmp(cs_strerror((cs_error_t)v), "Unknown error") == 0, "cs_strerror", v);
  }
  for (i = 0; i < COUNT(outside_cpg_models); i++) {
    const int v = outside_cpg_models[i];
    cpg_handle_t h = 0;
    check(cpg_model_initialize(&h, (cpg_model_t)v, NULL, NULL) == CS_ERR_INVALID_PARAM,
          "cpg_model_initialize", v);
    check(h == 0, "cpg_model_initialize leaves the handle", v);
  }
  for (i = 0; i < COUNT(outside_quorum_models); i++) {
    const int v = outside_quorum_models[i];
    quorum_handle_t h = 0;
    uint32_t type = 99;
    check(quorum_model_initialize(&h, (quorum_model_t)v, NULL, &type, NULL) == CS_ERR_INVALID_PARAM,
          "quorum_model_initialize", v);
    check(h == 0 && type == 99, "quorum_model_initialize leaves the outputs", v);
  }
  return failures;
}

int c_enum_args_cpg(uint64_t cpg_handle) {
  const cpg_handle_t h = cpg_handle;
  char byte = 'x';
  struct iovec piece;
  struct cpg_name group;
  size_t i;
  failures = 0;
  piece.iov_base = &byte;
  piece.iov_len = 1;
  memset(&group, 0, sizeof group);
  group.length = 1;
  group.value[0] = 'g';
  for (i = 0; i < COUNT(outside_dispatch_flags); i++) {
    const int v = outside_dispatch_flags[i];
    check(cpg_dispatch(h, (cs_dispatch_flags_t)v) == CS_ERR_INVALID_PARAM, "cpg_dispatch", v);
  }
  for (i = 0; i < COUNT(outside_guarantees); i++) {
    const int v = outside_guarantees[i];
    check(cpg_mcast_joined(h, (cpg_guarantee_t)v, &piece, 1) == CS_ERR_INVALID_PARAM,
          "cpg_mcast_joined", v);
    /* Refused on the guarantee before the buffer is looked at. */
    check(cpg_zcb_mcast_joined(h, (cpg_guarantee_t)v, &byte, 1) == CS_ERR_INVALID_PARAM,
          "cpg_zcb_mcast_joined", v);
  }
  for (i = 0; i < COUNT(outside_iteration_types); i++) {
    const int v = outside_iteration_types[i];
    cpg_iteration_handle_t it = 0;
    check(cpg_iteration_initialize(h, (cpg_iteration_type_t)v, NULL, &it) == CS_ERR_INVALID_PARAM,
          "cpg_iteration_initialize without a group", v);
    check(cpg_iteration_initialize(h, (cpg_iteration_type_t)v, &group, &it) == CS_ERR_INVALID_PARAM,
          "cpg_iteration_initialize with a group", v);
    check(it == 0, "cpg_iteration_initialize leaves the iteration handle", v);
  }
  return failures;
}

int c_enum_args_quorum(uint64_t quorum_handle) {
  size_t i;
  failures = 0;
  for (i = 0; i < COUNT(outside_dispatch_flags); i++) {
    const int v = outside_dispatch_flags[i];
    check(quorum_dispatch(quorum_handle, (cs_dispatch_flags_t)v) == CS_ERR_INVALID_PARAM,
          "quorum_dispatch", v);
  }
  return failures;
}
