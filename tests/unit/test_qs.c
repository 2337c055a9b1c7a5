/*
 * test_qs.c: strict query-string parsing, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qs.h"

static const char *const allowed[] = { "status", "limit", "order_prefix",
    "cursor", NULL };

static const struct {
	const char	*q;
	int		ok;
	const char	*name, *value;	/* one value to check on success */
} cases[] = {
	{ "", 1, "status", NULL },
	{ "status=captured", 1, "status", "captured" },
	{ "status=captured&limit=50", 1, "limit", "50" },
	{ "order_prefix=ORD%2D00", 1, "order_prefix", "ORD-00" },
	{ "order_prefix=a+b", 1, "order_prefix", "a b" },
	{ "order_prefix=%E5%B1%B1", 1, "order_prefix", "\xe5\xb1\xb1" },
	{ "status=", 1, "status", NULL },
	{ "unknown=1", 0, NULL, NULL },
	{ "Status=captured", 0, NULL, NULL },
	{ "status=a&status=b", 0, NULL, NULL },
	{ "status", 0, NULL, NULL },
	{ "&status=a", 0, NULL, NULL },
	{ "status=a&", 0, NULL, NULL },
	{ "status=a&&limit=1", 0, NULL, NULL },
	{ "status=%4", 0, NULL, NULL },
	{ "status=%zz", 0, NULL, NULL },
	{ "status=%00", 0, NULL, NULL },
	{ "status=%0a", 0, NULL, NULL },
	{ "status=%7f", 0, NULL, NULL },
	{ "status=%c0%af", 0, NULL, NULL },
	{ "status=%c2%85", 0, NULL, NULL },		/* C1 control NEL */
	{ "status=%c2%9f", 0, NULL, NULL },
	{ "order_prefix=%c2%a0", 1, "order_prefix", "\xc2\xa0" },
	{ "status=%ed%a0%80", 0, NULL, NULL },
	{ "status=%ff", 0, NULL, NULL },
	{ "=x", 0, NULL, NULL },
};

static void
test_table(void **state)
{
	struct pc_qs	qs;
	size_t		i;
	const char	*v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((pc_qs_parse(&qs, cases[i].q, allowed) == 0) !=
		    cases[i].ok)
			fail_msg("case %zu: %s", i, cases[i].q);
		if (!cases[i].ok)
			continue;
		v = pc_qs_get(&qs, cases[i].name);
		if (cases[i].value == NULL ? v != NULL :
		    (v == NULL || strcmp(v, cases[i].value) != 0))
			fail_msg("case %zu value", i);
	}
}

static void
test_too_long(void **state)
{
	struct pc_qs	qs;
	char		q[PC_QS_VALUE_MAX + 32];

	(void)state;
	memcpy(q, "status=", 7);
	memset(q + 7, 'a', PC_QS_VALUE_MAX);
	q[7 + PC_QS_VALUE_MAX] = '\0';
	assert_int_equal(pc_qs_parse(&qs, q, allowed), -1);
	q[7 + PC_QS_VALUE_MAX - 1] = '\0';
	assert_int_equal(pc_qs_parse(&qs, q, allowed), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_too_long),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
