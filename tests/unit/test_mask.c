/*
 * test_mask.c: masking of names and email addresses.
 *
 * Every table row is run with a roomy buffer, then with every buffer
 * that is one byte too small or smaller (-1, output wiped), then with
 * the exact size (success).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mask.h"

#define FFFD	"\xef\xbf\xbd"
#define IDSP	"\xe3\x80\x80"		/* U+3000 */

typedef int (*mask_fn)(const char *, size_t, char *, size_t);

struct mask_case {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*want;
};

static const struct mask_case	name_cases[] = {
	{ "Yuki Tanaka", 0, "Y*** T***" },
	{ "山田 太郎", 0, "山*** 太***" },
	{ "山田" IDSP "太郎", 0, "山*** 太***" },
	{ "Cher", 0, "C***" },
	{ "", 0, "" },
	{ "C", 0, "C***" },
	{ "a b c d", 0, "a*** b*** c*** d***" },
	{ "José María García", 0, "J*** M*** G***" },
	{ "Émile Zola", 0, "É*** Z***" },
	{ "O'Brien", 0, "O***" },
	{ "Jean-Luc Picard", 0, "J*** P***" },
	{ "\xf0\x9f\x94\x91 key", 0, "\xf0\x9f\x94\x91*** k***" },
	{ "\xf0\xa0\xae\xb7野家", 0, "\xf0\xa0\xae\xb7***" },	/* U+20BB7 */
	/* First code point only: a combining mark is dropped. */
	{ "e\xcc\x81mile", 0, "e***" },
	/* Separators: runs, leading, trailing, mixed; only these two. */
	{ "   ", 0, "" },
	{ IDSP, 0, "" },
	{ IDSP IDSP "山田", 0, "山***" },
	{ "  Yuki   Tanaka  ", 0, "Y*** T***" },
	{ "Yuki" IDSP " " IDSP "Tanaka", 0, "Y*** T***" },
	{ "Yuki\xc2\xa0Tanaka", 0, "Y***" },		/* NBSP is no space */
	{ "Yuki\nTanaka", 0, "Y***" },
	{ "Tanaka" "\xe3\x80", 0, "T***" },		/* truncated U+3000 */
	{ "Yuki Tanaka", 4, "Y***" },
	{ "Yuki Tanaka", 6, "Y*** T***" },
	/* Invalid UTF-8: U+FFFD where a kept code point would be. */
	{ "\xff", 0, FFFD "***" },
	{ "\xffuki Tanaka", 0, FFFD "*** T***" },
	{ "Yuki T\xff\xfe", 0, "Y*** T***" },
	{ "\xe5\xb1", 0, FFFD "***" },			/* truncated 山 */
	{ "\xe5\xb1 x", 0, FFFD "*** x***" },
	{ "\xe5\xb1\xe5\xb1\xb1", 0, FFFD "***" },
	{ "\x80\x80 \xbf", 0, FFFD "*** " FFFD "***" },
	{ "\xc0\xaf", 0, FFFD "***" },			/* overlong */
	{ "\xe0\x80\xaf", 0, FFFD "***" },
	{ "\xed\xa0\x80", 0, FFFD "***" },		/* surrogate */
	{ "\xf4\x90\x80\x80", 0, FFFD "***" },		/* > U+10FFFF */
	{ "\xf8\x88\x80\x80\x80", 0, FFFD "***" },
	{ FFFD "x", 0, FFFD "***" },			/* a real U+FFFD */
	/* Controls and bidi controls are not shown. */
	{ "\x01" "abc", 0, FFFD "***" },
	{ "\tYuki", 0, FFFD "***" },
	{ "\x1b[31mred", 0, FFFD "***" },
	{ "\0abc", 4, FFFD "***" },
	{ "\x7f" "a", 0, FFFD "***" },
	{ "\xc2\x85x", 0, FFFD "***" },			/* NEL (C1) */
	{ "\xc2\xa0x", 0, "\xc2\xa0***" },		/* NBSP is shown */
	{ "\xe2\x80\xae" "evil", 0, FFFD "***" },	/* RLO */
	{ "\xe2\x81\xa6x \xe2\x80\x8fy", 0, FFFD "*** " FFFD "***" },
	{ "\xe2\x80\x8dx", 0, "\xe2\x80\x8d***" },	/* ZWJ is shown */
};

