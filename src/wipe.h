/*
 * wipe.h: zero secrets in a way the compiler keeps (pure).
 */
#ifndef PC_WIPE_H
#define PC_WIPE_H

#include <stddef.h>

void	pc_wipe(void *, size_t);

#endif
