/*
 * test_cardguard.c: candidate card numbers in free text.
 *
 * Every table row is checked twice: against pc_cardguard_find() and
 * against ref_find(), a slow reference written independently (split into
 * runs first, then every window at every offset). A negative row thus
 * proves that no 13..19 window of it passes Luhn, so the row tests the
 * rule and not an accident of the input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cardguard.h"

/* Full-width digits and separators, UTF-8. */
#define FW0	"\xef\xbc\x90"
#define FW1	"\xef\xbc\x91"
#define FW3	"\xef\xbc\x93"
#define FW4	"\xef\xbc\x94"
#define FWHY	"\xef\xbc\x8d"		/* U+FF0D */
#define IDSP	"\xe3\x80\x80"		/* U+3000 */
#define FW1111	FW1 FW1 FW1 FW1

struct cg_case {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	int		 want;
};

static const struct cg_case	cg_cases[] = {
	/* Test PANs as they are. */
	{ "4111111111111111", 0, 1 },
	{ "5500000000000004", 0, 1 },
	{ "340000000000009", 0, 1 },
	{ "3530111333300000", 0, 1 },
	{ "4012888888881881", 0, 1 },
	{ "6011000990139424", 0, 1 },
	{ "4222222222222", 0, 1 },			/* 13 digits */
	{ "6011000990139420007", 0, 1 },		/* 19 digits */

	/* Written with single spaces or hyphens, mixed too. */
	{ "4111 1111 1111 1111", 0, 1 },
	{ "4111-1111-1111-1111", 0, 1 },
	{ "4111 1111-1111 1111", 0, 1 },
	{ "5500 0000 0000 0004", 0, 1 },
	{ "3400 000000 00009", 0, 1 },			/* Amex 4-6-5 */
	{ "3530-1113-3330-0000", 0, 1 },
	{ "4012 8888 8888 1881", 0, 1 },
	{ "6011-0009-9013-9424", 0, 1 },
	{ "4222 2222 22222", 0, 1 },
	{ "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", 0, 1 },

	/* In text. */
	{ "refund for card 4111 1111 1111 1111 please", 0, 1 },
	{ "card:4111111111111111.", 0, 1 },
	{ "x4111111111111111y", 0, 1 },
	{ "(4111-1111-1111-1111)", 0, 1 },
	{ "first line\n4111 1111 1111 1111\nlast", 0, 1 },
	{ "\xff" "4111111111111111" "\xfe", 0, 1 },

	/* Hidden in a longer run: only the windows find these. */
	{ "1234567894111111111111111", 0, 1 },		/* 25 digits */
	{ "4111 1111 1111 1111 123", 0, 1 },		/* with a CVV */
	{ "qty 2 4111 1111 1111 1111", 0, 1 },
	{ "4111 1111 1111 1111 12/27", 0, 1 },		/* with expiry */

	/* Full-width digits and separators. */
	{ FW4 FW1 FW1 FW1 FW1111 FW1111 FW1111, 0, 1 },
	{ FW4 FW1 FW1 FW1 " " FW1111 " " FW1111 " " FW1111, 0, 1 },
	{ FW4 FW1 FW1 FW1 FWHY FW1111 FWHY FW1111 FWHY FW1111, 0, 1 },
	{ "4111" IDSP "1111" IDSP "1111" IDSP "1111", 0, 1 },
	{ "4111" FW1111 "1111" FW1111, 0, 1 },
	{ "\xe3\x82\xab\xe3\x83\xbc\xe3\x83\x89"	/* "card" in katakana */
	    FW4 FW1 FW1 FW1 FW1111 FW1111 FW1111
	    "\xe3\x81\xa7\xe3\x81\x99", 0, 1 },

	/* One digit changed: no window passes Luhn. */
	{ "4111111111111113", 0, 0 },
	{ "4111111131111111", 0, 0 },
	{ "4311111111111111", 0, 0 },
	{ "5500000010000004", 0, 0 },
	{ "340000010000009", 0, 0 },
	{ "310000000000009", 0, 0 },
	{ "3530111303300000", 0, 0 },
	{ "3030111333300000", 0, 0 },
	{ "4012888808881881", 0, 0 },
	{ "6011000990139420", 0, 0 },
	{ "6011000930139424", 0, 0 },
	{ "6211000990139424", 0, 0 },
	{ "4222222222220", 0, 0 },
	{ "4222220222222", 0, 0 },
	{ "4022222222222", 0, 0 },
	{ "4111 1111 1111 1113", 0, 0 },
	{ FW4 FW1 FW1 FW1 FW1111 FW1111 FW1 FW1 FW1 FW3, 0, 0 },

	/* Too short. */
	{ "411111111111", 0, 0 },			/* 12 digits */
	{ "4111 1111 1111", 0, 0 },
	{ "4111111111111111", 12, 0 },
	{ "422222222222", 0, 0 },

	/* 20 digits, non-Luhn, and none of the 35 windows passes. */
	{ "12345678901234570123", 0, 0 },
	{ "1234-5678-9012-3457-0123", 0, 0 },
	{ "1234 5678 9012 3457 0123", 0, 0 },
	{ "11111111111111111111", 0, 0 },

	/* Order ids, phone numbers, dates. */
	{ "ORD-0000001234", 0, 0 },
	{ "ORD-0000001234 ORD-0000001235", 0, 0 },
	{ "03-1234-5678", 0, 0 },
	{ "090-1234-5678", 0, 0 },
	{ "TEL 03-1234-5678 FAX 03-1234-5679", 0, 0 },
	{ "2024-01-31", 0, 0 },

	/* Broken runs. */
	{ "4111  1111 1111 1111", 0, 0 },		/* two spaces */
	{ "4111--1111-1111-1111", 0, 0 },
	{ "4111 -1111 1111 1111", 0, 0 },
	{ "4111" IDSP " 1111 1111 1111", 0, 0 },
	{ "4111" FWHY FWHY "1111" FWHY "1111" FWHY "1111", 0, 0 },
	{ "4111.1111.1111.1111", 0, 0 },
	{ "4111/1111/1111/1111", 0, 0 },
	{ "4111\t1111 1111 1111", 0, 0 },
	{ "4111\n1111 1111 1111", 0, 0 },
	{ "4111_1111_1111_1111", 0, 0 },
	{ "41111111/11111111", 0, 0 },
	{ "4111111111111111", 16, 1 },
	{ "4111111\0" "111111111", 17, 0 },		/* NUL breaks */
	{ "4111111" "\xef\xbc" "111111111", 0, 0 },	/* truncated FW */
	{ "4111111" "\xef\xbc\x9a" "111111111", 0, 0 },	/* U+FF1A ':' */
	{ "4111111" "\xef\xbc\x8c" "111111111", 0, 0 },	/* U+FF0C ',' */

	/* Nothing. */
	{ "", 0, 0 },
	{ " ", 0, 0 },
	{ "-", 0, 0 },
	{ "no digits at all", 0, 0 },
	{ FW0, 0, 0 },
	{ "\xef\xbc", 0, 0 },
	{ "\xef", 0, 0 },
};

