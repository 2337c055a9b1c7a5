/*
 * cidr.h: IPv4/IPv6 CIDR parsing and matching (pure, no Kore headers).
 */
#ifndef PC_CIDR_H
#define PC_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct pc_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order, host bits zeroed */
	uint8_t		prefix;		/* 0..32 or 0..128 */
};

/*
 * Parse "a.b.c.d/n", "a.b.c.d" (= /32), "x::y/n", "x::y" (= /128).
 * Rejects host bits set beyond the prefix, out-of-range prefixes,
 * leading zeros in the prefix, whitespace, and anything else.
 * Returns 0 on success, -1 on error.
 */
int	pc_cidr_parse(struct pc_cidr *c, const char *text);

/*
 * Does the address (family, 4 or 16 bytes in network order) fall in c?
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 entries.
 */
int	pc_cidr_match(const struct pc_cidr *c, int family, const uint8_t *addr);

/* First match in a list: 1 if any entry matches, 0 otherwise (empty list: 0). */
int	pc_cidr_list_match(const struct pc_cidr *list, size_t n,
	    int family, const uint8_t *addr);

/* Format an address for logs (inet_ntop); never fails, writes "?" on error. */
void	pc_cidr_addr_str(int family, const uint8_t *addr, char *buf, size_t len);

#endif