static const struct mask_case	email_cases[] = {
	{ "taro.yamada@example.com", 0, "t***@example.com" },
	{ "t@example.com", 0, "t***@example.com" },
	{ "Taro.Yamada+tag@mail.example.co.jp", 0,
	    "T***@mail.example.co.jp" },
	{ "山田@example.jp", 0, "山***@example.jp" },
	{ "\xf0\x9f\x94\x91x@example.com", 0,
	    "\xf0\x9f\x94\x91***@example.com" },
	{ "taro@例え.jp", 0, "t***@例え.jp" },
	{ "taro@", 0, "t***@" },
	/* The last '@' splits. */
	{ "a@b@example.com", 0, "a***@example.com" },
	{ "\"a@b\"@example.com", 0, "\"***@example.com" },
	/* No local part. */
	{ "@example.com", 0, "***" },
	{ "@", 0, "***" },
	{ "@@", 0, "@***@" },			/* local part "@" */
	{ "no-at-sign", 0, "***" },
	{ "taro.example.com", 0, "***" },
	{ "", 0, "***" },
	{ "山田", 0, "***" },
	{ "taro@example.com", 4, "***" },
	{ "taro@example.com", 5, "t***@" },
	/* Invalid UTF-8 and controls, in either part. */
	{ "\xff" "aro@example.com", 0, FFFD "***@example.com" },
	{ "\xe5\xb1@x", 0, FFFD "***@x" },
	{ "taro@ex\xff" "ample.com", 0, "t***@ex" FFFD "ample.com" },
	{ "taro@ex\xe5\xb1", 0, "t***@ex" FFFD FFFD },
	{ "taro@exa\nmple.com", 0, "t***@exa" FFFD "mple.com" },
	{ "taro@example.com\0", 17, "t***@example.com" FFFD },
	{ "\0@x", 3, FFFD "***@x" },
	{ "\xe2\x80\xae@x", 0, FFFD "***@x" },
	{ "a@\xe2\x80\xae" "moc.elpmaxe", 0, "a***@" FFFD "moc.elpmaxe" },
	{ "a@\xc0\xae", 0, "a***@" FFFD FFFD },
};

static void
run_table(mask_fn fn, const char *what, const struct mask_case *c,
    size_t nc)
{
	char	out[256], small[256];
	size_t	i, len, wlen, k, z;
	int	n;

	for (i = 0; i < nc; i++) {
		len = c[i].len ? c[i].len : strlen(c[i].in);
		wlen = strlen(c[i].want);
		memset(out, 'X', sizeof(out));
		n = fn(c[i].in, len, out, sizeof(out));
		if (n < 0 || (size_t)n != wlen || strcmp(out, c[i].want) != 0)
			fail_msg("%s #%zu [%s]: got [%s] (%d), want [%s]",
			    what, i, c[i].in, n < 0 ? "" : out, n, c[i].want);

		/* Too small by one byte or more: -1, nothing left. */
		for (k = 1; k <= wlen; k++) {
			memset(small, 'X', sizeof(small));
			n = fn(c[i].in, len, small, k);
			if (n != -1)
				fail_msg("%s #%zu: outlen %zu gave %d", what,
				    i, k, n);
			for (z = 0; z < k; z++)
				if (small[z] != '\0')
					fail_msg("%s #%zu: outlen %zu left "
					    "byte %zu", what, i, k, z);
			/* Nothing written past outlen. */
			assert_int_equal(small[k], 'X');
		}

		/* Exactly the right size. */
		memset(small, 'X', sizeof(small));
		n = fn(c[i].in, len, small, wlen + 1);
		assert_int_equal(n, (int)wlen);
		assert_string_equal(small, c[i].want);
		assert_int_equal(small[wlen + 1], 'X');
	}
}

static void
test_name_table(void **state)
{
	(void)state;
	run_table(pc_mask_name, "name", name_cases,
	    sizeof(name_cases) / sizeof(name_cases[0]));
}

static void
test_email_table(void **state)
{
	(void)state;
	run_table(pc_mask_email, "email", email_cases,
	    sizeof(email_cases) / sizeof(email_cases[0]));
}

static void
test_args(void **state)
{
	char	out[16];

	(void)state;
	assert_int_equal(pc_mask_name("a", 1, NULL, 16), -1);
	assert_int_equal(pc_mask_name("a", 1, out, 0), -1);
	assert_int_equal(pc_mask_email("a@b", 3, NULL, 16), -1);
	assert_int_equal(pc_mask_email("a@b", 3, out, 0), -1);

	/* NULL input: empty if len is 0, an error otherwise. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(pc_mask_name(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	memset(out, 'X', sizeof(out));
	assert_int_equal(pc_mask_name(NULL, 3, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	memset(out, 'X', sizeof(out));
	assert_int_equal(pc_mask_email(NULL, 0, out, sizeof(out)), 3);
	assert_string_equal(out, "***");
	memset(out, 'X', sizeof(out));
	assert_int_equal(pc_mask_email(NULL, 3, out, sizeof(out)), -1);
	assert_string_equal(out, "");

	/* Empty name in a one-byte buffer: just the NUL. */
	assert_int_equal(pc_mask_name("   ", 3, out, 1), 0);
	assert_string_equal(out, "");
}

