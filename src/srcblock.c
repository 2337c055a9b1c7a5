/*
 * srcblock.c: per-source blocks as one worker sees them.
 *
 * A login refused for lack of a hashing slot (hashjob.c) is charged to
 * its source: source_busy_weight failures each, toward the same
 * source_fail_threshold as failed logins (auth.source_busy(), migration
 * 023), so a source that only ever knocks is blocked too. The charge is
 * sent as it happens, not with refusals.c's minute: a storm is blocked
 * within seconds. At most PC_SRCBLOCK_INFLIGHT charges are in flight
 * per worker; refusals meanwhile add up per source and go with the next
 * one, so a storm costs a few queries at a time and never every
 * database connection. Best effort: when no connection can be had the
 * count waits for the next refusal (logged).
 *
 * The blocks the worker learns (from a charge, or from a reserve row,
 * factor.c) are kept until they end: such a source is answered from its
 * reserve row without waiting for or taking a hashing slot. The
 * database stays the judge (the reserve row); this memory only skips
 * the queue. Both live in one bounded table: a full table drops the
 * earliest-ending block first, then charges (logged).
 */
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cidr.h"
#include "db.h"
#include "factor.h"
#include "srcblock.h"

#define PC_SRCBLOCK_SLOTS	256
#define PC_SRCBLOCK_INFLIGHT	2

struct pc_srcblock_src {
	int		family;
	uint8_t		addr[16];
	uint32_t	pending;	/* refusals not yet charged */
	int64_t		until;		/* known blocked until (epoch) */
};

/* One charge in flight (no request to bind). */
struct pc_srcblock_rec {
	struct kore_pgsql	sql;
	int			family;
	uint8_t			addr[16];
	char			src[64];
	char			count[12], weight[12];
	struct pc_failq		fq;	/* the source's failure cost */
};

static struct pc_srcblock_src	pc_srcblock_srcs[PC_SRCBLOCK_SLOTS];
static uint32_t			pc_srcblock_inflight;
static size_t			pc_srcblock_next;

static struct pc_srcblock_src	*pc_srcblock_find(int, const uint8_t *,
				    int);
static int	pc_srcblock_parse(const char *, struct pc_cidr *);
static void	pc_srcblock_send(void);
static int	pc_srcblock_charge(struct pc_srcblock_src *);
static void	pc_srcblock_done(struct kore_pgsql *, void *);
static void	pc_srcblock_free(struct pc_srcblock_rec *);

/*
 * The entry of (family, addr); with make, a new one if there is none: a
 * free entry, else the one whose block ends first. NULL if none.
 */
static struct pc_srcblock_src *
pc_srcblock_find(int family, const uint8_t *addr, int make)
{
	struct pc_srcblock_src	*s, *spare;
	int64_t			now;
	size_t			i;

	now = (int64_t)time(NULL);
	spare = NULL;
	for (i = 0; i < PC_SRCBLOCK_SLOTS; i++) {
		s = &pc_srcblock_srcs[i];
		if (s->family == family && memcmp(s->addr, addr, 16) == 0 &&
		    (s->pending > 0 || s->until > now))
			return (s);
		if (s->pending > 0)
			continue;
		if (spare == NULL || s->until < spare->until)
			spare = s;
	}
	if (!make || spare == NULL)
		return (NULL);
	memset(spare, 0, sizeof(*spare));
	spare->family = family;
	memcpy(spare->addr, addr, 16);
	return (spare);
}

static int
pc_srcblock_parse(const char *source, struct pc_cidr *one)
{
	return (source != NULL && pc_cidr_parse(one, source) == 0);
}

/* One login from (family, addr) refused for lack of a hashing slot. */
void
pc_srcblock_busy(int family, const uint8_t *addr)
{
	struct pc_srcblock_src	*s;
	char			src[64];

	if (pc_policy.source_busy_weight == 0 ||
	    pc_cidr_list_match(pc_policy.source_fail_exempt,
	    pc_policy.source_fail_exempt_count, family, addr))
		return;
	if ((s = pc_srcblock_find(family, addr, 1)) == NULL) {
		pc_cidr_addr_str(family, addr, src, sizeof(src));
		kore_log(LOG_WARNING, "srcblock: table full, a busy refusal "
		    "from %s is not charged", src);
		return;
	}
	/* Already known to be blocked: nothing more to charge. */
	if (s->until > (int64_t)time(NULL))
		return;
	s->pending++;
	pc_srcblock_send();
}

/* Is source (text, as the request's) known to be blocked now? */
int
pc_srcblock_blocked(const char *source)
{
	struct pc_cidr		one;
	struct pc_srcblock_src	*s;

	if (!pc_srcblock_parse(source, &one) ||
	    (s = pc_srcblock_find(one.family, one.addr, 0)) == NULL)
		return (0);
	return (s->until > (int64_t)time(NULL));
}

