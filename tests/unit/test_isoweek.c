/*
 * test_isoweek.c: ISO week names. The oracle for the week count is the C
 * library's strftime("%V") of 28 December, which always falls in the
 * last ISO week of its year.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "isoweek.h"

static void
test_count_matches_libc(void **state)
{
	struct tm	tm;
	char		buf[8];
	int		y;

	(void)state;
	for (y = 2000; y <= 2400; y++) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = 11;
		tm.tm_mday = 28;
		tm.tm_hour = 12;
		assert_true(timegm(&tm) != (time_t)-1);
		assert_int_not_equal(strftime(buf, sizeof(buf), "%V", &tm), 0);
		assert_int_equal(pc_isoweek_count(y), atoi(buf));
	}
	/* Known years: 2020 and 2026 have 53 weeks, 2021 and 2025 52. */
	assert_int_equal(pc_isoweek_count(2020), 53);
	assert_int_equal(pc_isoweek_count(2026), 53);
	assert_int_equal(pc_isoweek_count(2021), 52);
	assert_int_equal(pc_isoweek_count(2025), 52);
}

static const struct {
	const char	*s;
	int		ok, year, week;
} cases[] = {
	{ "2026-W47", 1, 2026, 47 },
	{ "2026-W01", 1, 2026, 1 },
	{ "2026-W53", 1, 2026, 53 },
	{ "2020-W53", 1, 2020, 53 },
	{ "2021-W53", 0, 0, 0 },
	{ "2025-W53", 0, 0, 0 },
	{ "2026-W00", 0, 0, 0 },
	{ "2026-W54", 0, 0, 0 },
	{ "2026-w47", 0, 0, 0 },
	{ "2026W47", 0, 0, 0 },
	{ "2026-W4", 0, 0, 0 },
	{ "2026-W470", 0, 0, 0 },
	{ "1999-W10", 0, 0, 0 },
	{ "+026-W47", 0, 0, 0 },
	{ "2026-W4 ", 0, 0, 0 },
	{ "2026-W\xd9\xa4", 0, 0, 0 },
	{ "", 0, 0, 0 },
};

static void
test_parse_table(void **state)
{
	size_t	i;
	int	y, w, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		y = w = -7;
		rc = pc_isoweek_parse(cases[i].s, strlen(cases[i].s), &y, &w);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(y, cases[i].year);
			assert_int_equal(w, cases[i].week);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(y, -7);
			assert_int_equal(w, -7);
		}
	}
	/* The length is authoritative: no reading past it. */
	assert_int_equal(pc_isoweek_parse("2026-W47", 7, &y, &w), -1);
	assert_int_equal(pc_isoweek_parse(NULL, 8, &y, &w), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_matches_libc),
		cmocka_unit_test(test_parse_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
