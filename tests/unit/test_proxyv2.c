/*
 * test_proxyv2.c: the PROXY v2 header parser, table driven.
 *
 * The vectors are built by hand from HAProxy's proxy-protocol.txt
 * (section 2.2): the 12-byte signature \r\n\r\n\0\r\nQUIT\n, ver_cmd
 * 0x21 (v2 PROXY) or 0x20 (v2 LOCAL), fam 0x11 (TCP4), 0x21 (TCP6) or
 * 0x00 (UNSPEC), a big-endian length, then for TCP4 src, dst (4 bytes
 * each), sport, dport (2 each) = 12 bytes; for TCP6 16 + 16 + 2 + 2 =
 * 36 bytes; then TLVs (type, 16-bit length, value, section 2.2.7).
 * Every row is its own cmocka test; rows are byte strings with an
 * explicit length so NUL bytes are tested as sent.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxyv2.h"

struct pv2_case {
	const char	*buf;
	size_t		 len;
	int		 want;
	int		 family;	/* OK rows */
	const char	*src;		/* OK rows: 4 or 16 bytes */
	uint16_t	 port;		/* OK rows */
	size_t		 hlen;		/* OK: header length; MORE: to read */
	const char	*why;		/* BAD rows, NULL: any */
};

static void	test_row(void **);
static void	test_every_prefix(void **);
static void	test_length_bound(void **);
static void	test_null(void **);

#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define B(s)	s, sizeof(s) - 1
/* 192.0.2.1:51234 -> 10.0.0.1:8443 */
#define TCP4	"\x11\x00\x0c" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01" \
		"\xc8\x22" "\x20\xfb"
#define V6SRC	"\x20\x01\x0d\xb8\x00\x00\x00\x00" \
		"\x00\x00\x00\x00\x00\x00\x00\x07"
#define V6DST	"\x20\x01\x0d\xb8\x00\x00\x00\x00" \
		"\x00\x00\x00\x00\x00\x00\x00\x01"
/* [2001:db8::7]:51234 -> [2001:db8::1]:8443 */
#define TCP6	"\x21\x00\x24" V6SRC V6DST "\xc8\x22" "\x20\xfb"
#define TLS	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"

#define OK4(n, s, h)							\
	{ "ok " n, test_row, NULL, NULL, &(struct pv2_case){ B(s),	\
	  PC_PROXYV2_OK, AF_INET, "\xc0\x00\x02\x01", 51234, h, NULL } }
#define OK6(n, s, h)							\
	{ "ok " n, test_row, NULL, NULL, &(struct pv2_case){ B(s),	\
	  PC_PROXYV2_OK, AF_INET6, V6SRC, 51234, h, NULL } }
#define LOCAL(n, s, h)							\
	{ "local " n, test_row, NULL, NULL, &(struct pv2_case){ B(s),	\
	  PC_PROXYV2_OK, AF_UNSPEC, NULL, 0, h, NULL } }
#define MORE(n, s, h)							\
	{ "more " n, test_row, NULL, NULL, &(struct pv2_case){ B(s),	\
	  PC_PROXYV2_MORE, 0, NULL, 0, h, NULL } }
#define BAD(n, s, w)							\
	{ "bad " n, test_row, NULL, NULL, &(struct pv2_case){ B(s),	\
	  PC_PROXYV2_BAD, 0, NULL, 0, 0, w } }

static const struct CMUnitTest tests[] = {
	OK4("tcp4", SIG "\x21" TCP4, 28),
	OK4("tcp4 then a ClientHello", SIG "\x21" TCP4 TLS, 28),
	OK6("tcp6", SIG "\x21" TCP6, 52),
	OK4("tcp4 with a NOOP and an ALPN TLV",
	    SIG "\x21\x11\x00\x17" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01"
	    "\xc8\x22" "\x20\xfb" "\x04\x00\x00" "\x01\x00\x05" "h2xyz", 39),
	OK4("tcp4 with an empty TLV at the end",
	    SIG "\x21\x11\x00\x0f" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01"
	    "\xc8\x22" "\x20\xfb" "\x04\x00\x00", 31),
	LOCAL("unspec", SIG "\x20\x00\x00\x00", 16),
	LOCAL("tcp4 (address ignored)", SIG "\x20" TCP4, 28),
	LOCAL("unspec with a TLV", SIG "\x20\x00\x00\x03" "\x04\x00\x00", 19),

	MORE("nothing yet", "", 16),
	MORE("part of the signature", "\r\n\r\n\0", 16),
	MORE("the signature", SIG, 16),
	MORE("no length yet", SIG "\x21\x11\x00", 16),
	MORE("tcp4 address half there", SIG "\x21\x11\x00\x0c\xc0\x00", 28),
	MORE("tcp6 without ports", SIG "\x21" "\x21\x00\x24" V6SRC V6DST, 52),

	BAD("TLS ClientHello", TLS, "no PROXY v2 signature"),
	BAD("v1 text header", "PROXY TCP4 192.0.2.1 10.0.0.1 51234 8443\r\n",
	    "no PROXY v2 signature"),
	BAD("v1 text, first byte only", "P", "no PROXY v2 signature"),
	BAD("HTTP request", "GET / HTTP/1.1\r\n\r\n", "no PROXY v2 signature"),
	BAD("signature, last byte wrong",
	    "\r\n\r\n\0\r\nQUIT\r" "\x21" TCP4, "no PROXY v2 signature"),
	BAD("version 1 in binary", SIG "\x11" TCP4, "not version 2"),
	BAD("version 3", SIG "\x31" TCP4, "not version 2"),
	BAD("version 0", SIG "\x01" TCP4, "not version 2"),
	BAD("command 2", SIG "\x22" TCP4, "unknown command"),
	BAD("command 15", SIG "\x2f" TCP4, "unknown command"),
	BAD("UDP over IPv4", SIG "\x21\x12\x00\x0c" "\xc0\x00\x02\x01"
	    "\x0a\x00\x00\x01\xc8\x22\x20\xfb", "not TCP over IPv4 or IPv6"),
	BAD("UDP over IPv6", SIG "\x21\x22\x00\x24",
	    "not TCP over IPv4 or IPv6"),
	BAD("AF_UNIX stream", SIG "\x21\x31\x00\xd8",
	    "not TCP over IPv4 or IPv6"),
	BAD("unspec transport over IPv4", SIG "\x21\x10\x00\x0c",
	    "not TCP over IPv4 or IPv6"),
	BAD("UNSPEC with PROXY", SIG "\x21\x00\x00\x00", "UNSPEC with PROXY"),
	BAD("tcp4, length 11", SIG "\x21\x11\x00\x0b" "\xc0\x00\x02\x01"
	    "\x0a\x00\x00\x01\xc8\x22\x20", "address block truncated"),
	BAD("tcp6, length 12", SIG "\x21\x21\x00\x0c",
	    "address block truncated"),
	BAD("length 65535", SIG "\x21\x11\xff\xff", "header too long"),
	BAD("length one past the bound", SIG "\x21\x11\x01\xf1",
	    "header too long"),
	BAD("TLV longer than the header",
	    SIG "\x21\x11\x00\x0f" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01"
	    "\xc8\x22" "\x20\xfb" "\x04\x00\x01", "malformed TLV"),
	BAD("TLV header cut",
	    SIG "\x21\x11\x00\x0e" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01"
	    "\xc8\x22" "\x20\xfb" "\x04\x00", "malformed TLV"),
	BAD("one stray byte after the addresses",
	    SIG "\x21\x11\x00\x0d" "\xc0\x00\x02\x01" "\x0a\x00\x00\x01"
	    "\xc8\x22" "\x20\xfb" "\x00", "malformed TLV"),

	cmocka_unit_test(test_every_prefix),
	cmocka_unit_test(test_length_bound),
	cmocka_unit_test(test_null),
};

