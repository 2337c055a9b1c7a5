/*
 * test_cidr.c: CIDR parsing and matching, table driven.
 *
 * Every row of the tables below is its own cmocka test, so a failure
 * names the exact input.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cidr.h"

struct parse_case {
	const char	*text;
	int		 valid;
	int		 family;	/* expected, if valid */
	int		 prefix;	/* expected, if valid */
};

struct match_case {
	const char	*cidr;
	const char	*addr;
	int		 match;
};

static void	test_parse_row(void **);
static void	test_match_row(void **);
static void	test_parse_null(void **);
static void	test_parse_zeroes_on_error(void **);
static void	test_match_bad_args(void **);
static void	test_list_match(void **);
static void	test_addr_str(void **);
static void	addr_from_text(const char *, int *, uint8_t *);

/*
 * One test per row; the compound literal is the row itself. Names use
 * the source spelling (#t) so escapes print readably.
 */
#define OK(t, fam, pfx)							\
	{ "parse ok  " #t, test_parse_row, NULL, NULL,			\
	  &(struct parse_case){ t, 1, fam, pfx } }
#define BAD(t)								\
	{ "parse bad " #t, test_parse_row, NULL, NULL,		\
	  &(struct parse_case){ t, 0, 0, 0 } }
#define MATCH(c, a, m)							\
	{ "match " #c " " #a, test_match_row, NULL, NULL,			\
	  &(struct match_case){ c, a, m } }

