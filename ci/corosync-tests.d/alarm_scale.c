/*
 * alarm_scale.so: LD_PRELOAD for corosync's cpgbench and cpgbenchzc under
 * `ci/corosync-tests --quick`. They time each round with alarm(10); this
 * makes alarm(n) fire after n * ALARM_SCALE_MS milliseconds (default 1000:
 * unchanged), so that their 7 and 50 rounds fit in CI. Only the timer's
 * period changes: the programs, their loops and their checks do not (they
 * report throughput from their own clock).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

unsigned int alarm(unsigned int seconds) {
  const char* env = getenv("ALARM_SCALE_MS");
  unsigned long ms_per_second = env != NULL ? strtoul(env, NULL, 10) : 1000;
  unsigned long ms = (unsigned long)seconds * (ms_per_second > 0 ? ms_per_second : 1000);
  struct itimerval next = {{0, 0}, {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000}};
  struct itimerval old;
  if (setitimer(ITIMER_REAL, &next, &old) != 0) return 0;
  /* Like alarm(): the seconds that were left, rounded up. */
  return (unsigned int)(old.it_value.tv_sec + (old.it_value.tv_usec > 0 ? 1 : 0));
}