/* What a reserve row said of source: blocked until (epoch), 0 if not. */
void
pc_srcblock_learn(const char *source, int64_t until)
{
	struct pc_cidr		one;
	struct pc_srcblock_src	*s;

	if (!pc_srcblock_parse(source, &one))
		return;
	if ((s = pc_srcblock_find(one.family, one.addr,
	    until > (int64_t)time(NULL))) != NULL)
		s->until = until;
}

/* The pending charges, round robin, while fewer than the bound fly. */
static void
pc_srcblock_send(void)
{
	struct pc_srcblock_src	*s;
	size_t			n;

	for (n = 0; n < PC_SRCBLOCK_SLOTS &&
	    pc_srcblock_inflight < PC_SRCBLOCK_INFLIGHT; n++) {
		s = &pc_srcblock_srcs[pc_srcblock_next];
		pc_srcblock_next = (pc_srcblock_next + 1) % PC_SRCBLOCK_SLOTS;
		if (s->pending == 0)
			continue;
		if (!pc_srcblock_charge(s))
			break;
	}
}

/* Send s's pending refusals; 0 if no connection could be had. */
static int
pc_srcblock_charge(struct pc_srcblock_src *s)
{
	struct pc_srcblock_rec	*rec;
	const char		*v[7];
	int			 len[7], fmt[7], i;

	rec = kore_calloc(1, sizeof(*rec));
	rec->family = s->family;
	memcpy(rec->addr, s->addr, sizeof(rec->addr));
	pc_cidr_addr_str(s->family, s->addr, rec->src, sizeof(rec->src));
	(void)snprintf(rec->count, sizeof(rec->count), "%u", s->pending);
	(void)snprintf(rec->weight, sizeof(rec->weight), "%u",
	    pc_policy.source_busy_weight);
	pc_factor_srcparams(&rec->fq, rec->src);

	kore_pgsql_init(&rec->sql);
	kore_pgsql_bind_callback(&rec->sql, pc_srcblock_done, rec);
	if (!kore_pgsql_setup(&rec->sql, PC_DB_AUTH, KORE_PGSQL_ASYNC)) {
		kore_log(LOG_WARNING, "srcblock: cannot charge %u busy "
		    "refusals of %s now: %s", s->pending, rec->src,
		    rec->sql.error ? rec->sql.error : "busy");
		rec->sql.cb = NULL;
		pc_srcblock_free(rec);
		return (0);
	}
	s->pending = 0;
	pc_srcblock_inflight++;

	v[0] = rec->src;
	v[1] = rec->count;
	v[2] = rec->weight;
	v[3] = rec->fq.sthr;
	v[4] = rec->fq.swin;
	v[5] = rec->fq.sblk;
	v[6] = rec->fq.exempt ? "true" : "false";
	for (i = 0; i < 7; i++) {
		len[i] = (int)strlen(v[i]);
		fmt[i] = 0;
	}
	if (!kore_pgsql_query_param_fields(&rec->sql,
	    "SELECT coalesce(extract(epoch FROM auth.source_busy($1::inet, "
	    "$2::int, $3::int, $4::int, $5::int, $6::int, $7::boolean))"
	    "::bigint, 0)", KORE_PGSQL_FORMAT_TEXT, 7, v, len, fmt)) {
		kore_log(LOG_WARNING, "srcblock: cannot charge %s: %s",
		    rec->src, rec->sql.error ? rec->sql.error : "?");
		/* Releasing the connection would call back: detach first. */
		rec->sql.cb = NULL;
		pc_srcblock_free(rec);
		pc_srcblock_inflight--;
	}
	return (1);
}

static void
pc_srcblock_done(struct kore_pgsql *sql, void *arg)
{
	struct pc_srcblock_rec	*rec = arg;
	struct pc_srcblock_src	*s;
	int64_t			until;

	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_RESULT:
		until = kore_pgsql_ntuples(sql) == 1 ?
		    (int64_t)strtoll(kore_pgsql_getvalue(sql, 0, 0), NULL,
		    10) : 0;
		if (until > (int64_t)time(NULL) && (s = pc_srcblock_find(
		    rec->family, rec->addr, 1)) != NULL)
			s->until = until;
		kore_pgsql_continue(sql);
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		pc_srcblock_free(rec);
		pc_srcblock_inflight--;
		pc_srcblock_send();
		break;
	case KORE_PGSQL_STATE_ERROR:
		kore_log(LOG_WARNING, "srcblock: charging %s failed: %s",
		    rec->src, sql->error ? sql->error : "?");
		kore_pgsql_continue(sql);
		break;
	default:
		kore_pgsql_continue(sql);
		break;
	}
}

static void
pc_srcblock_free(struct pc_srcblock_rec *rec)
{
	kore_pgsql_cleanup(&rec->sql);
	kore_free(rec);
}
