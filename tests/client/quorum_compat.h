/* The C quorum program's entry points, for the simulation test that runs them. */
#ifndef RINGCAST_TESTS_QUORUM_COMPAT_H
#define RINGCAST_TESTS_QUORUM_COMPAT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Each returns the number of failed checks (printed to stderr). */
int quorum_compat_bad_handles(void);
int quorum_compat_session(int expect_quorate);

#ifdef __cplusplus
}
#endif

#endif
