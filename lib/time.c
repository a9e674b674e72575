/* time.c: deadlines on the monotonic clock, so that a timeout means the
 * same whatever happens to the wall clock meanwhile. */
#include <time.h>

#include "ipctools.h"

#define NS 1000000000LL

int64_t it_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

int64_t it_deadline(int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return IT_FOREVER;
	int64_t now = it_now_ns();
	return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

int64_t it_left_ns(int64_t deadline)
{
	if (deadline == IT_FOREVER)
		return IT_FOREVER;
	int64_t left = deadline - it_now_ns();
	return left > 0 ? left : 0;
}

int it_left_ms(int64_t deadline)
{
	int64_t left = it_left_ns(deadline);
	if (left == IT_FOREVER)
		return -1;
	int64_t ms = (left + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

struct timespec it_ns_to_ts(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS, .tv_nsec = ns % NS };
	return ts;
}

struct timespec it_realtime_abs(int64_t deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t left = it_left_ns(deadline);
	if (left == IT_FOREVER || left > INT64_MAX / 2)
		left = INT64_MAX / 4;
	int64_t nsec = now.tv_nsec + left % NS;
	struct timespec ts = { .tv_sec = now.tv_sec + left / NS + nsec / NS,
			       .tv_nsec = nsec % NS };
	return ts;
}
