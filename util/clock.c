/* clock.c - monotonic and wall clocks (see clock.h). */
#include "clock.h"

#include <time.h>

int64_t cg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cg_wall_s(void)
{
	return (int64_t)time(NULL);
}

void cg_iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
