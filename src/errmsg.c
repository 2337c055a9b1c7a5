/*
 * errmsg.c: a caller's error buffer filled printf-style (pure).
 */
#include <stdarg.h>
#include <stdio.h>

#include "errmsg.h"

void
pc_errmsg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
