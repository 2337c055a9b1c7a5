/*
 * test_halfyear.c: half-year names, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "halfyear.h"

static const struct {
	const char	*s;
	int		ok, year, half;
} cases[] = {
	{ "2026-H1", 1, 2026, 1 },
	{ "2026-H2", 1, 2026, 2 },
	{ "2000-H1", 1, 2000, 1 },
	{ "9999-H2", 1, 9999, 2 },
	{ "1999-H2", 0, 0, 0 },
	{ "2026-H0", 0, 0, 0 },
	{ "2026-H3", 0, 0, 0 },
	{ "2026-h1", 0, 0, 0 },
	{ "2026H1", 0, 0, 0 },
	{ "2026-H12", 0, 0, 0 },
	{ "2026-H", 0, 0, 0 },
	{ "2026-W47", 0, 0, 0 },
	{ "2026-S1", 0, 0, 0 },
	{ "+026-H1", 0, 0, 0 },
	{ " 026-H1", 0, 0, 0 },
	{ "2026-H1 ", 0, 0, 0 },
	{ "2O26-H1", 0, 0, 0 },
	{ "\xd9\xa2""026-H1", 0, 0, 0 },
	{ "2026-\xef\xbc\xa8""1", 0, 0, 0 },
	{ "", 0, 0, 0 },
};

static void
test_parse_table(void **state)
{
	size_t	i;
	int	y, h, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		y = h = -7;
		rc = pc_halfyear_parse(cases[i].s, strlen(cases[i].s), &y, &h);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(y, cases[i].year);
			assert_int_equal(h, cases[i].half);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(y, -7);
			assert_int_equal(h, -7);
		}
	}
	/* The length is authoritative: no reading past it. */
	assert_int_equal(pc_halfyear_parse("2026-H1", 6, &y, &h), -1);
	assert_int_equal(pc_halfyear_parse("2026-H1x", 7, &y, &h), 0);
	assert_int_equal(pc_halfyear_parse(NULL, 7, &y, &h), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
