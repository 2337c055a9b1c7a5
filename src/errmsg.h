/*
 * errmsg.h: a caller's error buffer filled printf-style (pure).
 */
#ifndef PC_ERRMSG_H
#define PC_ERRMSG_H

#include <stddef.h>

/* Nothing when err is NULL or errlen 0; always NUL-terminated. */
void	pc_errmsg(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
