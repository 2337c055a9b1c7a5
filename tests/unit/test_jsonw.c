/*
 * test_jsonw.c: the JSON writer and its escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonw.h"

#define FFFD	"\\ufffd"

struct esc_case {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*want;	/* without the quotes */
};

static const struct esc_case	esc_cases[] = {
	{ "", 0, "" },
	{ "abc XYZ 019 /'", 0, "abc XYZ 019 /'" },
	{ "\"", 0, "\\\"" },
	{ "\\", 0, "\\\\" },
	{ "a\"b\\c", 0, "a\\\"b\\\\c" },
	{ "\n\r\t\b\f", 0, "\\n\\r\\t\\b\\f" },
	{ "\0", 1, "\\u0000" },
	{ "a\0b", 3, "a\\u0000b" },
	{ "\x01\x07\x0b\x0e\x1b\x1f", 0,
	    "\\u0001\\u0007\\u000b\\u000e\\u001b\\u001f" },
	{ " ", 0, " " },
	{ "\x7f", 0, "\\u007f" },
	{ "<script>", 0, "\\u003cscript\\u003e" },
	{ "</script>", 0, "\\u003c/script\\u003e" },
	{ "a&b", 0, "a\\u0026b" },
	{ "&lt;", 0, "\\u0026lt;" },
	/* valid multi-byte characters pass through */
	{ "日本語", 0, "日本語" },
	{ "café", 0, "café" },
	{ "\xc2\x80", 0, "\xc2\x80" },			/* U+0080 */
	{ "\xc2\xa0", 0, "\xc2\xa0" },			/* U+00A0 */
	{ "\xdf\xbf", 0, "\xdf\xbf" },			/* U+07FF */
	{ "\xe0\xa0\x80", 0, "\xe0\xa0\x80" },		/* U+0800 */
	{ "\xed\x9f\xbf", 0, "\xed\x9f\xbf" },		/* U+D7FF */
	{ "\xee\x80\x80", 0, "\xee\x80\x80" },		/* U+E000 */
	{ "\xef\xbf\xbd", 0, "\xef\xbf\xbd" },		/* U+FFFD */
	{ "\xef\xbf\xbf", 0, "\xef\xbf\xbf" },		/* U+FFFF */
	{ "\xf0\x90\x80\x80", 0, "\xf0\x90\x80\x80" },	/* U+10000 */
	{ "\xf0\x9f\x94\x91", 0, "\xf0\x9f\x94\x91" },	/* key emoji */
	{ "\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf" },	/* U+10FFFF */
	/* line and paragraph separators */
	{ "\xe2\x80\xa8", 0, "\\u2028" },
	{ "\xe2\x80\xa9", 0, "\\u2029" },
	{ "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 0, "a\\u2028b\\u2029c" },
	{ "\xe2\x80\xa7\xe2\x80\xaa", 0, "\xe2\x80\xa7\xe2\x80\xaa" },
	/* invalid: one replacement per byte */
	{ "\xff", 0, FFFD },
	{ "\xfe", 0, FFFD },
	{ "\x80", 0, FFFD },
	{ "\xbf", 0, FFFD },
	{ "\xc0\xaf", 0, FFFD FFFD },			/* overlong '/' */
	{ "\xc1\xbf", 0, FFFD FFFD },
	{ "\xe0\x80\xaf", 0, FFFD FFFD FFFD },		/* overlong */
	{ "\xe0\x9f\xbf", 0, FFFD FFFD FFFD },		/* overlong U+07FF */
	{ "\xf0\x80\x80\xaf", 0, FFFD FFFD FFFD FFFD },	/* overlong */
	{ "\xf0\x8f\xbf\xbf", 0, FFFD FFFD FFFD FFFD },	/* overlong U+FFFF */
	{ "\xed\xa0\x80", 0, FFFD FFFD FFFD },		/* U+D800 */
	{ "\xed\xbf\xbf", 0, FFFD FFFD FFFD },		/* U+DFFF */
	{ "\xed\xa0\xbd\xed\xb2\xa9", 0,
	    FFFD FFFD FFFD FFFD FFFD FFFD },		/* CESU-8 pair */
	{ "\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD },	/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, FFFD FFFD FFFD FFFD },
	{ "\xf8\x88\x80\x80\x80", 0, FFFD FFFD FFFD FFFD FFFD },
	{ "\xe6\x97", 0, FFFD FFFD },			/* truncated */
	{ "\xe6\x97" "a", 0, FFFD FFFD "a" },
	{ "a\xe6", 0, "a" FFFD },
	{ "\xf0\x9f\x94", 0, FFFD FFFD FFFD },
	{ "\xe6\x97\xa5\xe6", 0, "日" FFFD },
	{ "\xe6\x97\xe6\x97\xa5", 0, FFFD FFFD "日" },
	{ "\xc3", 0, FFFD },
	{ "\xc3\x28", 0, FFFD "(" },
	{ "\xe2\x80\x3c", 0, FFFD FFFD "\\u003c" },
	/* everything at once */
	{ "\"<日\xff\n\xe2\x80\xa8&\x7f>\"", 0,
	    "\\\"\\u003c日" FFFD "\\n\\u2028\\u0026\\u007f\\u003e\\\"" },
};

static void
test_escape_table(void **state)
{
	char		out[256], want[256];
	size_t		i, len;
	int		n;

	(void)state;
	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		len = esc_cases[i].len ? esc_cases[i].len :
		    strlen(esc_cases[i].in);
		snprintf(want, sizeof(want), "\"%s\"", esc_cases[i].want);
		n = pc_json_escape(esc_cases[i].in, len, out, sizeof(out));
		if (n < 0 || strcmp(out, want) != 0 ||
		    (size_t)n != strlen(want))
			fail_msg("escape #%zu: got [%s] (%d), want [%s]", i,
			    n < 0 ? "" : out, n, want);
	}
}

/* The same table through the writer, as a value and as a key. */
static void
test_escape_table_writer(void **state)
{
	struct pc_jsonw	w;
	char		want[600], *got;
	size_t		i, len, glen;

	(void)state;
	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		len = esc_cases[i].len ? esc_cases[i].len :
		    strlen(esc_cases[i].in);
		pc_jsonw_init(&w);
		pc_jsonw_object_open(&w, NULL);
		pc_jsonw_stringn(&w, "v", esc_cases[i].in, len);
		if (esc_cases[i].len == 0)
			pc_jsonw_int(&w, esc_cases[i].in, 1);
		pc_jsonw_object_close(&w);
		got = pc_jsonw_finish(&w, &glen);
		assert_non_null(got);
		if (esc_cases[i].len == 0)
			snprintf(want, sizeof(want), "{\"v\":\"%s\",\"%s\":1}",
			    esc_cases[i].want, esc_cases[i].want);
		else
			snprintf(want, sizeof(want), "{\"v\":\"%s\"}",
			    esc_cases[i].want);
		if (strcmp(got, want) != 0 || glen != strlen(want))
			fail_msg("writer #%zu: got [%s], want [%s]", i, got,
			    want);
		free(got);
	}
}

