/*
 * test_httperr.c: the JSON bodies of Kore's own error answers.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "httperr.h"

struct err_case {
	int		 status;
	const char	*body;
};

static void	test_body_row(void **);
static void	test_every_status_is_plain_json(void **);
static void	test_small_buffer_and_success(void **);

#define ROW(s, b)							\
	{ "status " #s, test_body_row, NULL, NULL,			\
	  &(struct err_case){ s, b } }

static const struct CMUnitTest tests[] = {
	ROW(400, "{\"error\":\"invalid_request\","
	    "\"message\":\"Malformed request.\"}"),
	ROW(431, "{\"error\":\"headers_too_large\","
	    "\"message\":\"Too many or too large header fields.\"}"),
	ROW(421, "{\"error\":\"misdirected_request\","
	    "\"message\":\"This server does not serve that host.\"}"),
	ROW(501, "{\"error\":\"not_implemented\","
	    "\"message\":\"Transfer codings are not supported.\"}"),
	/* Not in the table: a generic code by class. */
	ROW(418, "{\"error\":\"invalid_request\","
	    "\"message\":\"Request refused.\"}"),
	ROW(599, "{\"error\":\"unavailable\","
	    "\"message\":\"Server error.\"}"),
	cmocka_unit_test(test_every_status_is_plain_json),
	cmocka_unit_test(test_small_buffer_and_success),
};

static void
test_body_row(void **state)
{
	const struct err_case	*c = *state;
	char			 buf[256];

	assert_int_equal(pc_httperr_body(c->status, buf, sizeof(buf)),
	    strlen(c->body));
	assert_string_equal(buf, c->body);
}

/* Bodies are written without escaping: nothing in them may need it. */
static void
test_every_status_is_plain_json(void **state)
{
	char		 buf[256];
	const char	*p;
	size_t		 n;
	int		 s, quotes;

	(void)state;
	for (s = 400; s < 600; s++) {
		n = pc_httperr_body(s, buf, sizeof(buf));
		assert_true(n > 0 && n == strlen(buf));
		quotes = 0;
		for (p = buf; *p != '\0'; p++) {
			assert_true(*p >= 0x20 && *p < 0x7f && *p != '\\');
			quotes += *p == '"';
		}
		assert_int_equal(quotes, 8);
		assert_true(strncmp(buf, "{\"error\":\"", 10) == 0);
		assert_string_equal(buf + n - 2, "\"}");
	}
}

static void
test_small_buffer_and_success(void **state)
{
	char	buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(pc_httperr_body(400, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(pc_httperr_body(200, buf, sizeof(buf)), 0);
	assert_int_equal(pc_httperr_body(404, NULL, 0), 0);
	assert_string_equal(pc_httperr_code(405), "method_not_allowed");
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
