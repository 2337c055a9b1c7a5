/*
 * test_cursor.c: the keyset cursor, table driven. Cursors in the table
 * are written as the base64 of their text (computed by the test's own
 * encoder below, from RFC 4648, not by the code under test).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cursor.h"

struct cur_case {
	const char	*text;		/* what the base64 holds */
	size_t		 len;		/* its length (NULs inside) */
	int		 ok;
	int64_t		 us, id;
};

static void	test_decode_row(void **);
static void	test_round_trip(void **);
static void	test_non_canonical_encodings(void **);
static void	b64(const char *, size_t, char *);

#define T(s)	s, sizeof(s) - 1
#define OK(s, u, i)							\
	{ "ok  " #s, test_decode_row, NULL, NULL,			\
	  &(struct cur_case){ T(s), 1, u, i } }
#define BAD(s)								\
	{ "bad " #s, test_decode_row, NULL, NULL,			\
	  &(struct cur_case){ T(s), 0, 0, 0 } }

static const struct CMUnitTest tests[] = {
	OK("1764720000000000.42", 1764720000000000LL, 42),
	OK("0.0", 0, 0),
	OK("9223372036854775807.9223372036854775807", INT64_MAX, INT64_MAX),
	/* The cases. */
	BAD("9223372036854775808.1"),
	BAD("1.99999999999999999999"),
	BAD("1764720000000000.42\0"),
	BAD("1764720000000000.042"),
	BAD("01764720000000000.42"),
	BAD("1764720000000000.4.2"),
	BAD("1764720000000000.42.5"),
	BAD("1764720000000000.4e1"),
	BAD("-1.42"),
	BAD("+1.42"),
	BAD(" 1.42"),
	BAD("1.42 "),
	BAD("1."),
	BAD(".1"),
	BAD("."),
	BAD("142"),
	BAD(""),
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_non_canonical_encodings),
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 section 4, with padding. */
static void
b64(const char *in, size_t n, char *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i;
	uint32_t		 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = b64chars[(v >> 6) & 63];
		*out++ = b64chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 63];
		*out++ = b64chars[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

static void
test_decode_row(void **state)
{
	const struct cur_case	*c = *state;
	char			 enc[128];
	int64_t			 us = -1, id = -1;

	b64(c->text, c->len, enc);
	assert_int_equal(pc_cursor_decode(enc, &us, &id), c->ok ? 0 : -1);
	assert_true(us == c->us && id == c->id);
}

static void
test_round_trip(void **state)
{
	static const int64_t	 v[] = { 0, 1, 9, 10, 99, 1000000,
	    1764720000123456LL, INT64_MAX - 1, INT64_MAX };
	char			 enc[PC_CURSOR_MAX], mine[128], text[64];
	int64_t			 us, id;
	size_t			 i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			assert_int_equal(pc_cursor_encode(v[i], v[j], enc), 0);
			(void)snprintf(text, sizeof(text), "%lld.%lld",
			    (long long)v[i], (long long)v[j]);
			b64(text, strlen(text), mine);
			assert_string_equal(enc, mine);
			assert_int_equal(pc_cursor_decode(enc, &us, &id), 0);
			assert_true(us == v[i] && id == v[j]);
		}
	}
	assert_int_equal(pc_cursor_encode(-1, 1, enc), -1);
	assert_string_equal(enc, "");
}

/* The same text written another way is refused: one spelling only. */
static void
test_non_canonical_encodings(void **state)
{
	char	 enc[128], alt[128];
	int64_t	 us, id;
	size_t	 n;

	(void)state;
	b64("12.34", 5, enc);			/* "MTIuMzQ=" */
	assert_int_equal(pc_cursor_decode(enc, &us, &id), 0);
	n = strlen(enc);
	memcpy(alt, enc, n + 1);
	alt[n - 1] = '\0';			/* padding dropped */
	assert_int_equal(pc_cursor_decode(alt, &us, &id), -1);
	memcpy(alt, enc, n + 1);
	alt[n - 2] = 'R';			/* non-zero pad bits */
	assert_int_equal(pc_cursor_decode(alt, &us, &id), -1);
	(void)snprintf(alt, sizeof(alt), " %s", enc);
	assert_int_equal(pc_cursor_decode(alt, &us, &id), -1);
	(void)snprintf(alt, sizeof(alt), "%s\n", enc);
	assert_int_equal(pc_cursor_decode(alt, &us, &id), -1);
	assert_int_equal(pc_cursor_decode("====", &us, &id), -1);
	assert_int_equal(pc_cursor_decode(NULL, &us, &id), -1);
	memset(alt, 'A', 80);
	alt[80] = '\0';
	assert_int_equal(pc_cursor_decode(alt, &us, &id), -1);
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
