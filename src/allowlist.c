/*
 * allowlist.c: the VPN source-address allowlist, enforced at accept time
 * (see src/kore/02-accept-filter.patch): a peer outside the list is
 * closed before a single TLS or HTTP byte is read, on every route.
 *
 * Refusals are counted per source and logged once a minute per source
 * with the count, from a bounded table, so a flood cannot flood the log.
 */
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cidr.h"

#define PC_DENY_SLOTS		256
#define PC_DENY_FLUSH_MS	60000
/* Refusals from one source within a minute that raise an alert. */
#define PC_DENY_ALERT		10

struct pc_deny_slot {
	int		family;
	uint8_t		addr[16];
	uint64_t	count;
	int		alerted;
};

/* One audit record written in the background (no request to bind). */
struct pc_deny_rec {
	struct kore_pgsql	sql;
	char			src[64];
	char			count[24];
	char			rule[40];
};

static struct pc_deny_slot	pc_deny[PC_DENY_SLOTS];
static uint64_t			pc_deny_overflow;
static uint64_t			pc_deny_total;
static int			pc_deny_timer;

static int	pc_allowlist_filter(struct connection *);
static void	pc_allowlist_count(int, const uint8_t *);
static void	pc_allowlist_flush(void *, u_int64_t);
static void	pc_allowlist_record(int, const uint8_t *, uint64_t, int);
static void	pc_allowlist_record_done(struct kore_pgsql *, void *);

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
			/* A source that keeps trying: alert now, once. */
			if (pc_deny[i].count >= PC_DENY_ALERT &&
			    !pc_deny[i].alerted) {
				pc_deny[i].alerted = 1;
				pc_allowlist_record(family, addr,
				    pc_deny[i].count, 1);
			}
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
	pc_deny[freeslot].alerted = 0;

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
		/* The audit trail gets one record per source and minute. */
		pc_allowlist_record(pc_deny[i].family, pc_deny[i].addr,
		    pc_deny[i].count, 0);
		if (pc_deny[i].count > 1) {
			pc_cidr_addr_str(pc_deny[i].family, pc_deny[i].addr,
			    src, sizeof(src));
			kore_log(LOG_WARNING, "allowlist: refused %llu "
			    "connection(s) from %s in the last minute",
			    (unsigned long long)pc_deny[i].count, src);
		}
		pc_deny[i].count = 0;
	}

	if (pc_deny_overflow > 0) {
		kore_log(LOG_WARNING, "allowlist: refused %llu connection(s) "
		    "from further sources in the last minute",
		    (unsigned long long)pc_deny_overflow);
		pc_deny_overflow = 0;
	}
}

/*
 * Best effort: when every database connection of this worker is busy or
 * the database is down, the log line above is the record.
 */
static void
pc_allowlist_record(int family, const uint8_t *addr, uint64_t count,
    int alert)
{
	struct pc_deny_rec	*rec;
	const char		*v[3];
	int			len[3], fmt[3];

	rec = kore_calloc(1, sizeof(*rec));
	pc_cidr_addr_str(family, addr, rec->src, sizeof(rec->src));
	(void)snprintf(rec->count, sizeof(rec->count), "%llu",
	    (unsigned long long)count);
	(void)snprintf(rec->rule, sizeof(rec->rule), "%s",
	    alert ? "repeated_denied_connections" : "");

	kore_pgsql_init(&rec->sql);
	kore_pgsql_bind_callback(&rec->sql, pc_allowlist_record_done, rec);
	if (!kore_pgsql_setup(&rec->sql, PC_DB_AUTH, KORE_PGSQL_ASYNC)) {
		kore_log(LOG_WARNING, "allowlist: cannot record refusals from "
		    "%s now: %s", rec->src,
		    rec->sql.error ? rec->sql.error : "busy");
		kore_pgsql_cleanup(&rec->sql);
		kore_free(rec);
		return;
	}

	v[0] = rec->src;
	v[1] = rec->count;
	v[2] = rec->rule;
	len[0] = (int)strlen(v[0]);
	len[1] = (int)strlen(v[1]);
	len[2] = (int)strlen(v[2]);
	fmt[0] = fmt[1] = fmt[2] = 0;
	if (!kore_pgsql_query_param_fields(&rec->sql,
	    "SELECT audit.note_system(CASE WHEN $3 = '' "
	    "THEN 'connection.denied' ELSE 'connection.denied_repeatedly' "
	    "END, host($1::inet), 'denied', "
	    "jsonb_build_object('count', $2::bigint, 'window_seconds', 60), "
	    "$1::inet, nullif($3, ''))", KORE_PGSQL_FORMAT_TEXT, 3, v, len,
	    fmt)) {
		kore_log(LOG_WARNING, "allowlist: cannot record refusals from "
		    "%s: %s", rec->src, rec->sql.error ? rec->sql.error : "?");
		/* Releasing the connection would call back: detach first. */
		rec->sql.cb = NULL;
		kore_pgsql_cleanup(&rec->sql);
		kore_free(rec);
	}
}

static void
pc_allowlist_record_done(struct kore_pgsql *sql, void *arg)
{
	struct pc_deny_rec	*rec = arg;

	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		kore_pgsql_cleanup(sql);
		kore_free(rec);
		break;
	case KORE_PGSQL_STATE_ERROR:
		kore_log(LOG_WARNING, "allowlist: recording refusals from %s "
		    "failed: %s", rec->src, sql->error ? sql->error : "?");
		kore_pgsql_continue(sql);
		break;
	default:
		kore_pgsql_continue(sql);
		break;
	}
}
