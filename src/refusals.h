/*
 * refusals.h: refusals counted and recorded per source and minute
 * (refusals.c).
 */
#ifndef PC_REFUSALS_H
#define PC_REFUSALS_H

#include <stdint.h>

#define PC_REFUSAL_DENIED	0	/* not on the allowlist */
#define PC_REFUSAL_BUSY		1	/* login: no hashing slot, 429 */

void	pc_refusals_count(int, int, const uint8_t *);

#endif
