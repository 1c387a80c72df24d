/*
 * clock.h - time: a monotonic clock for durations and deadlines, the wall
 * clock for what is recorded.
 */
#ifndef CG_UTIL_CLOCK_H
#define CG_UTIL_CLOCK_H

#include <stdint.h>

/* Monotonic clock in milliseconds. */
int64_t cg_now_ms(void);
/* Wall clock, seconds since the epoch, and an ISO-8601 UTC rendering. */
int64_t cg_wall_s(void);
void cg_iso8601(int64_t t, char out[32]);

#endif
