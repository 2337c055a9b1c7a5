/*
 * test_srcrate.c: refusals per source and minute.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "srcrate.h"

struct seen {
	int		n;
	uint64_t	total;
	uint64_t	last;
};

static void
addr_of(uint8_t addr[16], unsigned int i)
{
	memset(addr, 0, 16);
	addr[0] = 10;
	addr[2] = (uint8_t)(i >> 8);
	addr[3] = (uint8_t)i;
}

static void
drained(int family, const uint8_t *addr, uint64_t count, void *arg)
{
	struct seen	*s = arg;

	(void)family;
	(void)addr;
	s->n++;
	s->total += count;
	s->last = count;
}

static struct pc_srcrate	t;

static void
test_first_more_alert_once(void **state)
{
	uint8_t		a[16], b[16];
	struct seen	s;
	int		i;

	(void)state;
	memset(&t, 0, sizeof(t));
	addr_of(a, 1);
	addr_of(b, 2);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 3), PC_SRCRATE_FIRST);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 3), PC_SRCRATE_MORE);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 3), PC_SRCRATE_ALERT);
	for (i = 0; i < 5; i++)
		assert_int_equal(pc_srcrate_count(&t, 2, a, 3),
		    PC_SRCRATE_MORE);
	/* Another family with the same bytes is another source. */
	assert_int_equal(pc_srcrate_count(&t, 10, a, 3), PC_SRCRATE_FIRST);
	assert_int_equal(pc_srcrate_count(&t, 2, b, 0), PC_SRCRATE_FIRST);
	assert_int_equal(pc_srcrate_count(&t, 2, b, 0), PC_SRCRATE_MORE);

	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_srcrate_drain(&t, drained, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.total, 8 + 1 + 2);
	assert_int_equal(t.total, 11);

	/* A new minute: first again, and the alert may come again. */
	assert_int_equal(pc_srcrate_count(&t, 2, a, 1), PC_SRCRATE_ALERT);
	memset(&s, 0, sizeof(s));
	(void)pc_srcrate_drain(&t, drained, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.last, 1);
	memset(&s, 0, sizeof(s));
	(void)pc_srcrate_drain(&t, drained, &s);
	assert_int_equal(s.n, 0);
}

static void
test_bounded(void **state)
{
	uint8_t		a[16];
	struct seen	s;
	unsigned int	i;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (i = 0; i < PC_SRCRATE_SLOTS; i++) {
		addr_of(a, i);
		assert_int_equal(pc_srcrate_count(&t, 2, a, 0),
		    PC_SRCRATE_FIRST);
	}
	addr_of(a, PC_SRCRATE_SLOTS);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 0), PC_SRCRATE_FULL);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 0), PC_SRCRATE_FULL);
	/* Known sources are still counted. */
	addr_of(a, 7);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 0), PC_SRCRATE_MORE);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pc_srcrate_drain(&t, drained, &s), 2);
	assert_int_equal(s.n, PC_SRCRATE_SLOTS);
	assert_int_equal(s.total, PC_SRCRATE_SLOTS + 1);
	assert_int_equal(pc_srcrate_drain(&t, NULL, NULL), 0);
	/* Room again after the drain. */
	addr_of(a, PC_SRCRATE_SLOTS);
	assert_int_equal(pc_srcrate_count(&t, 2, a, 0), PC_SRCRATE_FIRST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_more_alert_once),
		cmocka_unit_test(test_bounded),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
