/*
 * wipe.c: zero secrets in a way the compiler keeps (explicit_bzero is
 * never optimised away as a dead store, unlike memset).
 */
#include <string.h>

#include "wipe.h"

void
pc_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}
