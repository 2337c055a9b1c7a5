/*
 * halfyear.c: half-year names (pure). The account review (PCI DSS 7.2.4,
 * every six months) is filed per half-year, as the access review is per
 * ISO week (isoweek.c); a name that parses here always names a
 * half-year the database accepts (audit.half_bounds()).
 */
#include "halfyear.h"

int
pc_halfyear_parse(const char *s, size_t len, int *year, int *half)
{
	size_t	i;
	int	y;

	if (s == NULL || len != 7 || s[4] != '-' || s[5] != 'H' ||
	    (s[6] != '1' && s[6] != '2'))
		return (-1);
	y = 0;
	for (i = 0; i < 4; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		y = y * 10 + (s[i] - '0');
	}
	if (y < 2000)
		return (-1);
	*year = y;
	*half = s[6] - '0';
	return (0);
}
