/* Values outside every enum parameter of the C API, passed from C
 * (c_enum_args.c), for the C++ tests that hold the handles. */
#ifndef RINGCAST_TESTS_C_ENUM_ARGS_H
#define RINGCAST_TESTS_C_ENUM_ARGS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Each returns the number of failed checks (printed to stderr). */

/* cs_strerror(), cpg_model_initialize() and quorum_model_initialize(): no
 * handle, no node. */
int c_enum_args_without_handle(void);
/* cpg_dispatch(), cpg_mcast_joined(), cpg_zcb_mcast_joined() and
 * cpg_iteration_initialize() on an open cpg handle (either mode). */
int c_enum_args_cpg(uint64_t cpg_handle);
/* quorum_dispatch() on an open quorum handle (either mode). */
int c_enum_args_quorum(uint64_t quorum_handle);

#ifdef __cplusplus
}
#endif

#endif
