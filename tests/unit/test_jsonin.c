/*
 * test_jsonin.c: strict JSON request bodies (jsonin.c), table-driven.
 * Each row is a body, the parser's verdict and, for a body it takes,
 * the string member "a" as it must read after decoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "jsonin.h"

#define OK	PC_JSONIN_OK
#define SYNTAX	PC_JSONIN_SYNTAX
#define ENC	PC_JSONIN_ENCODING

static const struct {
	const char		*body;
	size_t			len;	/* 0: strlen(body) */
	enum pc_jsonin_result	want;
	const char		*a;	/* member "a" when OK, or NULL */
} cases[] = {
	/* Every \u escape decodes; a surrogate pair is one code point. */
	{ "{\"a\":\"\\u0061dmin1\"}", 0, OK, "admin1" },
	{ "{\"a\":\"\\u8fd4\\u91d1\"}", 0, OK, "\xe8\xbf\x94\xe9\x87\x91" },
	{ "{\"a\":\"\\ud83d\\ude00\"}", 0, OK, "\xf0\x9f\x98\x80" },
	{ "{\"a\":\"\\uD83D\\uDE00\"}", 0, OK, "\xf0\x9f\x98\x80" },
	{ "{\"a\":\"\\u0026\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0, OK,
	    "&\"\\/\b\f\n\r\t" },
	{ "{\"a\":\"\xe8\xbf\x94\xe9\x87\x91\"}", 0, OK,
	    "\xe8\xbf\x94\xe9\x87\x91" },
	/* Lone surrogates, either half, anywhere. */
	{ "{\"a\":\"\\ud800\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"\\udc00\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"\\ud800x\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"\\ud800\\u0041\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"\\ude00\\ud83d\"}", 0, SYNTAX, NULL },
	{ "{\"\\ud800\":\"x\"}", 0, SYNTAX, NULL },
	/* Invalid UTF-8: bad bytes, overlong, an encoded surrogate, cut. */
	{ "{\"a\":\"\xff\"}", 0, ENC, NULL },
	{ "{\"a\":\"\xc0\xaf\"}", 0, ENC, NULL },
	{ "{\"a\":\"\xed\xa0\x80\"}", 0, ENC, NULL },
	{ "{\"a\":\"\xe8\xbf\"}", 0, ENC, NULL },
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, ENC, NULL },
	/* NUL: escaped, raw in a string, raw outside one. */
	{ "{\"a\":\"\\u0000\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\\u0000y\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\0\"}", 9, SYNTAX, NULL },
	{ "{\"a\":\"x\"}\0", 10, SYNTAX, NULL },
	/* Raw control characters in strings. */
	{ "{\"a\":\"x\ty\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\ny\"}", 0, SYNTAX, NULL },
	/* A member name twice, at the top or deeper. */
	{ "{\"amount\":1,\"amount\":100000000}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\",\"a\":\"x\"}", 0, SYNTAX, NULL },
	{ "{\"b\":{\"c\":1,\"c\":2}}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\",\"\\u0061\":\"y\"}", 0, SYNTAX, NULL },
	/* Numbers: no leading zeros, nothing JavaScript-only. */
	{ "{\"n\":01}", 0, SYNTAX, NULL },
	{ "{\"n\":-01}", 0, SYNTAX, NULL },
	{ "{\"n\":00}", 0, SYNTAX, NULL },
	{ "{\"n\":01.5}", 0, SYNTAX, NULL },
	{ "{\"n\":+1}", 0, SYNTAX, NULL },
	{ "{\"n\":.5}", 0, SYNTAX, NULL },
	{ "{\"n\":1.}", 0, SYNTAX, NULL },
	{ "{\"n\":0x10}", 0, SYNTAX, NULL },
	{ "{\"n\":NaN}", 0, SYNTAX, NULL },
	{ "{\"n\":Infinity}", 0, SYNTAX, NULL },
	{ "{\"n\":1e400}", 0, SYNTAX, NULL },
	{ "{\"n\":99999999999999999999}", 0, SYNTAX, NULL },
	{ "{\"n\":0}", 0, OK, NULL },
	{ "{\"n\":-0}", 0, OK, NULL },
	{ "{\"n\":0.5,\"m\":1e3,\"k\":-2E-2}", 0, OK, NULL },
	/* One value, nothing after it but whitespace. */
	{ "{}", 0, OK, NULL },
	{ " \t\r\n{}\r\n ", 0, OK, NULL },
	{ "{} x", 0, SYNTAX, NULL },
	{ "{}{}", 0, SYNTAX, NULL },
	{ "{},", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\"", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\",}", 0, SYNTAX, NULL },
	{ "{'a':'x'}", 0, SYNTAX, NULL },
	{ "{a:\"x\"}", 0, SYNTAX, NULL },
	{ "{\"a\":\"x\"} // c", 0, SYNTAX, NULL },
	{ "\xef\xbb\xbf{}", 0, SYNTAX, NULL },
	/* An object at the top and nothing else. */
	{ "[]", 0, PC_JSONIN_NOT_OBJECT, NULL },
	{ "[{\"a\":\"x\"}]", 0, PC_JSONIN_NOT_OBJECT, NULL },
	{ "\"x\"", 0, SYNTAX, NULL },
	{ "1", 0, SYNTAX, NULL },
	{ "null", 0, SYNTAX, NULL },
	{ "", 0, PC_JSONIN_EMPTY, NULL },
	/* Brackets and quotes inside strings are text, not structure. */
	{ "{\"a\":\"[[[[[[[[[[[[{{{{{{{{{{{{\"}", 0, OK,
	    "[[[[[[[[[[[[{{{{{{{{{{{{" },
	{ "{\"a\":\"\\\"[[[[[[[[[[[[\"}", 0, OK, "\"[[[[[[[[[[[[" },
	{ "{\"a\":\"\\\\\",\"b\":[[[[[[[[[]]]]]]]]]}", 0, OK, "\\" },
	{ "{\"a\":\"\\\\\",\"b\":[[[[[[[[[[]]]]]]]]]]}", 0,
	    PC_JSONIN_DEPTH, NULL },
	{ " ", 0, SYNTAX, NULL },
};

