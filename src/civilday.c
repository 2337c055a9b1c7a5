/*
 * civilday.c: day names (pure). The daily review is filed per
 * site-local day, as the access review is per ISO week (isoweek.c) and
 * the account review per half-year (halfyear.c); a name that parses
 * here always names a day the database accepts (audit.day_bounds()).
 */
#include "civilday.h"

static int	pc_civilday_digits(const char *, size_t);

/* n ASCII digits as a number, or -1. */
static int
pc_civilday_digits(const char *s, size_t n)
{
	size_t	i;
	int	v;

	v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

int
pc_civilday_parse(const char *s, size_t len, int *year, int *month, int *day)
{
	static const int	mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	int			y, m, d, last;

	if (s == NULL || len != 10 || s[4] != '-' || s[7] != '-')
		return (-1);
	y = pc_civilday_digits(s, 4);
	m = pc_civilday_digits(s + 5, 2);
	d = pc_civilday_digits(s + 8, 2);
	if (y < 2000 || m < 1 || m > 12 || d < 1)
		return (-1);
	last = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		last = 29;
	if (d > last)
		return (-1);
	*year = y;
	*month = m;
	*day = d;
	return (0);
}
