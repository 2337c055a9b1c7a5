/*
 * halfyear.h: half-year names, "2026-H1" (pure).
 */
#ifndef PC_HALFYEAR_H
#define PC_HALFYEAR_H

#include <stddef.h>

/*
 * Parse exactly "YYYY-Hn" (year 2000..9999; H1 January to June, H2 July
 * to December). 0 with *year and *half set, or -1.
 */
int	pc_halfyear_parse(const char *s, size_t len, int *year, int *half);

#endif
