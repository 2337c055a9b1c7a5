/*
 * allowlist.c: the VPN source-address allowlist, enforced at accept time
 * (see src/kore/02-accept-filter.patch): a peer outside the list is
 * closed before a single TLS or HTTP byte is read, on every route.
 *
 * Refusals are counted per source and logged once a minute per source
 * with the count, from a bounded table, so a flood cannot flood the log.
 */
#include <netinet/in.h>

#include <string.h>

#include "app.h"
#include "cidr.h"

#define PC_DENY_SLOTS		256
#define PC_DENY_FLUSH_MS	60000

struct pc_deny_slot {
	int		family;
	uint8_t		addr[16];
	uint64_t	count;
};

static struct pc_deny_slot	pc_deny[PC_DENY_SLOTS];
static uint64_t			pc_deny_overflow;
static uint64_t			pc_deny_total;
static int			pc_deny_timer;

static int	pc_allowlist_filter(struct connection *);
static void	pc_allowlist_count(int, const uint8_t *);
static void	pc_allowlist_flush(void *, u_int64_t);

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

	if (family != AF_UNSPEC && pc_cidr_list_match(pc_policy.allow,
	    pc_policy.allow_count, family, addr))
		return (1);

	pc_allowlist_count(family, addr);
	return (0);
}

static void
pc_allowlist_count(int family, const uint8_t *addr)
{
	size_t		i, freeslot;
	char		src[64];

	pc_deny_total++;

	if (!pc_deny_timer) {
		kore_timer_add(pc_allowlist_flush, PC_DENY_FLUSH_MS, NULL, 0);
		pc_deny_timer = 1;
	}

	freeslot = PC_DENY_SLOTS;
	for (i = 0; i < PC_DENY_SLOTS; i++) {
		if (pc_deny[i].count == 0) {
			if (freeslot == PC_DENY_SLOTS)
				freeslot = i;
			continue;
		}
		if (pc_deny[i].family == family &&
		    memcmp(pc_deny[i].addr, addr, 16) == 0) {
			pc_deny[i].count++;
			return;
		}
	}

	if (freeslot == PC_DENY_SLOTS) {
		pc_deny_overflow++;
		return;
	}

	/* First refusal from this source in this minute: say so now. */
	pc_deny[freeslot].family = family;
	memcpy(pc_deny[freeslot].addr, addr, 16);
	pc_deny[freeslot].count = 1;

	pc_cidr_addr_str(family, addr, src, sizeof(src));
	kore_log(LOG_WARNING, "allowlist: refused connection from %s "
	    "(not on the allowlist; repeats are counted per minute)", src);
}

static void
pc_allowlist_flush(void *arg, u_int64_t now)
{
	size_t		i;
	char		src[64];

	(void)arg;
	(void)now;

	for (i = 0; i < PC_DENY_SLOTS; i++) {
		if (pc_deny[i].count == 0)
			continue;
		if (pc_deny[i].count == 1) {
			pc_deny[i].count = 0;
			continue;
		}
		pc_cidr_addr_str(pc_deny[i].family, pc_deny[i].addr,
		    src, sizeof(src));
		kore_log(LOG_WARNING, "allowlist: refused %llu connection(s) "
		    "from %s in the last minute",
		    (unsigned long long)pc_deny[i].count, src);
		pc_deny[i].count = 0;
	}

	if (pc_deny_overflow > 0) {
		kore_log(LOG_WARNING, "allowlist: refused %llu connection(s) "
		    "from further sources in the last minute",
		    (unsigned long long)pc_deny_overflow);
		pc_deny_overflow = 0;
	}
}