static void
test_escape_fit(void **state)
{
	char	out[16];

	(void)state;
	/* "a<b" is "\"a\\u003cb\"" = 10 bytes plus the NUL. */
	assert_int_equal(pc_json_escape("a<b", 3, out, 11), 10);
	assert_string_equal(out, "\"a\\u003cb\"");
	memset(out, 'x', sizeof(out));
	assert_int_equal(pc_json_escape("a<b", 3, out, 10), -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(pc_json_escape("a<b", 3, out, 9), -1);
	assert_int_equal(pc_json_escape("", 0, out, 3), 2);
	assert_string_equal(out, "\"\"");
	assert_int_equal(pc_json_escape("", 0, out, 2), -1);
	assert_int_equal(pc_json_escape("", 0, out, 1), -1);
	assert_int_equal(pc_json_escape("", 0, out, 0), -1);
	assert_int_equal(pc_json_escape("", 0, NULL, 10), -1);
	assert_int_equal(pc_json_escape(NULL, 1, out, sizeof(out)), -1);
	assert_int_equal(pc_json_escape(NULL, 0, out, sizeof(out)), 2);
}

static void
test_nested(void **state)
{
	struct pc_jsonw	w;
	char		*s;
	size_t		len;

	(void)state;
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, "a", 1);
	pc_jsonw_array_open(&w, "b");
	pc_jsonw_bool(&w, NULL, 1);
	pc_jsonw_bool(&w, NULL, 0);
	pc_jsonw_null(&w, NULL);
	pc_jsonw_string(&w, NULL, "x");
	pc_jsonw_int(&w, NULL, -42);
	pc_jsonw_array_close(&w);
	pc_jsonw_object_open(&w, "c");
	pc_jsonw_int(&w, "min", INT64_MIN);
	pc_jsonw_int(&w, "max", INT64_MAX);
	pc_jsonw_object_open(&w, "e");
	pc_jsonw_object_close(&w);
	pc_jsonw_array_open(&w, "f");
	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);
	pc_jsonw_array_open(&w, "g");
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "k", "v");
	pc_jsonw_object_close(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_int(&w, NULL, 0);
	pc_jsonw_array_close(&w);
	pc_jsonw_array_close(&w);
	pc_jsonw_string(&w, "<key>", NULL);
	pc_jsonw_object_close(&w);
	s = pc_jsonw_finish(&w, &len);
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"a\":1,\"b\":[true,false,null,\"x\",-42],"
	    "\"c\":{\"min\":-9223372036854775808,"
	    "\"max\":9223372036854775807,\"e\":{},\"f\":[]},"
	    "\"g\":[{\"k\":\"v\"},[0]],\"\\u003ckey\\u003e\":null}");
	assert_int_equal(len, strlen(s));
	free(s);
	/* finish hands the buffer over and leaves w empty. */
	assert_null(w.buf);
	pc_jsonw_free(&w);

	/* Top-level array and scalar. */
	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_string(&w, NULL, "a");
	pc_jsonw_string(&w, NULL, "b");
	pc_jsonw_array_close(&w);
	s = pc_jsonw_finish(&w, NULL);
	assert_non_null(s);
	assert_string_equal(s, "[\"a\",\"b\"]");
	free(s);

	pc_jsonw_init(&w);
	pc_jsonw_string(&w, NULL, "<only>");
	s = pc_jsonw_finish(&w, &len);
	assert_non_null(s);
	assert_string_equal(s, "\"\\u003conly\\u003e\"");
	free(s);
}