static void
test_row(void **state)
{
	const struct pv2_case	*c = *state;
	struct pc_proxyv2	 h;
	const char		*why = NULL;

	assert_int_equal(pc_proxyv2_parse((const uint8_t *)c->buf, c->len,
	    &h, &why), c->want);
	assert_non_null(why);
	switch (c->want) {
	case PC_PROXYV2_OK:
		assert_int_equal(h.len, c->hlen);
		assert_int_equal(h.family, c->family);
		assert_int_equal(h.src_port, c->port);
		if (c->family == AF_INET)
			assert_memory_equal(h.src, c->src, 4);
		else if (c->family == AF_INET6)
			assert_memory_equal(h.src, c->src, 16);
		else
			assert_int_equal(h.cmd, PC_PROXYV2_CMD_LOCAL);
		break;
	case PC_PROXYV2_MORE:
		assert_int_equal(h.len, c->hlen);
		break;
	default:
		if (c->why != NULL)
			assert_string_equal(why, c->why);
		break;
	}
}

/*
 * Every proper prefix of a valid header asks for more, and never for
 * more than the whole header: Kore reads exactly what is asked, so the
 * client's first TLS byte is never taken.
 */
static void
test_every_prefix(void **state)
{
	static const char	v4[] = SIG "\x21" TCP4;
	static const char	v6[] = SIG "\x21" TCP6;
	struct pc_proxyv2	 h;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(v4) - 1; i++) {
		assert_int_equal(pc_proxyv2_parse((const uint8_t *)v4, i, &h,
		    NULL), PC_PROXYV2_MORE);
		assert_true(h.len > i && h.len <= sizeof(v4) - 1);
	}
	for (i = 0; i < sizeof(v6) - 1; i++) {
		assert_int_equal(pc_proxyv2_parse((const uint8_t *)v6, i, &h,
		    NULL), PC_PROXYV2_MORE);
		assert_true(h.len > i && h.len <= sizeof(v6) - 1);
	}
}

/* The largest header taken: TCP4 and one NOOP TLV up to the bound. */
static void
test_length_bound(void **state)
{
	uint8_t			buf[PC_PROXYV2_MAX + 1];
	struct pc_proxyv2	h;
	size_t			n, t;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, SIG "\x21" TCP4, 28);
	n = PC_PROXYV2_MAX - PC_PROXYV2_FIXED;
	buf[14] = (uint8_t)(n >> 8);
	buf[15] = (uint8_t)n;
	t = n - 12 - 3;
	buf[28] = 0x04;
	buf[29] = (uint8_t)(t >> 8);
	buf[30] = (uint8_t)t;
	assert_int_equal(pc_proxyv2_parse(buf, PC_PROXYV2_MAX, &h, NULL),
	    PC_PROXYV2_OK);
	assert_int_equal(h.len, PC_PROXYV2_MAX);

	n++;
	buf[14] = (uint8_t)(n >> 8);
	buf[15] = (uint8_t)n;
	assert_int_equal(pc_proxyv2_parse(buf, sizeof(buf), &h, NULL),
	    PC_PROXYV2_BAD);
}

static void
test_null(void **state)
{
	struct pc_proxyv2	h;

	(void)state;
	assert_int_equal(pc_proxyv2_parse(NULL, 0, &h, NULL),
	    PC_PROXYV2_MORE);
	assert_int_equal(h.len, PC_PROXYV2_FIXED);
	assert_int_equal(pc_proxyv2_parse(NULL, 1, &h, NULL),
	    PC_PROXYV2_BAD);
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
