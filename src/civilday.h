/*
 * civilday.h: day names, "2026-11-28" (pure).
 */
#ifndef PC_CIVILDAY_H
#define PC_CIVILDAY_H

#include <stddef.h>

/*
 * Parse exactly "YYYY-MM-DD", a day that exists in the Gregorian
 * calendar (year 2000..9999). 0 with *year, *month and *day set, or -1.
 */
int	pc_civilday_parse(const char *s, size_t len, int *year, int *month,
	    int *day);

#endif
