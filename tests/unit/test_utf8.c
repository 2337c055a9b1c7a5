/*
 * test_utf8.c: the shared UTF-8 decoder against the C library's own
 * (mbrtowc in the C.UTF-8 locale) over every 1-, 2- and 3-byte sequence
 * and a sweep of 4-byte ones, plus the classic edge cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <locale.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>

#include "utf8.h"

/* The oracle: the whole of s[0..n) is one valid multi-byte character. */
static int
oracle(const unsigned char *s, size_t n, uint32_t *cp)
{
	mbstate_t	st;
	wchar_t		wc;
	size_t		r;

	memset(&st, 0, sizeof(st));
	r = mbrtowc(&wc, (const char *)s, n, &st);
	if (r != n || n < 2)
		return (0);
	/*
	 * glibc decodes beyond RFC 3629 (code points up to 0x7fffffff);
	 * the RFC's limits are applied here, the rest is glibc's.
	 */
	if ((wc >= 0xd800 && wc <= 0xdfff) || wc > 0x10ffff)
		return (0);
	*cp = (uint32_t)wc;
	return (1);
}

static void
check(const unsigned char *s, size_t n)
{
	uint32_t	a, b;
	size_t		got;
	int		want;

	a = b = 0;
	want = oracle(s, n, &a);
	got = pc_utf8_seq(s, n, &b);
	if (want) {
		if (got != n || a != b)
			fail_msg("%02x %02x %02x %02x (n=%zu): got %zu", s[0],
			    n > 1 ? s[1] : 0, n > 2 ? s[2] : 0,
			    n > 3 ? s[3] : 0, n, got);
	} else if (got == n) {
		fail_msg("%02x %02x %02x %02x (n=%zu) accepted", s[0],
		    n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n);
	}
}

static void
test_against_libc(void **state)
{
	unsigned char	s[4];
	uint32_t	i, j;

	(void)state;
	assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
	for (i = 0; i < 0x100; i++) {
		s[0] = (unsigned char)i;
		check(s, 1);
	}
	for (i = 0; i < 0x10000; i++) {
		s[0] = (unsigned char)(i >> 8);
		s[1] = (unsigned char)i;
		check(s, 2);
	}
	for (i = 0; i < 0x1000000; i++) {
		s[0] = (unsigned char)(i >> 16);
		s[1] = (unsigned char)(i >> 8);
		s[2] = (unsigned char)i;
		if (s[0] < 0xe0 || s[0] > 0xef)
			continue;
		check(s, 3);
	}
	/* 4-byte: every lead byte F0..F7 with a sweep of the rest. */
	for (i = 0xf0; i <= 0xf7; i++) {
		for (j = 0; j < 0x40000; j++) {
			s[0] = (unsigned char)i;
			s[1] = (unsigned char)(0x70 + (j >> 12) % 0x60);
			s[2] = (unsigned char)(0x70 + (j >> 6) % 0x60);
			s[3] = (unsigned char)(0x70 + j % 0x60);
			check(s, 4);
		}
	}
}

static void
test_edges(void **state)
{
	static const struct {
		const char	*s;
		size_t		len, want;
		uint32_t	cp;
	} cases[] = {
		{ "\xc2\x80", 2, 2, 0x80 },
		{ "\xdf\xbf", 2, 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 3, 0x800 },
		{ "\xef\xbf\xbd", 3, 3, 0xfffd },
		{ "\xf0\x90\x80\x80", 4, 4, 0x10000 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "\xc0\xaf", 2, 0, 0 },		/* overlong '/' */
		{ "\xe0\x80\xaf", 3, 0, 0 },
		{ "\xed\xa0\x80", 3, 0, 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0, 0 },	/* above U+10FFFF */
		{ "\xe3\x81", 2, 0, 0 },		/* cut short */
		{ "\xe3\x81\x82", 2, 0, 0 },		/* len is the limit */
		{ "\x80", 1, 0, 0 },
		{ "A", 1, 0, 0 },
	};
	uint32_t	cp;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp = 0;
		assert_int_equal(pc_utf8_seq((const unsigned char *)cases[i].s,
		    cases[i].len, &cp), cases[i].want);
		if (cases[i].want)
			assert_int_equal(cp, cases[i].cp);
	}
}

static void
test_text(void **state)
{
	static const struct {
		const char	*s;
		int		lines, want;
	} cases[] = {
		{ "plain text", 0, 1 },
		{ "\xe5\xb1\xb1 \xc2\xa0 nbsp", 0, 1 },
		{ "two\nlines\tand tab", 1, 1 },
		{ "two\nlines", 0, 0 },
		{ "tab\t", 0, 0 },
		{ "cr\r", 1, 0 },
		{ "esc\x1b[31m", 1, 0 },
		{ "del\x7f", 1, 0 },
		{ "nel\xc2\x85", 1, 0 },		/* C1 U+0085 */
		{ "csi\xc2\x9b", 1, 0 },		/* C1 U+009B */
		{ "bad\xff", 1, 0 },
		{ "overlong\xc0\xaf", 1, 0 },
		{ "", 0, 1 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pc_utf8_text(cases[i].s, strlen(cases[i].s),
		    cases[i].lines) != cases[i].want)
			fail_msg("text case %zu", i);
	}
	/* NUL is a control character, even inside the length. */
	assert_int_equal(pc_utf8_text("a\0b", 3, 1), 0);
	assert_int_equal(pc_utf8_valid("a\0b", 3), 1);
	assert_int_equal(pc_utf8_valid("a\xc0\xaf", 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_libc),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_text),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
