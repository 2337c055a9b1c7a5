/*
 * refusals.c: what is turned away before any handler runs, recorded once
 * per source and minute with a count (src/srcrate.c keeps the table):
 *   DENIED  a connection from outside the allowlist (allowlist.c): a log
 *           line at the first one, the event connection.denied each
 *           minute, connection.denied_repeatedly and the alert
 *           repeated_denied_connections at 10 in a minute;
 *   BUSY    a login answered 429 because no hashing slot freed up
 *           (hashjob.c): a log line at the first one, the event
 *           login.busy each minute.
 * Recording is best effort: when every database connection of this
 * worker is busy or the database is down, the log line is the record.
 */
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "db.h"
#include "refusals.h"
#include "srcrate.h"

#define PC_REFUSALS_FLUSH_MS	60000

struct pc_refusal_kind {
	const char		*who;		/* log prefix */
	const char		*what;		/* one refusal, for the log */
	const char		*why;
	const char		*event;		/* each minute per source */
	const char		*event_repeat;	/* at alert_at, or NULL */
	const char		*rule;
	uint64_t		 alert_at;
	struct pc_srcrate	 table;
};

/* One audit record written in the background (no request to bind). */
struct pc_refusal_rec {
	struct kore_pgsql	sql;
	char			src[64];
	char			count[24];
	char			event[48];
	char			rule[40];
};

static struct pc_refusal_kind pc_refusals[] = {
	[PC_REFUSAL_DENIED] = { "allowlist", "refused connection",
	    "not on the allowlist", "connection.denied",
	    "connection.denied_repeatedly", "repeated_denied_connections",
	    10, { { { 0 } }, 0, 0 } },
	[PC_REFUSAL_BUSY] = { "login", "no hashing slot for a login",
	    "answered 429", "login.busy", NULL, NULL, 0,
	    { { { 0 } }, 0, 0 } },
};

static int	pc_refusals_timer;

static void	pc_refusals_flush(void *, u_int64_t);
static void	pc_refusals_drained(int, const uint8_t *, uint64_t, void *);
static void	pc_refusals_record(const char *, const char *, int,
		    const uint8_t *, uint64_t);
static void	pc_refusals_record_done(struct kore_pgsql *, void *);

void
pc_refusals_count(int kind, int family, const uint8_t *addr)
{
	struct pc_refusal_kind	*k = &pc_refusals[kind];
	char			 src[64];

	if (!pc_refusals_timer) {
		kore_timer_add(pc_refusals_flush, PC_REFUSALS_FLUSH_MS, NULL,
		    0);
		pc_refusals_timer = 1;
	}

	switch (pc_srcrate_count(&k->table, family, addr, k->alert_at)) {
	case PC_SRCRATE_FIRST:
		pc_cidr_addr_str(family, addr, src, sizeof(src));
		kore_log(LOG_WARNING, "%s: %s from %s (%s; repeats are "
		    "counted per minute)", k->who, k->what, src, k->why);
		break;
	case PC_SRCRATE_ALERT:
		/* A source that keeps trying: alert now, once. */
		if (k->event_repeat != NULL)
			pc_refusals_record(k->event_repeat, k->rule, family,
			    addr, k->alert_at);
		break;
	default:
		break;
	}
}

/* A source's count of the minute, from pc_srcrate_drain(). */
static void
pc_refusals_drained(int family, const uint8_t *addr, uint64_t count,
    void *arg)
{
	struct pc_refusal_kind	*k = arg;
	char			 src[64];

	/* The audit trail gets one record per source and minute. */
	pc_refusals_record(k->event, NULL, family, addr, count);
	if (count > 1) {
		pc_cidr_addr_str(family, addr, src, sizeof(src));
		kore_log(LOG_WARNING, "%s: %s: %llu from %s in the last "
		    "minute", k->who, k->what, (unsigned long long)count, src);
	}
}

static void
pc_refusals_flush(void *arg, u_int64_t now)
{
	struct pc_refusal_kind	*k;
	uint64_t		 over;
	size_t			 i;

	(void)arg;
	(void)now;
	for (i = 0; i < sizeof(pc_refusals) / sizeof(pc_refusals[0]); i++) {
		k = &pc_refusals[i];
		over = pc_srcrate_drain(&k->table, pc_refusals_drained, k);
		if (over > 0)
			kore_log(LOG_WARNING, "%s: %s: %llu from further "
			    "sources in the last minute", k->who, k->what,
			    (unsigned long long)over);
	}
}

static void
pc_refusals_record(const char *event, const char *rule, int family,
    const uint8_t *addr, uint64_t count)
{
	struct pc_refusal_rec	*rec;
	const char		*v[4];
	int			 len[4], fmt[4], i;

	rec = kore_calloc(1, sizeof(*rec));
	pc_cidr_addr_str(family, addr, rec->src, sizeof(rec->src));
	(void)snprintf(rec->count, sizeof(rec->count), "%llu",
	    (unsigned long long)count);
	(void)snprintf(rec->event, sizeof(rec->event), "%s", event);
	(void)snprintf(rec->rule, sizeof(rec->rule), "%s",
	    rule != NULL ? rule : "");

	kore_pgsql_init(&rec->sql);
	kore_pgsql_bind_callback(&rec->sql, pc_refusals_record_done, rec);
	if (!kore_pgsql_setup(&rec->sql, PC_DB_AUTH, KORE_PGSQL_ASYNC)) {
		kore_log(LOG_WARNING, "refusals: cannot record %s from %s "
		    "now: %s", rec->event, rec->src,
		    rec->sql.error ? rec->sql.error : "busy");
		kore_pgsql_cleanup(&rec->sql);
		kore_free(rec);
		return;
	}

	v[0] = rec->src;
	v[1] = rec->count;
	v[2] = rec->rule;
	v[3] = rec->event;
	for (i = 0; i < 4; i++) {
		len[i] = (int)strlen(v[i]);
		fmt[i] = 0;
	}
	if (!kore_pgsql_query_param_fields(&rec->sql,
	    "SELECT audit.note_system($4, host($1::inet), 'denied', "
	    "jsonb_build_object('count', $2::bigint, 'window_seconds', 60), "
	    "$1::inet, nullif($3, ''))", KORE_PGSQL_FORMAT_TEXT, 4, v, len,
	    fmt)) {
		kore_log(LOG_WARNING, "refusals: cannot record %s from %s: %s",
		    rec->event, rec->src, rec->sql.error ? rec->sql.error : "?");
		/* Releasing the connection would call back: detach first. */
		rec->sql.cb = NULL;
		kore_pgsql_cleanup(&rec->sql);
		kore_free(rec);
	}
}

static void
pc_refusals_record_done(struct kore_pgsql *sql, void *arg)
{
	struct pc_refusal_rec	*rec = arg;

	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		kore_pgsql_cleanup(sql);
		kore_free(rec);
		break;
	case KORE_PGSQL_STATE_ERROR:
		kore_log(LOG_WARNING, "refusals: recording %s from %s failed: "
		    "%s", rec->event, rec->src, sql->error ? sql->error : "?");
		kore_pgsql_continue(sql);
		break;
	default:
		kore_pgsql_continue(sql);
		break;
	}
}
