/*
 * test_civilday.c: day names, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "civilday.h"

static const struct {
	const char	*s;
	int		ok, year, month, day;
} cases[] = {
	{ "2026-11-28", 1, 2026, 11, 28 },
	{ "2026-01-01", 1, 2026, 1, 1 },
	{ "2026-12-31", 1, 2026, 12, 31 },
	{ "2000-02-29", 1, 2000, 2, 29 },	/* divisible by 400 */
	{ "2024-02-29", 1, 2024, 2, 29 },
	{ "9999-12-31", 1, 9999, 12, 31 },
	{ "2100-02-29", 0, 0, 0, 0 },		/* divisible by 100 */
	{ "2026-02-29", 0, 0, 0, 0 },
	{ "2026-02-30", 0, 0, 0, 0 },
	{ "2026-04-31", 0, 0, 0, 0 },
	{ "2026-13-01", 0, 0, 0, 0 },
	{ "2026-00-10", 0, 0, 0, 0 },
	{ "2026-11-00", 0, 0, 0, 0 },
	{ "2026-11-32", 0, 0, 0, 0 },
	{ "1999-12-31", 0, 0, 0, 0 },
	{ "2026-1-28", 0, 0, 0, 0 },
	{ "2026-11-28 ", 0, 0, 0, 0 },
	{ "2026/11/28", 0, 0, 0, 0 },
	{ "20261128", 0, 0, 0, 0 },
	{ "2026-W47", 0, 0, 0, 0 },
	{ "2026-H1", 0, 0, 0, 0 },
	{ "+026-11-28", 0, 0, 0, 0 },
	{ "2026-+1-28", 0, 0, 0, 0 },
	{ "2O26-11-28", 0, 0, 0, 0 },
	{ "\xd9\xa2""026-11-2", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
};

static void
test_parse_table(void **state)
{
	size_t	i;
	int	y, m, d, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		y = m = d = -7;
		rc = pc_civilday_parse(cases[i].s, strlen(cases[i].s), &y, &m,
		    &d);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(y, cases[i].year);
			assert_int_equal(m, cases[i].month);
			assert_int_equal(d, cases[i].day);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(y, -7);
			assert_int_equal(m, -7);
			assert_int_equal(d, -7);
		}
	}
	/* The length is authoritative: no reading past it. */
	assert_int_equal(pc_civilday_parse("2026-11-28", 9, &y, &m, &d), -1);
	assert_int_equal(pc_civilday_parse("2026-11-28x", 10, &y, &m, &d), 0);
	assert_int_equal(pc_civilday_parse(NULL, 10, &y, &m, &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
