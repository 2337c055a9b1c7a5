/*
 * srcrate.c: refusals per source and minute (see srcrate.h). The caller
 * drains the table once a minute from a timer.
 */
#include <string.h>

#include "srcrate.h"

int
pc_srcrate_count(struct pc_srcrate *t, int family, const uint8_t *addr,
    uint64_t alert_at)
{
	struct pc_srcrate_slot	*s;
	size_t			 i, freeslot;

	t->total++;
	freeslot = PC_SRCRATE_SLOTS;
	for (i = 0; i < PC_SRCRATE_SLOTS; i++) {
		s = &t->slot[i];
		if (s->count == 0) {
			if (freeslot == PC_SRCRATE_SLOTS)
				freeslot = i;
			continue;
		}
		if (s->family != family || memcmp(s->addr, addr, 16) != 0)
			continue;
		s->count++;
		/* A source that keeps at it: say so now, once a minute. */
		if (alert_at > 0 && s->count >= alert_at && !s->alerted) {
			s->alerted = 1;
			return (PC_SRCRATE_ALERT);
		}
		return (PC_SRCRATE_MORE);
	}
	if (freeslot == PC_SRCRATE_SLOTS) {
		t->overflow++;
		return (PC_SRCRATE_FULL);
	}
	s = &t->slot[freeslot];
	s->family = family;
	memcpy(s->addr, addr, 16);
	s->count = 1;
	s->alerted = 0;
	if (alert_at == 1) {
		s->alerted = 1;
		return (PC_SRCRATE_ALERT);
	}
	return (PC_SRCRATE_FIRST);
}

uint64_t
pc_srcrate_drain(struct pc_srcrate *t,
    void (*fn)(int, const uint8_t *, uint64_t, void *), void *arg)
{
	uint64_t	over;
	size_t		i;

	for (i = 0; i < PC_SRCRATE_SLOTS; i++) {
		if (t->slot[i].count == 0)
			continue;
		if (fn != NULL)
			fn(t->slot[i].family, t->slot[i].addr,
			    t->slot[i].count, arg);
		t->slot[i].count = 0;
		t->slot[i].alerted = 0;
	}
	over = t->overflow;
	t->overflow = 0;
	return (over);
}
