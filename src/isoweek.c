/*
 * isoweek.c: ISO 8601 week names (pure). The access review is filed per
 * ISO week; a name that parses here always names a week that exists, so
 * the database never sees W53 of a 52-week year.
 *
 * The week count could come from strftime("%V") of 28 December, but
 * that takes timegm(), gmtime_r(), strftime() and a number parse, each
 * with an error path, for what Gauss's rule does in eight lines below;
 * test_isoweek.c checks the rule against that strftime() for every year
 * of the 400-year Gregorian cycle (2000..2400).
 */
#include "isoweek.h"

static int	pc_isoweek_jan1_dow(int);

/* Day of the week of 1 January (0 = Sunday), Gauss's method. */
static int
pc_isoweek_jan1_dow(int year)
{
	int	y;

	y = year - 1;
	return ((1 + 5 * (y % 4) + 4 * (y % 100) + 6 * (y % 400)) % 7);
}

int
pc_isoweek_count(int year)
{
	int	dow, leap;

	dow = pc_isoweek_jan1_dow(year);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	/* 53 weeks when the year starts on a Thursday, or a leap year on
	 * a Wednesday. */
	return (dow == 4 || (leap && dow == 3) ? 53 : 52);
}

int
pc_isoweek_parse(const char *s, size_t len, int *year, int *week)
{
	size_t	i;
	int	y, w;

	if (s == NULL || len != 8 || s[4] != '-' || s[5] != 'W')
		return (-1);
	for (i = 0; i < len; i++) {
		if (i == 4 || i == 5)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return (-1);
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	w = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 2000 || w < 1 || w > pc_isoweek_count(y))
		return (-1);
	*year = y;
	*week = w;
	return (0);
}
