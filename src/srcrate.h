/*
 * srcrate.h: refusals counted per source address and minute, in a
 * bounded table (pure, no Kore headers). The allowlist's refused
 * connections and login's "no hashing slot" answers are each recorded
 * once per source and minute with their count, so a flood cannot flood
 * the log or the audit trail, and nothing refused goes unrecorded.
 */
#ifndef PC_SRCRATE_H
#define PC_SRCRATE_H

#include <stddef.h>
#include <stdint.h>

#define PC_SRCRATE_SLOTS	256

struct pc_srcrate_slot {
	int		family;
	uint8_t		addr[16];
	uint64_t	count;
	int		alerted;
};

struct pc_srcrate {
	struct pc_srcrate_slot	slot[PC_SRCRATE_SLOTS];
	uint64_t		overflow;	/* refusals of sources not kept */
	uint64_t		total;		/* since start */
};

/* What pc_srcrate_count() saw. */
#define PC_SRCRATE_FIRST	0	/* first from this source this minute */
#define PC_SRCRATE_MORE		1
#define PC_SRCRATE_ALERT	2	/* reached alert_at just now (once) */
#define PC_SRCRATE_FULL		3	/* table full: counted in overflow */

/*
 * Count one refusal of (family, addr: 16 bytes, IPv4 in the first 4).
 * alert_at 0: never PC_SRCRATE_ALERT.
 */
int		pc_srcrate_count(struct pc_srcrate *, int family,
		    const uint8_t *addr, uint64_t alert_at);

/*
 * Call fn(family, addr, count, arg) for every source counted since the
 * last drain and forget them; return the overflow, which starts again.
 */
uint64_t	pc_srcrate_drain(struct pc_srcrate *,
		    void (*fn)(int, const uint8_t *, uint64_t, void *), void *);

#endif
