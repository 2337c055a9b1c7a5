/*
 * srcblock.h: per-source blocks as one worker sees them (srcblock.c):
 * logins refused for lack of a hashing slot charged to their source
 * (auth.source_busy(), migration 023), and the blocks the worker has
 * learnt, so a blocked source is answered before it waits for a slot.
 */
#ifndef PC_SRCBLOCK_H
#define PC_SRCBLOCK_H

#include <stdint.h>

void	pc_srcblock_busy(int, const uint8_t *);
int	pc_srcblock_blocked(const char *);
void	pc_srcblock_learn(const char *, int64_t);

#endif