/* --- the reference --------------------------------------------------- */

static int
ref_luhn(const char *d, size_t n)
{
	size_t		i;
	unsigned int	sum = 0, v;

	for (i = 0; i < n; i++) {
		v = (unsigned int)(d[i] - '0');
		if ((n - 1 - i) % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return (sum % 10 == 0);
}

static int
ref_run(const char *d, size_t n)
{
	size_t	w, off;

	for (w = 13; w <= 19; w++)
		for (off = 0; off + w <= n; off++)
			if (ref_luhn(d + off, w))
				return (1);
	return (0);
}

static int
ref_find(const char *s, size_t len)
{
	static char	run[8192];
	size_t		i, n = 0;
	int		lastsep = 0, issep;
	char		d;

	for (i = 0; i < len; i++) {
		d = 0;
		issep = 0;
		if (s[i] >= '0' && s[i] <= '9') {
			d = s[i];
		} else if (len - i >= 3 && memcmp(s + i, "\xef\xbc", 2) == 0 &&
		    (unsigned char)s[i + 2] >= 0x90 &&
		    (unsigned char)s[i + 2] <= 0x99) {
			d = (char)('0' + (unsigned char)s[i + 2] - 0x90);
			i += 2;
		} else if (s[i] == ' ' || s[i] == '-') {
			issep = 1;
		} else if (len - i >= 3 && (memcmp(s + i, IDSP, 3) == 0 ||
		    memcmp(s + i, FWHY, 3) == 0)) {
			issep = 1;
			i += 2;
		}
		if (d != 0) {
			if (n < sizeof(run))
				run[n++] = d;
			lastsep = 0;
		} else if (issep && n > 0 && !lastsep) {
			lastsep = 1;
		} else {
			if (ref_run(run, n))
				return (1);
			n = 0;
			lastsep = 0;
		}
	}
	return (ref_run(run, n));
}

/* --- tests ------------------------------------------------------------ */

static void
test_table(void **state)
{
	size_t	i, len;
	int	got, ref;

	(void)state;
	for (i = 0; i < sizeof(cg_cases) / sizeof(cg_cases[0]); i++) {
		len = cg_cases[i].len ? cg_cases[i].len :
		    strlen(cg_cases[i].in);
		got = pc_cardguard_find(cg_cases[i].in, len);
		ref = ref_find(cg_cases[i].in, len);
		if (got != cg_cases[i].want || ref != cg_cases[i].want)
			fail_msg("#%zu [%s]: got %d, reference %d, want %d", i,
			    cg_cases[i].in, got, ref, cg_cases[i].want);
	}
}

/*
 * The table again in full-width forms: ASCII digits become U+FF10..
 * U+FF19, and in the second pass spaces and hyphens become U+3000 and
 * U+FF0D. The structure of every row is unchanged, so is the answer.
 */
static void
test_table_fullwidth(void **state)
{
	char		buf[1024];
	const char	*in;
	size_t		i, k, o;
	int		pass, got;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sizeof(cg_cases) / sizeof(cg_cases[0]); i++) {
			if (cg_cases[i].len != 0)
				continue;
			in = cg_cases[i].in;
			for (k = 0, o = 0; in[k] != '\0'; k++) {
				if (in[k] >= '0' && in[k] <= '9') {
					buf[o++] = '\xef';
					buf[o++] = '\xbc';
					buf[o++] = (char)(0x90 + in[k] - '0');
				} else if (pass == 1 && in[k] == ' ') {
					memcpy(buf + o, IDSP, 3);
					o += 3;
				} else if (pass == 1 && in[k] == '-') {
					memcpy(buf + o, FWHY, 3);
					o += 3;
				} else
					buf[o++] = in[k];
			}
			got = pc_cardguard_find(buf, o);
			if (got != cg_cases[i].want || ref_find(buf, o) != got)
				fail_msg("full-width %d #%zu [%s]: got %d, "
				    "want %d", pass, i, in, got,
				    cg_cases[i].want);
		}
	}
}

