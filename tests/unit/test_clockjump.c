/*
 * test_clockjump.c: the wall clock against the monotonic clock,
 * table-driven. The integration tests cannot move the host's clock (it
 * is shared with everything else on the machine), so the decision is
 * tested here and control.c only reads the two clocks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "clockjump.h"

static const struct {
	const char	*what;
	int64_t		real0, mono0, real1, mono1;
	int64_t		skew;
	int		jumped;
} cases[] = {
	{ "steady", 1000000, 5000, 1030000, 35000, 0, 0 },
	{ "slew within 2 s", 1000000, 5000, 1031999, 35000, 1999, 0 },
	{ "exactly 2 s ahead", 1000000, 5000, 1032000, 35000, 2000, 0 },
	{ "just over 2 s ahead", 1000000, 5000, 1032001, 35000, 2001, 1 },
	{ "exactly 2 s back", 1000000, 5000, 1028000, 35000, -2000, 0 },
	{ "just over 2 s back", 1000000, 5000, 1027999, 35000, -2001, 1 },
	{ "set an hour ahead", 1000000, 5000, 4630000, 35000, 3600000, 1 },
	{ "set a day back", 90000000, 5000, 3630000, 35000, -86400000, 1 },
	{ "wall clock stood still", 1000000, 5000, 1000000, 35000, -30000, 1 },
	{ "a long check interval", 1000000, 0, 4600000, 3600000, 0, 0 },
	{ "the worker was busy", 1000000, 5000, 1125000, 130000, 0, 0 },
};

static void
test_skew_table(void **state)
{
	struct pc_clockjump_sample	a, b;
	size_t				i;
	int				jumped;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a.real_ms = cases[i].real0;
		a.mono_ms = cases[i].mono0;
		b.real_ms = cases[i].real1;
		b.mono_ms = cases[i].mono1;
		jumped = -1;
		if (pc_clockjump_skew(&a, &b, &jumped) != cases[i].skew ||
		    jumped != cases[i].jumped)
			fail_msg("%s", cases[i].what);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skew_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
