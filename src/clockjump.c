/*
 * clockjump.c: the wall clock against the monotonic clock (pure).
 */
#include "clockjump.h"

int64_t
pc_clockjump_skew(const struct pc_clockjump_sample *prev,
    const struct pc_clockjump_sample *now, int *jumped)
{
	int64_t		skew;

	skew = (now->real_ms - prev->real_ms) -
	    (now->mono_ms - prev->mono_ms);
	*jumped = skew > PC_CLOCKJUMP_MAX_MS || skew < -PC_CLOCKJUMP_MAX_MS;
	return (skew);
}
