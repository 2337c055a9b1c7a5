/*
 * test_httpscan.c: the request-head check, table driven. Each row is
 * its own cmocka test; rows are byte strings with an explicit length
 * (sizeof - 1) so NUL, CR and LF inside them are tested as sent.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpscan.h"

struct head_case {
	const char	*head;
	size_t		 len;
	int		 want;
	const char	*why;		/* expected reason, NULL: any */
};

struct conn_case {
	const char	*value;
	int		 close;
};

static void	test_head_row(void **);
static void	test_conn_row(void **);
static void	test_fields_limit(void **);
static void	test_every_control_byte(void **);
static void	test_null_and_short(void **);

#define H(s)	s, sizeof(s) - 1
#define OK(s)								\
	{ "ok  " #s, test_head_row, NULL, NULL,				\
	  &(struct head_case){ H(s), PC_HTTPSCAN_OK, NULL } }
#define BAD(s, w)							\
	{ "bad " #s, test_head_row, NULL, NULL,				\
	  &(struct head_case){ H(s), PC_HTTPSCAN_BAD, w } }
#define CONN(v, c)							\
	{ "connection " #v, test_conn_row, NULL, NULL,			\
	  &(struct conn_case){ v, c } }

#define RL	"GET /healthz HTTP/1.1\r\n"
#define HOST	"Host: 127.0.0.1\r\n"

static const struct CMUnitTest tests[] = {
	OK(RL HOST "\r\n"),
	OK("\r\n" RL HOST "\r\n"),
	OK("POST /api/login?x=1&y=%20 HTTP/1.1\r\n" HOST
	    "Content-Length: 2\r\n\r\n"),
	OK("GET * HTTP/1.0\r\n" HOST "\r\n"),
	OK("PRI * HTTP/2.0\r\n\r\n"),
	OK(RL HOST "X-Tab:\ta\tb\t\r\n\r\n"),
	OK(RL HOST "X-Empty:\r\n\r\n"),
	OK(RL HOST "!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n"),

	/* The smuggling of the issue: a NUL hides the rest from Kore. */
	BAD(RL HOST "X-A: a\0b\r\nContent-Length: 48\r\n\r\n",
	    "NUL in field value"),
	BAD(RL "\0" HOST "\r\n", "field name empty or folded"),
	BAD("GET /he\0althz HTTP/1.1\r\n" HOST "\r\n", "request target"),
	BAD(RL HOST "X-A: a\rb\r\n\r\n", "line ending"),
	BAD(RL HOST "X-A: a\nb\r\n\r\n", "line ending"),
	BAD(RL HOST "X-A: \x1b[31m\r\n\r\n", "control byte in field value"),
	BAD(RL HOST "X-A: a\x7f\r\n\r\n", "control byte in field value"),
	BAD(RL HOST "X-A: \x0b\r\n\r\n", "control byte in field value"),
	BAD(RL HOST "X-Utf8: \xe3\x81\x82\r\n\r\n",
	    "non-ASCII byte in field value"),
	BAD("GET /healthz HTTP/1.1\n" "Host: 127.0.0.1\n\n", "line ending"),
	BAD(RL "Host: 127.0.0.1\n\r\n", "line ending"),
	BAD(RL HOST "\n", "line ending"),
	BAD(RL HOST, "line ending"),
	BAD(RL HOST "\r\n\r\n", "bytes after the head"),
	BAD("\r\n\r\n" RL HOST "\r\n", "method"),

	/* Request line. */
	BAD("get /healthz HTTP/1.1\r\n" HOST "\r\n", "method"),
	BAD("Get /healthz HTTP/1.1\r\n" HOST "\r\n", "method"),
	BAD("GET  /healthz HTTP/1.1\r\n" HOST "\r\n", "request target"),
	BAD("GET /healthz  HTTP/1.1\r\n" HOST "\r\n", "protocol version"),
	BAD(" GET /healthz HTTP/1.1\r\n" HOST "\r\n", "method"),
	BAD("GET\t/healthz\tHTTP/1.1\r\n" HOST "\r\n", "method"),
	BAD("GET /healthz HTTP/1.1 \r\n" HOST "\r\n", "protocol version"),
	BAD("GET /healthz HTTP/1.1 x\r\n" HOST "\r\n", "protocol version"),
	BAD("GET /healthz\r\n" HOST "\r\n", "request target"),
	BAD("GET /healthz http/1.1\r\n" HOST "\r\n", "protocol version"),
	BAD("GET /healthz HTTP/11\r\n" HOST "\r\n", "protocol version"),
	BAD("GET /a\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n", "request target"),
	BAD("GETTINGVERYLONGMETHOD / HTTP/1.1\r\n" HOST "\r\n", "method"),
	BAD("GET /a\x01b HTTP/1.1\r\n" HOST "\r\n", "request target"),

	/* Field lines. */
	BAD(RL ": empty-name\r\n" HOST "\r\n", "field name empty or folded"),
	BAD(RL HOST " folded\r\n\r\n", "field name empty or folded"),
	BAD(RL HOST "\tfolded\r\n\r\n", "field name empty or folded"),
	BAD(RL "Host : 127.0.0.1\r\n\r\n", "field name"),
	BAD(RL "Ho st: 127.0.0.1\r\n\r\n", "field name"),
	BAD(RL "Host\r\n\r\n", "field name"),
	BAD(RL "X(A): 1\r\n" HOST "\r\n", "field name"),
	BAD(RL "X-\xc3\xa9: 1\r\n" HOST "\r\n", "field name"),

	CONN("close", 1),
	CONN("Close", 1),
	CONN("keep-alive, close", 1),
	CONN("keep-alive,close", 1),
	CONN(" close ", 1),
	CONN("upgrade,\tCLOSE", 1),
	CONN("keep-alive", 0),
	CONN("closed", 0),
	CONN("x-close", 0),
	CONN("", 0),
	CONN(",,", 0),

	cmocka_unit_test(test_fields_limit),
	cmocka_unit_test(test_every_control_byte),
	cmocka_unit_test(test_null_and_short),
};

