/*
 * test_syslog5424.c: RFC 5424 messages and RFC 5425 frames for the SIEM
 * stream, table-driven; each message is also tried with every buffer one
 * byte too small or smaller (-1, output "").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "syslog5424.h"

#define TS	"2026-12-03T21:02:08.123456Z"

struct fmt_case {
	struct pc_syslog5424	 m;
	const char		*want;	/* NULL: refused */
};

static const struct fmt_case	fmt_cases[] = {
	{ { 13, 6, TS, "pc1", "payconsole", 4242, 17, 9, "login.success",
	    "{\"id\":17}" },
	  "<110>1 " TS " pc1 payconsole 4242 login.success "
	  "[pc@32473 id=\"17\" seq=\"9\" type=\"login.success\"] {\"id\":17}" },
	/* Failure and denied warn: PRI 13 * 8 + 4. */
	{ { 13, 4, TS, "pc1", "payconsole", 1, 1, 1, "login.failure", "{}" },
	  "<108>1 " TS " pc1 payconsole 1 login.failure "
	  "[pc@32473 id=\"1\" seq=\"1\" type=\"login.failure\"] {}" },
	/* NILVALUE for empty fields; no body, no trailing space. */
	{ { 0, 0, NULL, "", NULL, 0, 0, 0, NULL, NULL },
	  "<0>1 - - - 0 - [pc@32473 id=\"0\" seq=\"0\" type=\"\"]" },
	{ { 23, 7, TS, "h", "a", 1, 2, 3, "x", "" },
	  "<191>1 " TS " h a 1 x [pc@32473 id=\"2\" seq=\"3\" type=\"x\"]" },
	/* SD-PARAM escapes '"', '\' and ']'; MSGID keeps printable ASCII. */
	{ { 13, 6, TS, "h", "a", 1, 2, 3, "a\"b\\c]d", "{}" },
	  "<110>1 " TS " h a 1 a\"b\\c]d "
	  "[pc@32473 id=\"2\" seq=\"3\" type=\"a\\\"b\\\\c\\]d\"] {}" },
	{ { 13, 6, TS, "my host\n", "pay console", 1, 2, 3, "t", "{}" },
	  "<110>1 " TS " my_host_ pay_console 1 t "
	  "[pc@32473 id=\"2\" seq=\"3\" type=\"t\"] {}" },
	/* MSGID is cut at 32; the SD keeps the whole type. */
	{ { 13, 6, TS, "h", "a", 1, 2, 3,
	    "approvals.request_user_expired_after_the_ttl", "{}" },
	  "<110>1 " TS " h a 1 approvals.request_user_expired_a "
	  "[pc@32473 id=\"2\" seq=\"3\" "
	  "type=\"approvals.request_user_expired_after_the_ttl\"] {}" },
	/* Out of range: refused. */
	{ { 24, 6, TS, "h", "a", 1, 2, 3, "t", "{}" }, NULL },
	{ { 13, 8, TS, "h", "a", 1, 2, 3, "t", "{}" }, NULL },
	{ { -1, 6, TS, "h", "a", 1, 2, 3, "t", "{}" }, NULL },
	{ { 13, 6, TS, "h", "a", 1, -2, 3, "t", "{}" }, NULL },
	{ { 13, 6, TS, "h", "a", 1, 2, -3, "t", "{}" }, NULL },
	{ { 13, 6, TS, "h", "a", -1, 2, 3, "t", "{}" }, NULL },
};

static void
test_format_table(void **state)
{
	char		out[1024];
	size_t		i, sz;
	int		n;

	(void)state;
	for (i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		n = pc_syslog5424_format(&fmt_cases[i].m, out, sizeof(out));
		if (fmt_cases[i].want == NULL) {
			if (n != -1 || out[0] != '\0')
				fail_msg("case %zu: accepted", i);
			continue;
		}
		if (n == -1 || strcmp(out, fmt_cases[i].want) != 0)
			fail_msg("case %zu: got '%s'", i, out);
		assert_int_equal(n, (int)strlen(fmt_cases[i].want));
		/* Every smaller buffer fails whole; the exact one fits. */
		for (sz = 1; sz <= (size_t)n; sz++) {
			assert_int_equal(pc_syslog5424_format(&fmt_cases[i].m,
			    out, sz), -1);
			assert_string_equal(out, "");
		}
		assert_int_equal(pc_syslog5424_format(&fmt_cases[i].m, out,
		    (size_t)n + 1), n);
	}
}

static void
test_format_args(void **state)
{
	char	out[8];

	(void)state;
	assert_int_equal(pc_syslog5424_format(NULL, out, sizeof(out)), -1);
	assert_int_equal(pc_syslog5424_format(&fmt_cases[0].m, NULL, 8), -1);
	assert_int_equal(pc_syslog5424_format(&fmt_cases[0].m, out, 0), -1);
}

static const struct {
	size_t		 len;
	size_t		 outlen;
	const char	*want;	/* NULL: refused */
} frame_cases[] = {
	{ 1, 16, "1 " },
	{ 123, 16, "123 " },
	{ 999999999, 16, "999999999 " },
	{ 123, 5, "123 " },
	{ 123, 4, NULL },		/* no room for the NUL */
	{ 0, 16, NULL },		/* RFC 5425: MSG-LEN is NONZERO-DIGIT */
	{ 1000000000, 16, NULL },
};

static void
test_frame_table(void **state)
{
	char	out[16];
	size_t	i;
	int	n;

	(void)state;
	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		n = pc_syslog5424_frame(frame_cases[i].len, out,
		    frame_cases[i].outlen);
		if (frame_cases[i].want == NULL) {
			assert_int_equal(n, -1);
			continue;
		}
		assert_string_equal(out, frame_cases[i].want);
		assert_int_equal(n, (int)strlen(frame_cases[i].want));
	}
	assert_true(PC_SYSLOG5424_FRAME_MAX >= (int)strlen("999999999 "));
}

static void
test_severity(void **state)
{
	(void)state;
	assert_int_equal(pc_syslog5424_severity("failure"), 4);
	assert_int_equal(pc_syslog5424_severity("denied"), 4);
	assert_int_equal(pc_syslog5424_severity("success"), 6);
	assert_int_equal(pc_syslog5424_severity("info"), 6);
	assert_int_equal(pc_syslog5424_severity(NULL), 6);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_format_args),
		cmocka_unit_test(test_frame_table),
		cmocka_unit_test(test_severity),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