static void
test_null(void **state)
{
	(void)state;
	assert_int_equal(pc_cardguard_find(NULL, 0), 0);
	assert_int_equal(pc_cardguard_find(NULL, 16), 0);
	assert_int_equal(pc_cardguard_find("4111111111111111", 0), 0);
}

/* The 20-digit negative really has no Luhn-valid window, and is itself
 * no Luhn number; one digit more at either end can change that. */
static void
test_twenty(void **state)
{
	const char	*s = "12345678901234570123";
	size_t		w, off, checked = 0;

	(void)state;
	assert_int_equal(strlen(s), 20);
	assert_false(ref_luhn(s, 20));
	for (w = 13; w <= 19; w++) {
		for (off = 0; off + w <= 20; off++) {
			assert_false(ref_luhn(s + off, w));
			checked++;
		}
	}
	assert_int_equal(checked, 35);
	assert_int_equal(pc_cardguard_find(s, 20), 0);
}

/* A PAN at every offset inside filler digits that hide nothing. */
static void
test_every_offset(void **state)
{
	static const char	*pans[] = {
		"4111111111111111", "5500000000000004", "340000000000009",
		"3530111333300000", "4012888888881881", "6011000990139424",
		"4222222222222", "6011000990139420007",
	};
	const char	*fill = "11111111111111111111";	/* no window passes */
	char		buf[128];
	size_t		i, pre, post, plen;

	(void)state;
	assert_int_equal(ref_find(fill, strlen(fill)), 0);
	for (i = 0; i < sizeof(pans) / sizeof(pans[0]); i++) {
		plen = strlen(pans[i]);
		for (pre = 0; pre <= 20; pre++) {
			post = 20 - pre;
			memcpy(buf, fill, pre);
			memcpy(buf + pre, pans[i], plen);
			memcpy(buf + pre + plen, fill, post);
			assert_int_equal(pc_cardguard_find(buf,
			    pre + plen + post), 1);
			/* Cut one digit off the PAN: it is gone. */
			buf[pre + plen - 1] = 'x';
			assert_int_equal(pc_cardguard_find(buf,
			    pre + plen + post), ref_find(buf,
			    pre + plen + post));
		}
	}
}

/* --- random cross-check against the reference ------------------------ */

static uint64_t	rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	/* xorshift64*: the same sequence on every libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32));
}

static void
test_random(void **state)
{
	static const char	*atoms[] = {
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
		"4", "1", "1", "1", " ", "-", " ", "-", "  ", "a", "\n",
		FW0, FW1, FW4, FWHY, IDSP, "\xef\xbc", "\xef", "\xff",
	};
	const char	*a;
	char		 buf[256];
	size_t		 i, n, len, k, alen;
	int		 got, ref, hits = 0;

	(void)state;
	for (i = 0; i < 50000; i++) {
		n = rng() % 40;
		len = 0;
		for (k = 0; k < n; k++) {
			a = atoms[rng() % (sizeof(atoms) / sizeof(atoms[0]))];
			alen = strlen(a);
			memcpy(buf + len, a, alen);
			len += alen;
		}
		got = pc_cardguard_find(buf, len);
		ref = ref_find(buf, len);
		if (got != ref)
			fail_msg("random #%zu: got %d, reference %d", i, got,
			    ref);
		hits += got;
	}
	/* Both outcomes are exercised. */
	assert_true(hits > 1000);
	assert_true(hits < 49000);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_fullwidth),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_twenty),
		cmocka_unit_test(test_every_offset),
		cmocka_unit_test(test_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