static void
test_head_row(void **state)
{
	const struct head_case	*c = *state;
	const char		*why = NULL;
	int			 got;

	got = pc_httpscan_head((const unsigned char *)c->head, c->len, &why);
	assert_int_equal(got, c->want);
	assert_non_null(why);
	if (c->why != NULL)
		assert_string_equal(why, c->why);
	if (c->want == PC_HTTPSCAN_OK)
		assert_string_equal(why, "ok");
}

static void
test_conn_row(void **state)
{
	const struct conn_case	*c = *state;

	assert_int_equal(pc_httpscan_conn_close(c->value), c->close);
}

/* n field lines of "X-F-i: i" after the request line and a Host. */
static char *
head_with_fields(size_t n, size_t *len)
{
	char	*p;
	size_t	 i, off, cap;

	cap = 64 + n * 32;
	p = malloc(cap);
	assert_non_null(p);
	off = (size_t)snprintf(p, cap, RL HOST);
	for (i = 1; i < n; i++)
		off += (size_t)snprintf(p + off, cap - off, "X-F-%zu: %zu\r\n",
		    i, i);
	off += (size_t)snprintf(p + off, cap - off, "\r\n");
	*len = off;
	return (p);
}

/* The README's "more than 63 field lines": 63 pass, 64 are refused. */
static void
test_fields_limit(void **state)
{
	char	*p;
	size_t	 len;

	(void)state;
	p = head_with_fields(PC_HTTPSCAN_FIELDS_MAX, &len);
	assert_int_equal(pc_httpscan_head((unsigned char *)p, len, NULL),
	    PC_HTTPSCAN_OK);
	free(p);
	p = head_with_fields(PC_HTTPSCAN_FIELDS_MAX + 1, &len);
	assert_int_equal(pc_httpscan_head((unsigned char *)p, len, NULL),
	    PC_HTTPSCAN_TOO_MANY);
	/* A bad byte wins over the count: 400, not 431. */
	p[strlen(RL) + 2] = '\0';
	assert_int_equal(pc_httpscan_head((unsigned char *)p, len, NULL),
	    PC_HTTPSCAN_BAD);
	free(p);
}

/* Every byte below 0x20 but HTAB, DEL and above, refused in a value. */
static void
test_every_control_byte(void **state)
{
	unsigned char	 buf[64];
	const char	*pre = RL "X-A: a";
	size_t		 n;
	int		 c, want;

	(void)state;
	for (c = 0; c < 256; c++) {
		n = strlen(pre);
		memcpy(buf, pre, n);
		buf[n++] = (unsigned char)c;
		memcpy(buf + n, "b\r\n\r\n", 5);
		n += 5;
		want = (c == '\t' || (c >= 0x20 && c < 0x7f)) ?
		    PC_HTTPSCAN_OK : PC_HTTPSCAN_BAD;
		assert_int_equal(pc_httpscan_head(buf, n, NULL), want);
	}
}

static void
test_null_and_short(void **state)
{
	const char	*why;

	(void)state;
	assert_int_equal(pc_httpscan_head(NULL, 0, &why), PC_HTTPSCAN_BAD);
	assert_int_equal(pc_httpscan_head((const unsigned char *)"", 0, &why),
	    PC_HTTPSCAN_BAD);
	assert_int_equal(pc_httpscan_head((const unsigned char *)"\r\n", 2,
	    &why), PC_HTTPSCAN_BAD);
	assert_int_equal(pc_httpscan_conn_close(NULL), 0);
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