static void
test_table(void **state)
{
	struct pc_jsonin	j;
	enum pc_jsonin_result	got;
	const char		*s;
	size_t			i, len, slen;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].body);
		got = pc_jsonin_parse(&j, cases[i].body, len);
		if (got != cases[i].want)
			fail_msg("case %zu: %s: got %d, want %d", i,
			    cases[i].body, got, cases[i].want);
		if (got != OK)
			assert_null(j.root);
		if (cases[i].a != NULL) {
			s = pc_jsonin_string(&j, "a", &slen);
			if (s == NULL || slen != strlen(cases[i].a) ||
			    memcmp(s, cases[i].a, slen) != 0)
				fail_msg("case %zu: %s: wrong value", i,
				    cases[i].body);
		}
		pc_jsonin_free(&j);
		assert_null(j.root);
	}
}

/* n containers: "{"a":" n-1 times around {} (objects) or [] (arrays). */
static size_t
nest(char *buf, size_t cap, int n, int arrays)
{
	size_t	o;
	int	k;

	o = 0;
	assert_true((size_t)n * 6 + 8 < cap);
	o += (size_t)snprintf(buf + o, cap - o, "{\"a\":");
	for (k = 1; k < n; k++)
		o += (size_t)snprintf(buf + o, cap - o, arrays ? "[" : "{\"a\":");
	o += (size_t)snprintf(buf + o, cap - o, "1");
	for (k = 1; k < n; k++)
		o += (size_t)snprintf(buf + o, cap - o, arrays ? "]" : "}");
	o += (size_t)snprintf(buf + o, cap - o, "}");
	return (o);
}

static void
test_depth(void **state)
{
	struct pc_jsonin	j;
	static char		buf[16384];
	size_t			len;
	int			arrays;

	(void)state;
	for (arrays = 0; arrays <= 1; arrays++) {
		len = nest(buf, sizeof(buf), PC_JSONIN_MAX_DEPTH, arrays);
		assert_int_equal(pc_jsonin_parse(&j, buf, len), OK);
		pc_jsonin_free(&j);
		len = nest(buf, sizeof(buf), PC_JSONIN_MAX_DEPTH + 1, arrays);
		assert_int_equal(pc_jsonin_parse(&j, buf, len),
		    PC_JSONIN_DEPTH);
		assert_null(j.root);
	}
	/* Deep, within the size bound: refused, and no stack trouble. */
	len = nest(buf, sizeof(buf), 2000, 1);
	assert_true(len <= PC_JSONIN_MAX_LEN);
	assert_int_equal(pc_jsonin_parse(&j, buf, len), PC_JSONIN_DEPTH);
	/* Ten levels is Kore's old figure: an 11th was refused before too. */
	assert_int_equal(PC_JSONIN_MAX_DEPTH, 10);
}

static void
test_size(void **state)
{
	struct pc_jsonin	j;
	static char		buf[PC_JSONIN_MAX_LEN + 2];
	const char		*s;
	size_t			len;

	(void)state;
	/* {"a":"xxx...x"} exactly PC_JSONIN_MAX_LEN bytes long. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "{\"a\":\"", 6);
	memcpy(buf + PC_JSONIN_MAX_LEN - 2, "\"}", 2);
	assert_int_equal(pc_jsonin_parse(&j, buf, PC_JSONIN_MAX_LEN), OK);
	assert_non_null(s = pc_jsonin_string(&j, "a", &len));
	assert_int_equal(len, PC_JSONIN_MAX_LEN - 8);
	pc_jsonin_free(&j);

	/* One byte more (a space after the object) is too large. */
	buf[PC_JSONIN_MAX_LEN] = ' ';
	assert_int_equal(pc_jsonin_parse(&j, buf, PC_JSONIN_MAX_LEN + 1),
	    PC_JSONIN_TOO_LARGE);
	assert_null(j.root);
}