/* --- self-check on random input ---------------------------------------- */

static uint64_t	rng_state = 0x243f6a8885a308d3ULL;

static uint32_t
rng(void)
{
	/* xorshift64*: the same sequence on every libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32));
}

/*
 * Length of the one strictly valid, shown code point at s, or 0 if it is
 * invalid UTF-8, a control or a bidi control.
 */
static size_t
shown_cp(const unsigned char *s, size_t len)
{
	size_t		n, k;
	uint32_t	cp, min;

	if (s[0] < 0x80)
		return (s[0] >= 0x20 && s[0] != 0x7f);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4; cp = s[0] & 0x07; min = 0x10000;
	} else
		return (0);
	if (len < n)
		return (0);
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	if (cp <= 0x9f || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return (0);
	return (n);
}

/* Words in s: maximal runs of bytes that are neither ' ' nor U+3000. */
static size_t
count_words(const unsigned char *s, size_t len)
{
	size_t	i = 0, words = 0;
	int	in = 0;

	while (i < len) {
		if (s[i] == ' ') {
			in = 0;
			i++;
		} else if (len - i >= 3 && memcmp(s + i, IDSP, 3) == 0) {
			in = 0;
			i += 3;
		} else {
			if (!in)
				words++;
			in = 1;
			i++;
		}
	}
	return (words);
}

static size_t
random_input(unsigned char *buf, size_t max)
{
	static const char	*atoms[] = {
		" ", " ", IDSP, "a", "Z", "山", "\xf0\x9f\x94\x91", "\xe3\x80",
		"\xe3", "\x80", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\n",
		"\0", "\xe2\x80\xae", "\xc2\x85", "@", "@", ".",
	};
	const char	*a;
	size_t		 len = 0, n, k, alen;

	n = rng() % 24;
	for (k = 0; k < n; k++) {
		if (rng() % 3 == 0) {
			buf[len++] = (unsigned char)rng();
			continue;
		}
		a = atoms[rng() % (sizeof(atoms) / sizeof(atoms[0]))];
		alen = a[0] == '\0' ? 1 : strlen(a);
		if (len + alen > max)
			break;
		memcpy(buf + len, a, alen);
		len += alen;
	}
	return (len);
}

static void
test_random(void **state)
{
	unsigned char	in[128];
	char		out[512];
	size_t		i, len, o, words, n, at;
	int		r;

	(void)state;
	for (i = 0; i < 20000; i++) {
		len = random_input(in, sizeof(in));

		/* Name: "<cp>***" words joined by single spaces. */
		r = pc_mask_name((char *)in, len, out, sizeof(out));
		assert_true(r >= 0);
		assert_int_equal(strlen(out), (size_t)r);
		words = 0;
		for (o = 0; o < (size_t)r; ) {
			if (words > 0) {
				assert_int_equal(out[o], ' ');
				o++;
			}
			n = shown_cp((unsigned char *)out + o, (size_t)r - o);
			if (n == 0 || out[o] == ' ')
				fail_msg("name #%zu: bad code point at %zu",
				    i, o);
			o += n;
			assert_true((size_t)r - o >= 3);
			assert_memory_equal(out + o, "***", 3);
			o += 3;
			words++;
		}
		assert_int_equal(words, count_words(in, len));

		/* Email: "***" or "<cp>***@<shown code points>". */
		r = pc_mask_email((char *)in, len, out, sizeof(out));
		assert_true(r >= 3);
		assert_int_equal(strlen(out), (size_t)r);
		for (at = len; at > 0 && in[at - 1] != '@'; at--)
			;
		if (at <= 1) {
			assert_string_equal(out, "***");
			continue;
		}
		n = shown_cp((unsigned char *)out, (size_t)r);
		assert_true(n > 0);
		assert_memory_equal(out + n, "***@", 4);
		for (o = n + 4; o < (size_t)r; o += n) {
			n = shown_cp((unsigned char *)out + o, (size_t)r - o);
			if (n == 0 || out[o] == '@')
				fail_msg("email #%zu: bad code point at %zu",
				    i, o);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_name_table),
		cmocka_unit_test(test_email_table),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