static void
test_grow(void **state)
{
	struct pc_jsonw	w;
	char		*s, num[16];
	size_t		len, i, off;

	(void)state;
	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	for (i = 0; i < 10000; i++)
		pc_jsonw_int(&w, NULL, (int64_t)i);
	pc_jsonw_array_close(&w);
	s = pc_jsonw_finish(&w, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(s[0], '[');
	assert_int_equal(s[len - 1], ']');
	off = 1;
	for (i = 0; i < 10000; i++) {
		snprintf(num, sizeof(num), "%zu%c", i, i == 9999 ? ']' : ',');
		assert_memory_equal(s + off, num, strlen(num));
		off += strlen(num);
	}
	assert_int_equal(off, len);
	free(s);
}

static char *
nest(int depth, int array)
{
	struct pc_jsonw	w;
	int		i;

	pc_jsonw_init(&w);
	for (i = 0; i < depth; i++) {
		if (array)
			pc_jsonw_array_open(&w, NULL);
		else
			pc_jsonw_object_open(&w, i == 0 ? NULL : "k");
	}
	for (i = 0; i < depth; i++) {
		if (array)
			pc_jsonw_array_close(&w);
		else
			pc_jsonw_object_close(&w);
	}
	return (pc_jsonw_finish(&w, NULL));
}

static void
test_depth(void **state)
{
	char	*s, want[80];

	(void)state;
	s = nest(32, 1);
	assert_non_null(s);
	memset(want, '[', 32);
	memset(want + 32, ']', 32);
	want[64] = '\0';
	assert_string_equal(s, want);
	free(s);

	s = nest(32, 0);
	assert_non_null(s);
	free(s);

	assert_null(nest(33, 1));
	assert_null(nest(33, 0));
	assert_null(nest(100, 1));
}

static void
test_misuse(void **state)
{
	struct pc_jsonw	w;

	(void)state;
	/* Nothing written. */
	pc_jsonw_init(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* Left open. */
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* Close without open, and mismatched closes. */
	pc_jsonw_init(&w);
	pc_jsonw_object_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_object_close(&w);
	pc_jsonw_array_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* Value without a key in an object, with a key in an array. */
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, NULL, 1);
	pc_jsonw_object_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_int(&w, "k", 1);
	pc_jsonw_array_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* A key at top level; two top-level values. */
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, "k");
	pc_jsonw_object_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_object_close(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_object_close(&w);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* Sticky: a good tail does not repair it. */
	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_int(&w, "bad", 1);
	pc_jsonw_int(&w, NULL, 2);
	pc_jsonw_array_close(&w);
	assert_true(w.oom != 0);
	assert_null(pc_jsonw_finish(&w, NULL));

	/* free is safe after finish and twice. */
	pc_jsonw_free(&w);
	pc_jsonw_free(&w);
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_free(&w);
	assert_null(w.buf);
}

/* --- self-check on random input ---------------------------------------- */

static uint64_t	rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: the same sequence on every libc. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32));
}

