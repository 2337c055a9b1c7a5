/*
 * isoweek.h: ISO 8601 week names, "2026-W47" (pure).
 */
#ifndef PC_ISOWEEK_H
#define PC_ISOWEEK_H

#include <stddef.h>

/* Weeks in an ISO year: 52 or 53. */
int	pc_isoweek_count(int year);

/*
 * Parse exactly "YYYY-Www" (year 2000..9999, week 01..52 or 53 when the
 * year has one). 0 with *year and *week set, or -1.
 */
int	pc_isoweek_parse(const char *s, size_t len, int *year, int *week);

#endif
