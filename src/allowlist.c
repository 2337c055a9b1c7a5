/*
 * allowlist.c: the VPN source-address allowlist, enforced at accept time
 * (see src/kore/02-accept-filter.patch): a peer outside the list is
 * closed before a single TLS or HTTP byte is read, on every route.
 *
 * With trusted_proxy set, every connection must come through one of
 * those proxies with a PROXY v2 header (src/kore/13-proxy-v2.patch):
 * Kore reads it before TLS, puts the client's address in the
 * connection and asks again; the allowlist then judges the client. A
 * peer that is not a trusted proxy is refused (it would skip the
 * proxy), and no header, a bad or a late one closes the connection.
 *
 * Refusals are counted and recorded once per source and minute with the
 * count (refusals.c), so a flood cannot flood the log or the trail.
 */
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "allowlist.h"
#include "app.h"
#include "cidr.h"
#include "refusals.h"

static int	pc_allowlist_filter(struct connection *);

void
pc_allowlist_install(void)
{
	kore_connection_accept_filter = pc_allowlist_filter;
}

/* The peer's family and address bytes (4 or 16, network order). */
void
pc_allowlist_peer(struct connection *c, int *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	*family = c->family;

	switch (c->family) {
	case AF_INET:
		memcpy(addr, &c->addr.ipv4.sin_addr, 4);
		break;
	case AF_INET6:
		memcpy(addr, &c->addr.ipv6.sin6_addr, 16);
		break;
	default:
		*family = AF_UNSPEC;
		break;
	}
}

static int
pc_allowlist_filter(struct connection *c)
{
	int		family;
	uint8_t		addr[16];

	pc_allowlist_peer(c, &family, addr);

	if (pc_policy.trusted_proxy_count > 0 &&
	    !(c->flags & CONN_PROXIED)) {
		if (family != AF_UNSPEC &&
		    pc_cidr_list_match(pc_policy.trusted_proxy,
		    pc_policy.trusted_proxy_count, family, addr))
			return (KORE_ACCEPT_PROXY);
	} else if (family != AF_UNSPEC &&
	    pc_cidr_list_match(pc_policy.allow, pc_policy.allow_count,
	    family, addr))
		return (KORE_ACCEPT_OK);

	pc_refusals_count(PC_REFUSAL_DENIED, family, addr);
	return (KORE_ACCEPT_REFUSE);
}