static const struct CMUnitTest tests[] = {
	/* IPv4, valid. */
	OK("10.0.0.0/8", AF_INET, 8),
	OK("10.8.0.0/24", AF_INET, 24),
	OK("192.168.1.7", AF_INET, 32),
	OK("192.168.1.7/32", AF_INET, 32),
	OK("0.0.0.0/0", AF_INET, 0),
	OK("255.255.255.255/32", AF_INET, 32),
	OK("10.0.0.0/7", AF_INET, 7),
	OK("10.0.0.128/25", AF_INET, 25),
	OK("172.16.0.0/12", AF_INET, 12),

	/* IPv6, valid, including compressed and edge prefixes. */
	OK("::/0", AF_INET6, 0),
	OK("::", AF_INET6, 128),
	OK("::1", AF_INET6, 128),
	OK("::1/128", AF_INET6, 128),
	OK("fd00:8::/64", AF_INET6, 64),
	OK("2001:db8::/32", AF_INET6, 32),
	OK("2001:db8::/127", AF_INET6, 127),
	OK("2001:db8::2/127", AF_INET6, 127),
	OK("2001:0db8:0000:0000:0000:0000:0000:0000/32", AF_INET6, 32),
	OK("2001:DB8::/32", AF_INET6, 32),
	OK("fe80::/10", AF_INET6, 10),
	OK("8000::/1", AF_INET6, 1),
	OK("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", AF_INET6, 128),
	OK("2001:db8:0:0:1::/80", AF_INET6, 80),

	/* IPv4-mapped entries become the equivalent IPv4 entry. */
	OK("::ffff:10.0.0.0/104", AF_INET, 8),
	OK("::ffff:10.1.2.3", AF_INET, 32),
	OK("::ffff:0.0.0.0/96", AF_INET, 0),
	OK("::ffff:a00:0/104", AF_INET, 8),

	/* Invalid: the brief's list. */
	BAD(""),
	BAD(" 10.0.0.0/8"),
	BAD("10.0.0.0/33"),
	BAD("10.0.0.0/08"),
	BAD("10.0.0.0/"),
	BAD("1.2.3.4/32x"),
	BAD("::1/129"),
	BAD("10.0.0.1/24"),

	/* Invalid: prefix syntax. */
	BAD("10.0.0.0/8 "),
	BAD("10.0.0.0 /8"),
	BAD("10.0.0.0/ 8"),
	BAD("10.0.0.0/+8"),
	BAD("10.0.0.0/-8"),
	BAD("10.0.0.0/00"),
	BAD("10.0.0.0/0x8"),
	BAD("10.0.0.0/8/8"),
	BAD("10.0.0.0//8"),
	BAD("10.0.0.0/0008"),
	BAD("10.0.0.0/4294967304"),
	BAD("::/0128"),
	BAD("::/1000"),
	BAD("/8"),
	BAD("/"),

	/* Invalid: addresses. */
	BAD("10.0.0/8"),
	BAD("10.0.0.0.0/8"),
	BAD("256.0.0.0/8"),
	BAD("010.0.0.0/8"),
	BAD("10.0.0.0\n"),
	BAD("10.0.0.0\t/8"),
	BAD("1.2.3.4:80"),
	BAD("fe80::1%eth0"),
	BAD("fe80::1%eth0/128"),
	BAD("2001:db8:::/48"),
	BAD("2001:db8::g/128"),
	BAD("1:2:3:4:5:6:7:8:9/128"),
	BAD("[::1]/128"),
	BAD("localhost"),
	BAD("10.0.0.0/8,10.1.0.0/16"),
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/8"),

	/* Invalid: host bits beyond the prefix. */
	BAD("11.0.0.0/7"),
	BAD("0.0.0.1/0"),
	BAD("192.168.1.7/31"),
	BAD("10.0.0.64/25"),
	BAD("::1/0"),
	BAD("::1/127"),
	BAD("2001:db8::1/127"),
	BAD("2001:db9::/31"),
	BAD("fd00:8::1/64"),
	BAD("::ffff:10.0.0.1/104"),

	/* IPv4 matching. */
	MATCH("10.0.0.0/8", "10.0.0.0", 1),
	MATCH("10.0.0.0/8", "10.255.255.255", 1),
	MATCH("10.0.0.0/8", "11.0.0.0", 0),
	MATCH("10.0.0.0/8", "9.255.255.255", 0),
	MATCH("10.8.0.0/24", "10.8.0.77", 1),
	MATCH("10.8.0.0/24", "10.8.1.77", 0),
	MATCH("10.0.0.128/25", "10.0.0.127", 0),
	MATCH("10.0.0.128/25", "10.0.0.128", 1),
	MATCH("10.0.0.128/25", "10.0.0.255", 1),
	MATCH("192.168.1.7", "192.168.1.7", 1),
	MATCH("192.168.1.7", "192.168.1.6", 0),
	MATCH("192.168.1.7", "192.168.1.8", 0),
	MATCH("0.0.0.0/0", "0.0.0.0", 1),
	MATCH("0.0.0.0/0", "255.255.255.255", 1),
	MATCH("172.16.0.0/12", "172.31.255.255", 1),
	MATCH("172.16.0.0/12", "172.32.0.0", 0),

	/* IPv4-mapped IPv6 addresses match IPv4 entries. */
	MATCH("10.0.0.0/8", "::ffff:10.1.2.3", 1),
	MATCH("10.0.0.0/8", "::ffff:11.1.2.3", 0),
	MATCH("0.0.0.0/0", "::ffff:1.2.3.4", 1),
	MATCH("192.168.1.7", "::ffff:192.168.1.7", 1),
	MATCH("::ffff:10.0.0.0/104", "10.9.9.9", 1),
	MATCH("::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1),
	MATCH("::ffff:10.0.0.0/104", "11.0.0.0", 0),
	/* ...but not IPv4-compatible or other lookalikes. */
	MATCH("10.0.0.0/8", "::10.1.2.3", 0),
	MATCH("10.0.0.0/8", "::fffe:10.1.2.3", 0),
	MATCH("10.0.0.0/8", "64:ff9b::10.1.2.3", 0),

	/* Families never cross otherwise. */
	MATCH("::/0", "10.0.0.1", 0),
	MATCH("::/0", "::ffff:10.0.0.1", 0),
	MATCH("0.0.0.0/0", "::1", 0),
	MATCH("0.0.0.0/0", "2001:db8::1", 0),
	MATCH("::/96", "0.0.0.1", 0),

	/* IPv6 matching. */
	MATCH("::/0", "::", 1),
	MATCH("::/0", "::1", 1),
	MATCH("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1),
	MATCH("::1/128", "::1", 1),
	MATCH("::1/128", "::2", 0),
	MATCH("::1/128", "::", 0),
	MATCH("2001:db8::/127", "2001:db8::", 1),
	MATCH("2001:db8::/127", "2001:db8::1", 1),
	MATCH("2001:db8::/127", "2001:db8::2", 0),
	MATCH("2001:db8::2/127", "2001:db8::3", 1),
	MATCH("2001:db8::2/127", "2001:db8::1", 0),
	MATCH("fd00:8::/64", "fd00:8::dead:beef", 1),
	MATCH("fd00:8::/64", "fd00:8:0:0:ffff:ffff:ffff:ffff", 1),
	MATCH("fd00:8::/64", "fd00:8:0:1::", 0),
	MATCH("2001:db8::/32", "2001:0db8:ffff::1", 1),
	MATCH("2001:db8::/32", "2001:db9::1", 0),
	MATCH("fe80::/10", "febf::1", 1),
	MATCH("fe80::/10", "fec0::1", 0),
	MATCH("8000::/1", "ffff::", 1),
	MATCH("8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0),
	MATCH("2001:db8:0:0:1::/80", "2001:db8::1:0:0:1", 1),
	MATCH("2001:db8:0:0:1::/80", "2001:db8::2:0:0:1", 0),

	cmocka_unit_test(test_parse_null),
	cmocka_unit_test(test_parse_zeroes_on_error),
	cmocka_unit_test(test_match_bad_args),
	cmocka_unit_test(test_list_match),
	cmocka_unit_test(test_addr_str),
};

/* Test inputs are trusted: a bad one is a bug in the table. */
static void
addr_from_text(const char *text, int *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	*family = (strchr(text, ':') != NULL) ? AF_INET6 : AF_INET;
	if (inet_pton(*family, text, addr) != 1)
		fail_msg("bad address in test table: %s", text);
}

static void
test_parse_row(void **state)
{
	const struct parse_case	*pc = *state;
	struct pc_cidr		 c;

	if (!pc->valid) {
		assert_int_equal(pc_cidr_parse(&c, pc->text), -1);
		return;
	}
	assert_int_equal(pc_cidr_parse(&c, pc->text), 0);
	assert_int_equal(c.family, pc->family);
	assert_int_equal(c.prefix, pc->prefix);
}

static void
test_match_row(void **state)
{
	const struct match_case	*mc = *state;
	struct pc_cidr		 c;
	uint8_t			 addr[16];
	int			 family;

	assert_int_equal(pc_cidr_parse(&c, mc->cidr), 0);
	addr_from_text(mc->addr, &family, addr);
	assert_int_equal(pc_cidr_match(&c, family, addr), mc->match);
	assert_int_equal(pc_cidr_list_match(&c, 1, family, addr), mc->match);
}

static void
test_parse_null(void **state)
{
	struct pc_cidr	c;

	(void)state;
	assert_int_equal(pc_cidr_parse(&c, NULL), -1);
	assert_int_equal(pc_cidr_parse(NULL, "10.0.0.0/8"), -1);
}

/* A failed parse must not leave a usable-looking entry behind. */
static void
test_parse_zeroes_on_error(void **state)
{
	struct pc_cidr	c, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(pc_cidr_parse(&c, "10.0.0.1/24"), -1);
	assert_memory_equal(&c, &zero, sizeof(c));

	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(pc_cidr_parse(&c, "10.0.0.0/8"), 0);
	/* Bytes past the IPv4 address are zeroed too. */
	assert_memory_equal(c.addr + 4, zero.addr + 4, 12);
}

static void
test_match_bad_args(void **state)
{
	struct pc_cidr	c;
	uint8_t		addr[16];

	(void)state;
	memset(addr, 0, sizeof(addr));
	assert_int_equal(pc_cidr_parse(&c, "0.0.0.0/0"), 0);
	assert_int_equal(pc_cidr_match(&c, AF_UNSPEC, addr), 0);
	assert_int_equal(pc_cidr_match(&c, AF_UNIX, addr), 0);
	assert_int_equal(pc_cidr_match(&c, AF_INET, NULL), 0);
	assert_int_equal(pc_cidr_match(NULL, AF_INET, addr), 0);

	/* A hand-made entry with an impossible prefix matches nothing. */
	c.prefix = 33;
	assert_int_equal(pc_cidr_match(&c, AF_INET, addr), 0);
}

static void
test_list_match(void **state)
{
	struct pc_cidr	list[3];
	uint8_t		addr[16];
	int		family;

	(void)state;
	assert_int_equal(pc_cidr_parse(&list[0], "10.8.0.0/24"), 0);
	assert_int_equal(pc_cidr_parse(&list[1], "fd00:8::/64"), 0);
	assert_int_equal(pc_cidr_parse(&list[2], "192.168.1.7"), 0);

	addr_from_text("10.8.0.9", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 1);
	/* Empty list: deny. */
	assert_int_equal(pc_cidr_list_match(list, 0, family, addr), 0);
	assert_int_equal(pc_cidr_list_match(NULL, 0, family, addr), 0);
	assert_int_equal(pc_cidr_list_match(NULL, 3, family, addr), 0);

	addr_from_text("192.168.1.7", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 1);
	/* n bounds the search. */
	assert_int_equal(pc_cidr_list_match(list, 2, family, addr), 0);

	addr_from_text("fd00:8::1", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 1);

	addr_from_text("::ffff:10.8.0.200", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 1);

	addr_from_text("10.9.0.1", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 0);
	addr_from_text("fd00:9::1", &family, addr);
	assert_int_equal(pc_cidr_list_match(list, 3, family, addr), 0);
}

static void
test_addr_str(void **state)
{
	char		buf[64], small[4], one[1], two[2];
	uint8_t		addr[16];
	int		family;

	(void)state;
	addr_from_text("10.8.0.9", &family, addr);
	pc_cidr_addr_str(family, addr, buf, sizeof(buf));
	assert_string_equal(buf, "10.8.0.9");

	addr_from_text("2001:db8::1", &family, addr);
	pc_cidr_addr_str(family, addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");

	addr_from_text("::ffff:10.8.0.9", &family, addr);
	pc_cidr_addr_str(family, addr, buf, sizeof(buf));
	assert_string_equal(buf, "::ffff:10.8.0.9");

	pc_cidr_addr_str(AF_UNSPEC, addr, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	pc_cidr_addr_str(AF_INET, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "?");

	/* Too small for the address: "?" rather than a truncated one. */
	addr_from_text("10.8.0.9", &family, addr);
	pc_cidr_addr_str(family, addr, small, sizeof(small));
	assert_string_equal(small, "?");
	pc_cidr_addr_str(family, addr, two, sizeof(two));
	assert_string_equal(two, "?");
	pc_cidr_addr_str(family, addr, one, sizeof(one));
	assert_string_equal(one, "");
	pc_cidr_addr_str(family, addr, NULL, 0);
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