/* Strict UTF-8; returns 1 if s[0..len) is valid. */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return (0);
		if (len - i - 1 < n)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += n + 1;
	}
	return (1);
}

/*
 * Decode a JSON string literal (s[0] == '"') into UTF-8; returns the
 * decoded length or -1 if it is not a well-formed literal ending at len.
 */
static long
json_decode(const char *s, size_t len, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789abcdefABCDEF";
	const char		*h;
	size_t			i, k, o = 0;
	unsigned int		cp, v;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return (-1);
	for (i = 1; i < len - 1; i++) {
		if (o + 4 > outlen)
			return (-1);
		if (s[i] == '"')
			return (-1);
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (++i >= len - 1)
			return (-1);
		switch (s[i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			if (i + 4 >= len - 1)
				return (-1);
			for (cp = 0, k = 1; k <= 4; k++) {
				h = strchr(hex, s[i + k]);
				if (s[i + k] == '\0' || h == NULL)
					return (-1);
				v = (unsigned int)(h - hex);
				cp = (cp << 4) | (v >= 16 ? v - 6 : v);
			}
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdfff)
				return (-1);	/* never written by jsonw */
			if (cp < 0x80) {
				out[o++] = (char)cp;
			} else if (cp < 0x800) {
				out[o++] = (char)(0xc0 | (cp >> 6));
				out[o++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[o++] = (char)(0xe0 | (cp >> 12));
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return (-1);
		}
	}
	return ((long)o);
}

/* Random bytes, or random valid code points when valid is set. */
static size_t
random_input(unsigned char *buf, size_t max, int valid)
{
	size_t		len, i = 0;
	uint32_t	cp, r;

	len = rng() % (max - 4);
	while (i < len) {
		r = rng();
		if (!valid) {
			/* Bias towards the interesting bytes. */
			switch (r % 4) {
			case 0:
				buf[i++] = (unsigned char)(r >> 8);
				break;
			case 1:
				buf[i++] = (unsigned char)((r >> 8) % 0x20);
				break;
			case 2:
				buf[i++] = (unsigned char)(0x80 | ((r >> 8) & 0x7f));
				break;
			default:
				buf[i++] = (unsigned char)(0x20 + (r >> 8) % 0x60);
				break;
			}
			continue;
		}
		switch (r % 4) {
		case 0:
			cp = (r >> 8) % 0x80;
			break;
		case 1:
			cp = 0x80 + (r >> 8) % 0x780;
			break;
		case 2:
			cp = 0x800 + (r >> 8) % 0xf800;
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0x2028 + (cp & 1);
			break;
		default:
			cp = 0x10000 + (r >> 8) % 0x100000;
			break;
		}
		if (cp < 0x80) {
			buf[i++] = (unsigned char)cp;
		} else if (cp < 0x800) {
			buf[i++] = (unsigned char)(0xc0 | (cp >> 6));
			buf[i++] = (unsigned char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			buf[i++] = (unsigned char)(0xe0 | (cp >> 12));
			buf[i++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			buf[i++] = (unsigned char)(0x80 | (cp & 0x3f));
		} else {
			buf[i++] = (unsigned char)(0xf0 | (cp >> 18));
			buf[i++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			buf[i++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			buf[i++] = (unsigned char)(0x80 | (cp & 0x3f));
		}
	}
	return (i);
}

static void
check_output(const char *out, size_t n, const unsigned char *in,
    size_t len, int valid, size_t iter)
{
	char	dec[512];
	long	dlen;
	size_t	i;

	if (!utf8_valid((const unsigned char *)out, n))
		fail_msg("#%zu: output is not valid UTF-8", iter);
	for (i = 0; i < n; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '<' || out[i] == '>' || out[i] == '&')
			fail_msg("#%zu: raw byte 0x%02x at %zu", iter,
			    (unsigned char)out[i], i);
	}
	if (n >= 3 && strstr(out, "\xe2\x80\xa8") != NULL)
		fail_msg("#%zu: raw U+2028", iter);
	if (n >= 3 && strstr(out, "\xe2\x80\xa9") != NULL)
		fail_msg("#%zu: raw U+2029", iter);
	dlen = json_decode(out, n, dec, sizeof(dec));
	if (dlen < 0)
		fail_msg("#%zu: not a JSON string literal: %s", iter, out);
	/* Valid input comes back unchanged. */
	if (valid && ((size_t)dlen != len || memcmp(dec, in, len) != 0))
		fail_msg("#%zu: round trip differs", iter);
	if (!valid && utf8_valid(in, len) &&
	    ((size_t)dlen != len || memcmp(dec, in, len) != 0))
		fail_msg("#%zu: round trip differs", iter);
}

static void
test_random_selfcheck(void **state)
{
	unsigned char	in[64];
	char		out[64 * 6 + 3];
	struct pc_jsonw	w;
	char		*s;
	size_t		iter, len, slen;
	int		n, valid;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (iter = 0; iter < 10000; iter++) {
		valid = (iter % 4 == 3);
		len = random_input(in, sizeof(in), valid);

		n = pc_json_escape((const char *)in, len, out, sizeof(out));
		if (n < 0)
			fail_msg("#%zu: escape failed", iter);
		assert_int_equal((size_t)n, strlen(out));
		check_output(out, (size_t)n, in, len, valid, iter);

		/* The writer must produce the same literal. */
		pc_jsonw_init(&w);
		pc_jsonw_stringn(&w, NULL, (const char *)in, len);
		s = pc_jsonw_finish(&w, &slen);
		assert_non_null(s);
		assert_int_equal(slen, (size_t)n);
		assert_memory_equal(s, out, slen);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_table_writer),
		cmocka_unit_test(test_escape_fit),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_random_selfcheck),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
