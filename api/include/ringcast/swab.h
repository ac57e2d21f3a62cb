/*
 * Byte swaps in corosync's spelling: swab16(x), swab32(x), swab64(x) reverse
 * the bytes of a 16-, 32- or 64-bit value. As corosync's macros do, each
 * evaluates x once and yields a value of the unsigned type of its width.
 * corosync writes them as GNU statement expressions; here they are inline
 * functions, so they also work in strict ISO C and in C++.
 *
 * Typical use: the `msg` of a cpg deliver callback is writable precisely so
 * that a receiver can convert fields from the sender's byte order in place.
 */
#ifndef RINGCAST_SWAB_H
#define RINGCAST_SWAB_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
#define RINGCAST_SWAB_CAST_(type, value) static_cast<type>(value)
#else
#define RINGCAST_SWAB_CAST_(type, value) ((type)(value))
#endif

static inline uint16_t ringcast_swab16(uint16_t x) {
  return RINGCAST_SWAB_CAST_(uint16_t, ((x & 0x00ffU) << 8) | ((x & 0xff00U) >> 8));
}

static inline uint32_t ringcast_swab32(uint32_t x) {
  return RINGCAST_SWAB_CAST_(uint32_t, ((x & 0x000000ffUL) << 24) | ((x & 0x0000ff00UL) << 8) |
                                           ((x & 0x00ff0000UL) >> 8) | ((x & 0xff000000UL) >> 24));
}

static inline uint64_t ringcast_swab64(uint64_t x) {
  uint64_t low = ringcast_swab32(RINGCAST_SWAB_CAST_(uint32_t, x & 0xffffffffULL));
  uint64_t high = ringcast_swab32(RINGCAST_SWAB_CAST_(uint32_t, x >> 32));
  return (low << 32) | high;
}

#define swab16(x) ringcast_swab16(x)
#define swab32(x) ringcast_swab32(x)
#define swab64(x) ringcast_swab64(x)

#endif /* RINGCAST_SWAB_H */
