/*
 * cidr.c: IPv4/IPv6 CIDR parsing and matching (pure, no Kore headers).
 *
 * The parser is strict on purpose: an allowlist entry that is not exactly
 * what the operator meant must stop start-up rather than silently widen
 * or narrow who may connect.
 *
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as IPv4 everywhere: an
 * address in that range is matched against IPv4 entries only, and an
 * entry written in that form (prefix >= 96) is stored as the equivalent
 * IPv4 entry. IPv6 entries therefore never match IPv4 traffic, even
 * ::/0, which keeps "/0 matches its own family" true on dual-stack
 * sockets.
 *
 * The addresses are glibc's (inet_pton/inet_ntop); only the prefix, the
 * host-bit check and the mapped form are ours. glibc's inet_net_pton()
 * would do the whole "addr/len" but, checked 2026-12 (glibc 2.36), it is
 * IPv4 only (AF_INET6: -1), needs -lresolv, and accepts what we refuse:
 * "10/8", "0x0a000000/8", "010.0.0.0/8", "10.0.0.0/08" and, with host
 * bits set, "10.0.0.1/24" (each as a /8 or /24).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <string.h>

#include "cidr.h"

/* Longest address text we accept ("ffff:...:255.255.255.255" is 45). */
#define PC_CIDR_ADDR_MAX	64

static int	pc_cidr_prefix_parse(const char *s, unsigned int max,
		    uint8_t *out);
static int	pc_cidr_host_bits_clear(const uint8_t *addr, size_t alen,
		    unsigned int prefix);
static int	pc_cidr_prefix_equal(const uint8_t *a, const uint8_t *b,
		    unsigned int prefix);
static int	pc_cidr_is_mapped(const uint8_t *addr);

static const uint8_t	pc_cidr_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
pc_cidr_parse(struct pc_cidr *c, const char *text)
{
	char		 abuf[PC_CIDR_ADDR_MAX];
	const char	*slash;
	size_t		 alen, blen;
	unsigned int	 max;
	uint8_t		 prefix;

	if (c == NULL)
		return (-1);
	memset(c, 0, sizeof(*c));
	if (text == NULL)
		return (-1);

	slash = strchr(text, '/');
	alen = (slash != NULL) ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(abuf))
		return (-1);
	memcpy(abuf, text, alen);
	abuf[alen] = '\0';

	/* inet_pton rejects whitespace, zone ids and other junk for us. */
	if (strchr(abuf, ':') != NULL) {
		c->family = AF_INET6;
		blen = 16;
		max = 128;
	} else {
		c->family = AF_INET;
		blen = 4;
		max = 32;
	}
	if (inet_pton(c->family, abuf, c->addr) != 1)
		goto fail;

	if (slash == NULL) {
		prefix = (uint8_t)max;
	} else if (pc_cidr_prefix_parse(slash + 1, max, &prefix) == -1) {
		goto fail;
	}

	/* 10.0.0.1/24 is a typo, not 10.0.0.0/24: refuse it. */
	if (!pc_cidr_host_bits_clear(c->addr, blen, prefix))
		goto fail;
	c->prefix = prefix;

	/*
	 * Host bits clear and inside ::ffff:0:0/96 implies prefix >= 96, so
	 * this is exactly an IPv4 range; store it as one so it matches.
	 */
	if (c->family == AF_INET6 && pc_cidr_is_mapped(c->addr)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, sizeof(c->addr) - 4);
		c->family = AF_INET;
		c->prefix = (uint8_t)(prefix - 96);
	}

	return (0);

fail:
	memset(c, 0, sizeof(*c));
	return (-1);
}

int
pc_cidr_match(const struct pc_cidr *c, int family, const uint8_t *addr)
{
	if (c == NULL || addr == NULL)
		return (0);

	if (family == AF_INET6 && pc_cidr_is_mapped(addr)) {
		family = AF_INET;
		addr += 12;
	}
	if (family != AF_INET && family != AF_INET6)
		return (0);
	if (family != c->family)
		return (0);
	if (c->prefix > (family == AF_INET ? 32 : 128))
		return (0);

	return (pc_cidr_prefix_equal(c->addr, addr, c->prefix));
}

int
pc_cidr_list_match(const struct pc_cidr *list, size_t n, int family,
    const uint8_t *addr)
{
	size_t		i;

	if (list == NULL)
		return (0);
	for (i = 0; i < n; i++) {
		if (pc_cidr_match(&list[i], family, addr))
			return (1);
	}
	return (0);
}

void
pc_cidr_addr_str(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (addr == NULL || (family != AF_INET && family != AF_INET6) ||
	    len > (size_t)INT32_MAX ||
	    inet_ntop(family, addr, buf, (socklen_t)len) == NULL) {
		if (len >= 2) {
			buf[0] = '?';
			buf[1] = '\0';
		} else {
			buf[0] = '\0';
		}
	}
}

/* Decimal, 1..3 digits, no sign, no leading zero unless exactly "0". */
static int
pc_cidr_prefix_parse(const char *s, unsigned int max, uint8_t *out)
{
	unsigned int	v;
	size_t		i;

	if (s[0] == '\0')
		return (-1);
	if (s[0] == '0' && s[1] != '\0')
		return (-1);

	v = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 3 || s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return (-1);

	*out = (uint8_t)v;
	return (0);
}

static int
pc_cidr_host_bits_clear(const uint8_t *addr, size_t alen, unsigned int prefix)
{
	size_t		i, full;
	unsigned int	rem;

	full = prefix / 8;
	rem = prefix % 8;
	i = full;
	if (rem != 0) {
		if (addr[i] & (uint8_t)(0xff >> rem))
			return (0);
		i++;
	}
	for (; i < alen; i++) {
		if (addr[i] != 0)
			return (0);
	}
	return (1);
}

static int
pc_cidr_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int prefix)
{
	size_t		full;
	unsigned int	rem;
	uint8_t		mask;

	full = prefix / 8;
	rem = prefix % 8;
	if (full > 0 && memcmp(a, b, full) != 0)
		return (0);
	if (rem != 0) {
		mask = (uint8_t)(0xff << (8 - rem));
		if ((a[full] & mask) != (b[full] & mask))
			return (0);
	}
	return (1);
}

static int
pc_cidr_is_mapped(const uint8_t *addr)
{
	return (memcmp(addr, pc_cidr_mapped_prefix,
	    sizeof(pc_cidr_mapped_prefix)) == 0);
}