static void
test_getters(void **state)
{
	static const char	body[] = "{\"s\":\"x\",\"e\":\"\",\"n\":5,"
	    "\"b\":true,\"c\":false,\"z\":null,\"f\":1.0,"
	    "\"big\":999999999999,\"neg\":-1,\"o\":{},\"arr\":[]}";
	struct pc_jsonin	j;
	const char		*s;
	size_t			len;
	int64_t			n;
	int			b;

	(void)state;
	assert_int_equal(pc_jsonin_parse(&j, body, strlen(body)), OK);

	assert_string_equal(pc_jsonin_string(&j, "s", &len), "x");
	assert_int_equal(len, 1);
	assert_string_equal(pc_jsonin_string(&j, "e", NULL), "");
	assert_null(pc_jsonin_string(&j, "n", &len));
	assert_null(pc_jsonin_string(&j, "z", &len));
	assert_null(pc_jsonin_string(&j, "missing", &len));
	assert_null(pc_jsonin_string(&j, "S", &len));	/* names exact */

	assert_int_equal(pc_jsonin_string_opt(&j, "s", &s, &len), 1);
	assert_string_equal(s, "x");
	assert_int_equal(pc_jsonin_string_opt(&j, "missing", &s, &len), 0);
	assert_null(s);
	assert_int_equal(pc_jsonin_string_opt(&j, "n", &s, &len), -1);
	assert_int_equal(pc_jsonin_string_opt(&j, "z", &s, &len), -1);
	assert_int_equal(pc_jsonin_string_opt(&j, "o", &s, &len), -1);

	assert_int_equal(pc_jsonin_int(&j, "n", 1, 10, &n), 1);
	assert_int_equal(n, 5);
	assert_int_equal(pc_jsonin_int(&j, "n", 5, 5, &n), 1);
	assert_int_equal(pc_jsonin_int(&j, "n", 6, 10, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "n", 1, 4, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "f", 0, 10, &n), 0); /* 1.0 */
	assert_int_equal(pc_jsonin_int(&j, "s", 0, 10, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "b", 0, 10, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "missing", 0, 10, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "big", 1, 999999999999LL, &n), 1);
	assert_int_equal(n, 999999999999LL);
	assert_int_equal(pc_jsonin_int(&j, "big", 1, 999999999998LL, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "neg", 1, 10, &n), 0);
	assert_int_equal(pc_jsonin_int(&j, "neg", INT64_MIN, 0, &n), 1);
	assert_int_equal(n, -1);

	assert_int_equal(pc_jsonin_bool(&j, "b", &b), 1);
	assert_int_equal(b, 1);
	assert_int_equal(pc_jsonin_bool(&j, "c", &b), 1);
	assert_int_equal(b, 0);
	assert_int_equal(pc_jsonin_bool(&j, "n", &b), 0);
	assert_int_equal(pc_jsonin_bool(&j, "z", &b), 0);

	assert_int_equal(pc_jsonin_has(&j, "z"), 1);
	assert_int_equal(pc_jsonin_has(&j, "arr"), 1);
	assert_int_equal(pc_jsonin_has(&j, "missing"), 0);
	pc_jsonin_free(&j);

	/* A freed or failed body answers nothing. */
	assert_null(pc_jsonin_string(&j, "s", &len));
	assert_int_equal(pc_jsonin_has(&j, "s"), 0);
	pc_jsonin_free(&j);
}

static const struct {
	const char	*ct;
	int		ok;
} media[] = {
	{ "application/json", 1 },
	{ "Application/JSON", 1 },
	{ "application/json; charset=utf-8", 1 },
	{ "application/json;charset=UTF-8", 1 },
	{ "application/json ; charset=\"utf-8\" ", 1 },
	{ " application/json\t", 1 },
	{ "application/json; charset=latin1", 0 },
	{ "application/json; charset=utf-16", 0 },
	{ "application/json; charset=utf-8x", 0 },
	{ "application/json; charset = utf-8", 0 },
	{ "application/json; boundary=x", 0 },
	{ "application/json;", 0 },
	{ "application/json; charset=utf-8; x=y", 0 },
	{ "application/jsonx", 0 },
	{ "application/json-patch+json", 0 },
	{ "application/x-www-form-urlencoded", 0 },
	{ "text/plain", 0 },
	{ "text/json", 0 },
	{ "multipart/form-data", 0 },
	{ "", 0 },
	{ "application/", 0 },
};

static void
test_media_type(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(media) / sizeof(media[0]); i++) {
		if (pc_jsonin_media_type(media[i].ct) != media[i].ok)
			fail_msg("media %zu: \"%s\"", i, media[i].ct);
	}
	assert_int_equal(pc_jsonin_media_type(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_media_type),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
