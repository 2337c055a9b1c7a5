/*
 * clockjump.h: has the wall clock jumped? (pure; control.c asks it at
 * every control check).
 *
 * Between two checks the monotonic clock measures the time that really
 * passed; the wall clock should have moved by the same amount. When it
 * moved by more than PC_CLOCKJUMP_MAX_MS more or less (set by hand, NTP
 * stepping it, a VM resumed with a stale clock), the timestamps of the
 * events recorded across that moment cannot be trusted (PCI DSS 10.6,
 * 10.7.2). A slow NTP slew never comes near 2 s between two checks.
 */
#ifndef PC_CLOCKJUMP_H
#define PC_CLOCKJUMP_H

#include <stdint.h>

#define PC_CLOCKJUMP_MAX_MS	2000

/* Two readings of both clocks, in milliseconds. */
struct pc_clockjump_sample {
	int64_t		real_ms;
	int64_t		mono_ms;
};

/*
 * How far the wall clock moved against the monotonic clock from prev to
 * now, in ms (positive: forward). *jumped is 1 when that is more than
 * PC_CLOCKJUMP_MAX_MS either way.
 */
int64_t	pc_clockjump_skew(const struct pc_clockjump_sample *prev,
	    const struct pc_clockjump_sample *now, int *jumped);

#endif
