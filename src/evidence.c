/*
 * evidence.c: payconsole-admin evidence --from DATE --to DATE --out FILE
 * (issue 16, part 6).
 *
 * A ustar archive of what an assessor asks for over a period of
 * site-local days (the policy's timezone, both ends included): the
 * files of bundle.c's table, README.txt and index.json. Deterministic:
 * every query reads one REPEATABLE READ snapshot, renders times in UTC
 * and orders its rows; every archive entry has the same owner, mode and
 * mtime (the period's first instant: its end may be still to come), in
 * the table's order. So the same period
 * over the same data gives the same bytes.
 *
 * Steps (ev_steps[]): the period's bounds, then one function per file
 * or pair of files, each writing into a part: an unlinked temporary
 * file hashed as it is written (an archive entry's size comes before
 * its data, and a year of events need not fit in memory). Last the
 * index and the archive, written beside FILE, fsynced, then linked to
 * FILE, which fails if FILE exists: nothing is ever overwritten.
 *
 * Roles: pc_auditor (SELECT only, read-only transactions) reads
 * everything but meta.schema_migrations, which only its owner may read;
 * that one query runs as pc_owner in a read-only transaction.
 *
 * libarchive rather than a tar writer of ours: its ustar writer puts
 * in a header exactly what the entry holds (no atime, ctime or pax
 * extensions in ustar), so fixed entries give fixed bytes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libpq-fe.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bundle.h"
#include "bytea.h"
#include "ckpt.h"
#include "csvw.h"
#include "evidence.h"
#include "fsdir.h"
#include "jsonw.h"

#define EV_PARTS_MAX	24
#define EV_FETCH	"FETCH FORWARD 5000 FROM "

/* The weeks (kind W) or halves (H) that the period's days touch. */
#define EV_PERIODS_SQL \
    " FROM audit.reviews r WHERE r.week IN (SELECT DISTINCT CASE " \
    "$3::text WHEN 'W' THEN to_char(d, 'IYYY-\"W\"IW') ELSE " \
    "to_char(d, 'YYYY') || '-H' || CASE WHEN extract(month FROM d) <= 6 " \
    "THEN '1' ELSE '2' END END FROM generate_series($1::date, $2::date, " \
    "interval '1 day') AS d)"

/* The period's days that have a daily digest or a day's sign-off. */
#define EV_DAILY_SQL \
    " FROM generate_series($1::date, $2::date, interval '1 day') AS g(d) " \
    "LEFT JOIN audit.daily_digests dd ON dd.day = g.d::date " \
    "LEFT JOIN audit.reviews r ON r.week = to_char(g.d, 'YYYY-MM-DD') " \
    "WHERE dd.day IS NOT NULL OR r.week IS NOT NULL"

struct ev_part {
	FILE		*fp;
	EVP_MD_CTX	*md;
	uint64_t	 size;
};

struct ev_state {
	struct ev_part			 part[EV_PARTS_MAX];
	const struct pc_bundle_file	*files;
	size_t				 nfiles;
	char				 from_at[40], to_at[40];
	char				 from_epoch[24], to_epoch[24];
	char				 key_sha256[2 * PC_CKPT_HASH_LEN + 1];
	time_t				 mtime;
	int				 failed;
};

/* What the period's events showed about their chain links. */
struct ev_chain {
	long long	 events, sealed, unsealed;
	int64_t		 first, last, bad, prev_seq;
	uint8_t		 head[PC_CKPT_HASH_LEN];
};

static int	ev_fail(struct pc_evidence *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static PGresult	*ev_query(struct pc_evidence *, PGconn *, const char *, int,
		    const char *const *);
static struct ev_part *ev_part(struct ev_state *, const char *);
static void	ev_put(struct ev_state *, struct ev_part *, const void *,
		    size_t);
static void	ev_put_line(struct ev_state *, struct ev_part *, const void *,
		    size_t);
static int	ev_put_text(struct pc_evidence *, struct ev_state *,
		    const char *, char *, size_t, int);
static int	ev_doc(struct pc_evidence *, struct ev_state *, const char *,
		    PGconn *, const char *, int, const char *const *);
static int	ev_parts_open(struct pc_evidence *, struct ev_state *);
static void	ev_parts_close(struct ev_state *);
static int	ev_bounds(struct pc_evidence *, struct ev_state *);
static int	ev_readme(struct pc_evidence *, struct ev_state *);
static int	ev_events(struct pc_evidence *, struct ev_state *);
static void	ev_event_link(struct ev_chain *, PGresult *, int);
static int	ev_chain(struct pc_evidence *, struct ev_state *,
		    const struct ev_chain *);
static int	ev_checkpoints(struct pc_evidence *, struct ev_state *);
static int	ev_pubkey(struct pc_evidence *, struct ev_state *);
static int	ev_reviews(struct pc_evidence *, struct ev_state *);
static int	ev_csv(struct pc_evidence *, struct ev_state *, const char *,
		    PGresult *);
static int	ev_tables(struct pc_evidence *, struct ev_state *);
static int	ev_policy(struct pc_evidence *, struct ev_state *);
static int	ev_migrations(struct pc_evidence *, struct ev_state *);
static int	ev_archive(struct pc_evidence *, struct ev_state *);
static int	ev_archive_entry(struct pc_evidence *, struct ev_state *,
		    struct archive *, const char *, FILE *, uint64_t);
static int	ev_archive_sha(struct pc_evidence *, int);
static int	ev_archive_place(struct pc_evidence *, const char *);

/* The files, in order; each step fills the parts its name says. */
static int	(*const ev_steps[])(struct pc_evidence *, struct ev_state *) = {
	ev_bounds,		/* the period in UTC, before anything */
	ev_readme,		/* README.txt */
	ev_pubkey,		/* checkpoints/checkpoint.pub (chain.json
				   names its digest) */
	ev_events,		/* events.jsonl, chain.json */
	ev_checkpoints,		/* checkpoints/checkpoints.log */
	ev_reviews,		/* reviews/weekly|daily.json|csv, accounts.json */
	ev_tables,		/* alerts.json, personal-data.json */
	ev_policy,		/* policy/policy.conf, policy/history.json */
	ev_migrations,		/* schema/migrations.json */
};

static int
ev_fail(struct pc_evidence *ev, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(ev->err, sizeof(ev->err), fmt, ap);
	va_end(ap);
	return (-1);
}

/* One parameterised statement; NULL with ev->err on failure. */
static PGresult *
ev_query(struct pc_evidence *ev, PGconn *db, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		(void)ev_fail(ev, "database: %s", PQresultErrorMessage(res));
		PQclear(res);
		return (NULL);
	}
	return (res);
}

static struct ev_part *
ev_part(struct ev_state *st, const char *name)
{
	size_t	i;

	for (i = 0; i < st->nfiles; i++) {
		if (strcmp(st->files[i].name, name) == 0)
			return (&st->part[i]);
	}
	abort();	/* a name missing from bundle.c's table */
}

/* Written and hashed; a failure is remembered and ends the run. */
static void
ev_put(struct ev_state *st, struct ev_part *p, const void *buf, size_t len)
{
	if (len == 0)
		return;
	if (fwrite(buf, 1, len, p->fp) != len ||
	    EVP_DigestUpdate(p->md, buf, len) != 1)
		st->failed = 1;
	p->size += len;
}

/* One line: the text and a newline. */
static void
ev_put_line(struct ev_state *st, struct ev_part *p, const void *buf,
    size_t len)
{
	ev_put(st, p, buf, len);
	ev_put(st, p, "\n", 1);
}

/*
 * A malloc'ed text (NULL: out of memory) as a file's content, with a
 * newline after it if nl; freed.
 */
static int
ev_put_text(struct pc_evidence *ev, struct ev_state *st, const char *name,
    char *text, size_t len, int nl)
{
	if (text == NULL)
		return (ev_fail(ev, "out of memory"));
	ev_put(st, ev_part(st, name), text, len);
	if (nl)
		ev_put(st, ev_part(st, name), "\n", 1);
	free(text);
	return (0);
}

/* A file that one query's one value makes, with a final newline. */
static int
ev_doc(struct pc_evidence *ev, struct ev_state *st, const char *name,
    PGconn *db, const char *sql, int n, const char *const *params)
{
	PGresult	*res;
	struct ev_part	*p;

	if ((res = ev_query(ev, db, sql, n, params)) == NULL)
		return (-1);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return (ev_fail(ev, "database: no row for %s", name));
	}
	p = ev_part(st, name);
	ev_put_line(st, p, PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return (0);
}

static int
ev_parts_open(struct pc_evidence *ev, struct ev_state *st)
{
	size_t	i;

	st->files = pc_bundle_files(&st->nfiles);
	if (st->nfiles > EV_PARTS_MAX)
		return (ev_fail(ev, "too many files"));
	for (i = 0; i < st->nfiles; i++) {
		/* Unlinked at once: nothing of it outlives the run. */
		if ((st->part[i].fp = tmpfile()) == NULL)
			return (ev_fail(ev, "temporary file: %s",
			    strerror(errno)));
		if ((st->part[i].md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(st->part[i].md, EVP_sha256(),
		    NULL) != 1)
			return (ev_fail(ev, "SHA-256 unavailable"));
	}
	return (0);
}

static void
ev_parts_close(struct ev_state *st)
{
	size_t	i;

	for (i = 0; i < EV_PARTS_MAX; i++) {
		if (st->part[i].fp != NULL)
			(void)fclose(st->part[i].fp);
		EVP_MD_CTX_free(st->part[i].md);
	}
}

/* The period's first and last instants, and whether it is over. */
static int
ev_bounds(struct pc_evidence *ev, struct ev_state *st)
{
	PGresult	*res;
	const char	*p[3];

	if (ev_query(ev, ev->db, "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY", 0, NULL) == NULL ||
	    ev_query(ev, ev->db, "SET LOCAL TimeZone = 'UTC'", 0,
	    NULL) == NULL)
		return (-1);
	p[0] = ev->period.from;
	p[1] = ev->period.to;
	p[2] = ev->policy->timezone;
	res = ev_query(ev, ev->db, "SELECT f, t, extract(epoch FROM f)"
	    "::bigint, extract(epoch FROM t)::bigint, now() < t FROM "
	    "(SELECT $1::date::timestamp AT TIME ZONE $3::text AS f, "
	    "($2::date + 1)::timestamp AT TIME ZONE $3::text AS t) b", 3, p);
	if (res == NULL)
		return (-1);
	(void)snprintf(st->from_at, sizeof(st->from_at), "%s",
	    PQgetvalue(res, 0, 0));
	(void)snprintf(st->to_at, sizeof(st->to_at), "%s",
	    PQgetvalue(res, 0, 1));
	(void)snprintf(st->from_epoch, sizeof(st->from_epoch), "%s",
	    PQgetvalue(res, 0, 2));
	(void)snprintf(st->to_epoch, sizeof(st->to_epoch), "%s",
	    PQgetvalue(res, 0, 3));
	st->mtime = (time_t)strtoll(st->from_epoch, NULL, 10);
	ev->open_period = PQgetvalue(res, 0, 4)[0] == 't';
	PQclear(res);
	return (0);
}

static const char ev_readme_fmt[] =
    "payconsole evidence bundle\n"
    "\n"
    "Period: %s to %s, site-local days in %s, both included\n"
    "        (UTC: from %s up to, not including, %s).\n"
    "\n"
    "index.json names every other file with its size, its SHA-256, the\n"
    "PPC findings it evidences (\"PPC-n\": row n of the findings table in\n"
    "REQUIREMENTS.md, its text under \"findings\") and the PCI DSS v4.0.1\n"
    "clauses. The command printed the archive's own SHA-256: keep that\n"
    "apart from the archive.\n"
    "\n"
    "To check it, in the unpacked directory:\n"
    "\n"
    "1. Every file is the one indexed:\n"
    "   python3 -c 'import json; [print(f[\"sha256\"] + \"  \" + "
    "f[\"name\"])\n"
    "     for f in json.load(open(\"index.json\"))[\"files\"]]' | "
    "sha256sum -c\n"
    "\n"
    "2. The checkpoints are signed by the site's key, numbered from 1 and\n"
    "   linked, and the trail as it is now matches every signed head\n"
    "   (payconsole README, \"Signed checkpoints\"):\n"
    "   payconsole-admin -d SITE audit verify \\\n"
    "     --checkpoints checkpoints/checkpoints.log \\\n"
    "     --pubkey checkpoints/checkpoint.pub\n"
    "   One line by hand, with OpenSSL 3 (N its line number):\n"
    "   L=checkpoints/checkpoints.log\n"
    "   sed -n \"${N}p\" $L | sed 's/,\"key\":.*$/}/' | tr -d '\\n' "
    "> msg.json\n"
    "   sed -n \"${N}p\" $L | sed 's/.*\"sig\":\"\\([0-9a-f]*\\)\".*/\\1/'"
    " | xxd -r -p > sig.bin\n"
    "   openssl pkeyutl -verify -pubin -inkey checkpoints/checkpoint.pub "
    "\\\n"
    "     -rawin -in msg.json -sigfile sig.bin\n"
    "\n"
    "3. events.jsonl holds the period's events, each with its chain link:\n"
    "   \"hash\" is SHA-256 of the 32 bytes of \"prev_hash\" followed by\n"
    "   the event serialised as the chain does. chain.json says whether\n"
    "   that held for every event of the period, and whether each\n"
    "   checkpoint signed in the period names the stored link of its\n"
    "   last event.\n";

static int
ev_readme(struct pc_evidence *ev, struct ev_state *st)
{
	char	*text;
	int	 n;

	n = asprintf(&text, ev_readme_fmt, ev->period.from, ev->period.to,
	    ev->policy->timezone, st->from_at, st->to_at);
	return (ev_put_text(ev, st, "README.txt", n < 0 ? NULL : text,
	    n < 0 ? 0 : (size_t)n, 0));
}

/*
 * events.jsonl, one line per event of the period, ids ascending, and
 * on the way each event's link recomputed from its content.
 */
static int
ev_events(struct pc_evidence *ev, struct ev_state *st)
{
	struct ev_chain	 c;
	struct ev_part	*p;
	PGresult	*res;
	const char	*prm[2];
	int		 i, n;

	memset(&c, 0, sizeof(c));
	prm[0] = st->from_at;
	prm[1] = st->to_at;
	res = ev_query(ev, ev->db, "DECLARE ev_events NO SCROLL CURSOR FOR "
	    "SELECT pg_catalog.jsonb_build_object('id', e.id, 'at', e.at, "
	    "'actor_id', e.actor_id, 'actor_name', e.actor_name, "
	    "'actor_role', e.actor_role, 'source', e.source::text, "
	    "'event', e.event, 'target', e.target, 'outcome', e.outcome, "
	    "'details', e.details, 'chain_seq', c.seq, 'prev_hash', "
	    "encode(c.prev_hash, 'hex'), 'hash', encode(c.hash, 'hex'))::text, "
	    "e.id, " PC_CKPT_EVENT_TEXT ", c.seq, c.prev_hash, c.hash "
	    "FROM audit.events e LEFT JOIN audit.chain c ON c.event_id = e.id "
	    "WHERE e.at >= $1::timestamptz AND e.at < $2::timestamptz "
	    "ORDER BY e.id", 2, prm);
	if (res == NULL)
		return (-1);
	PQclear(res);
	p = ev_part(st, "events.jsonl");
	do {
		if ((res = ev_query(ev, ev->db, EV_FETCH "ev_events", 0,
		    NULL)) == NULL)
			return (-1);
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			ev_put_line(st, p, PQgetvalue(res, i, 0),
			    (size_t)PQgetlength(res, i, 0));
			ev_event_link(&c, res, i);
		}
		PQclear(res);
	} while (n > 0);
	if (ev_query(ev, ev->db, "CLOSE ev_events", 0, NULL) == NULL)
		return (-1);
	ev->events = c.events;
	return (ev_chain(ev, st, &c));
}

/*
 * One event: its link's hash must be SHA-256(prev_hash, the event), and
 * a link that follows the one before in the chain must start where it
 * ended. The first event where either fails is c->bad.
 */
static void
ev_event_link(struct ev_chain *c, PGresult *res, int i)
{
	uint8_t		prev[PC_CKPT_HASH_LEN], hash[PC_CKPT_HASH_LEN];
	int64_t		id, seq;
	size_t		len;
	int		ok;

	id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	if (c->events++ == 0)
		c->first = id;
	c->last = id;
	if (PQgetisnull(res, i, 3)) {
		c->unsealed++;
		return;
	}
	c->sealed++;
	seq = strtoll(PQgetvalue(res, i, 3), NULL, 10);
	ok = pc_bytea_decode(PQgetvalue(res, i, 4), prev, sizeof(prev),
	    &len) == 0 && len == sizeof(prev) &&
	    pc_bytea_decode(PQgetvalue(res, i, 5), hash, sizeof(hash),
	    &len) == 0 && len == sizeof(hash);
	if (ok && c->prev_seq != 0 && seq == c->prev_seq + 1 &&
	    memcmp(prev, c->head, sizeof(prev)) != 0)
		ok = 0;
	if (ok && (pc_ckpt_chain_step(prev, PQgetvalue(res, i, 2),
	    (size_t)PQgetlength(res, i, 2)) == -1 ||
	    memcmp(prev, hash, sizeof(hash)) != 0))
		ok = 0;
	if (!ok && c->bad == 0)
		c->bad = id;
	memcpy(c->head, hash, sizeof(hash));
	c->prev_seq = seq;
}

/* chain.json: the links of the period and the heads signed in it. */
static int
ev_chain(struct pc_evidence *ev, struct ev_state *st,
    const struct ev_chain *c)
{
	struct pc_jsonw	 w;
	PGresult	*res;
	const char	*p[2];
	char		*json, head[2 * PC_CKPT_HASH_LEN + 3];
	size_t		 len;
	int64_t		 badseq;
	int		 i, n;

	p[0] = st->from_epoch;
	p[1] = st->to_epoch;
	res = ev_query(ev, ev->db, "SELECT k.seq, coalesce(k.head = l.hash, "
	    "k.last_event = 0 AND k.head = decode(repeat('00', 32), 'hex')) "
	    "FROM audit.checkpoints k LEFT JOIN audit.chain l "
	    "ON l.event_id = k.last_event WHERE k.at >= $1::bigint "
	    "AND k.at < $2::bigint ORDER BY k.seq", 2, p);
	if (res == NULL)
		return (-1);
	n = PQntuples(res);
	for (badseq = 0, i = 0; i < n && badseq == 0; i++) {
		if (PQgetvalue(res, i, 1)[0] != 't')
			badseq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	}
	PQclear(res);

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, "events", c->events);
	pc_jsonw_int(&w, "first_event", c->first);
	pc_jsonw_int(&w, "last_event", c->last);
	pc_jsonw_int(&w, "sealed", c->sealed);
	pc_jsonw_int(&w, "unsealed", c->unsealed);
	pc_jsonw_bool(&w, "links_intact", c->bad == 0);
	if (c->bad != 0)
		pc_jsonw_int(&w, "first_bad_event", c->bad);
	else
		pc_jsonw_null(&w, "first_bad_event");
	if (pc_bytea_encode(c->head, sizeof(c->head), head,
	    sizeof(head)) == -1)
		return (ev_fail(ev, "hex buffer too small"));
	pc_jsonw_string(&w, "last_link", c->sealed > 0 ? head + 2 : "");
	pc_jsonw_int(&w, "checkpoints_in_period", n);
	pc_jsonw_bool(&w, "checkpoint_heads_match", badseq == 0);
	if (badseq != 0)
		pc_jsonw_int(&w, "first_bad_checkpoint", badseq);
	else
		pc_jsonw_null(&w, "first_bad_checkpoint");
	pc_jsonw_string(&w, "checkpoint_key_sha256", st->key_sha256);
	pc_jsonw_object_close(&w);
	json = pc_jsonw_finish(&w, &len);
	return (ev_put_text(ev, st, "chain.json", json, len, 1));
}

/*
 * Every checkpoint from the first through the period's end, as the
 * checkpoint file has them: the offline verifier wants them from 1.
 */
static int
ev_checkpoints(struct pc_evidence *ev, struct ev_state *st)
{
	struct pc_ckpt	 c;
	struct ev_part	*part;
	PGresult	*res;
	const char	*p[1];
	char		 line[PC_CKPT_LINE_MAX];
	size_t		 a, b, d, e;
	int		 i, n, len;

	p[0] = st->to_epoch;
	res = ev_query(ev, ev->db, "SELECT seq, last_event, head, at, prev, "
	    "key_sha256, signature FROM audit.checkpoints "
	    "WHERE at < $1::bigint ORDER BY seq", 1, p);
	if (res == NULL)
		return (-1);
	part = ev_part(st, "checkpoints/checkpoints.log");
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		c.seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		c.last_event = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		c.at = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		if (pc_bytea_decode(PQgetvalue(res, i, 2), c.head,
		    sizeof(c.head), &a) == -1 ||
		    pc_bytea_decode(PQgetvalue(res, i, 4), c.prev,
		    sizeof(c.prev), &b) == -1 ||
		    pc_bytea_decode(PQgetvalue(res, i, 5), c.key,
		    sizeof(c.key), &d) == -1 ||
		    pc_bytea_decode(PQgetvalue(res, i, 6), c.sig,
		    sizeof(c.sig), &e) == -1 || a != sizeof(c.head) ||
		    b != sizeof(c.prev) || d != sizeof(c.key) ||
		    e != sizeof(c.sig) ||
		    (len = pc_ckpt_line(&c, line, sizeof(line))) == -1) {
			PQclear(res);
			return (ev_fail(ev, "checkpoint %" PRId64 ": cannot "
			    "be written as a line", c.seq));
		}
		ev_put_line(st, part, line, (size_t)len);
	}
	PQclear(res);
	return (0);
}

/* The public half of the policy's signing key, PEM; empty without. */
static int
ev_pubkey(struct pc_evidence *ev, struct ev_state *st)
{
	struct pc_ckpt_key	 k;
	BIO			*mem;
	char			*pem, err[256];
	long			 len;
	int			 rc;

	if (ev->policy->checkpoint_key_file[0] == '\0')
		return (0);
	if (pc_ckpt_key_load(&k, ev->policy->checkpoint_key_file, err,
	    sizeof(err)) == -1)
		return (ev_fail(ev, "%s", err));
	rc = -1;
	if ((mem = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PUBKEY(mem, k.pkey) == 1 &&
	    (len = BIO_get_mem_data(mem, &pem)) > 0) {
		ev_put(st, ev_part(st, "checkpoints/checkpoint.pub"), pem,
		    (size_t)len);
		rc = 0;
	}
	BIO_free(mem);
	if (rc == 0) {
		for (len = 0; len < PC_CKPT_HASH_LEN; len++)
			(void)snprintf(st->key_sha256 + 2 * len, 3, "%02x",
			    k.fpr[len]);
	}
	pc_ckpt_key_free(&k);
	return (rc == 0 ? 0 : ev_fail(ev, "the public key cannot be written"));
}

/* A query's rows as CSV, its column names first; the result freed. */
static int
ev_csv(struct pc_evidence *ev, struct ev_state *st, const char *name,
    PGresult *res)
{
	struct pc_csvw	 w;
	char		*csv;
	size_t		 len;
	int		 i, j, n, nf;

	pc_csvw_init(&w);
	nf = PQnfields(res);
	for (j = 0; j < nf; j++)
		pc_csvw_field(&w, PQfname(res, j), strlen(PQfname(res, j)));
	pc_csvw_endrow(&w);
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nf; j++)
			pc_csvw_field(&w, PQgetvalue(res, i, j),
			    (size_t)PQgetlength(res, i, j));
		pc_csvw_endrow(&w);
	}
	PQclear(res);
	csv = pc_csvw_finish(&w, &len);
	return (ev_put_text(ev, st, name, csv, len, 0));
}

/*
 * Weekly reviews (JSON and CSV), the daily digests with their sign-offs
 * (JSON and CSV) and half-year account reviews.
 */
static int
ev_reviews(struct pc_evidence *ev, struct ev_state *st)
{
	PGresult	*res;
	const char	*p[3];

	p[0] = ev->period.from;
	p[1] = ev->period.to;
	p[2] = "W";
	if (ev_doc(ev, st, "reviews/weekly.json", ev->db, "SELECT "
	    "jsonb_pretty(coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.week), "
	    "'[]'::jsonb))" EV_PERIODS_SQL, 3, p) == -1)
		return (-1);
	res = ev_query(ev, ev->db, "SELECT r.week, r.signed_off_by::text, "
	    "r.signed_off_name, r.signed_off_at::text, r.signoff_comment, "
	    "r.confirmed_by::text, r.confirmed_name, r.confirmed_role, "
	    "r.confirmed_at::text, r.confirm_comment, r.figures_sha256, "
	    "r.timezone" EV_PERIODS_SQL " ORDER BY r.week", 3, p);
	if (res == NULL || ev_csv(ev, st, "reviews/weekly.csv", res) == -1)
		return (-1);

	if (ev_doc(ev, st, "reviews/daily.json", ev->db, "SELECT "
	    "jsonb_pretty(coalesce(jsonb_agg(jsonb_build_object('day', "
	    "to_char(g.d, 'YYYY-MM-DD'), 'digest', to_jsonb(dd), 'signoff', "
	    "to_jsonb(r)) ORDER BY g.d), '[]'::jsonb))" EV_DAILY_SQL, 2,
	    p) == -1)
		return (-1);
	res = ev_query(ev, ev->db, "SELECT to_char(g.d, 'YYYY-MM-DD') AS day, "
	    "dd.timezone, dd.computed_at::text, dd.figures_sha256, "
	    "dd.threshold::text, dd.checkpoint_seq::text, "
	    "dd.checkpoint_sha256, r.signed_off_by::text, r.signed_off_name, "
	    "r.signed_off_at::text, r.signoff_comment, "
	    "r.figures_sha256 AS signed_figures_sha256" EV_DAILY_SQL
	    " ORDER BY g.d", 2, p);
	if (res == NULL || ev_csv(ev, st, "reviews/daily.csv", res) == -1)
		return (-1);

	p[2] = "H";
	return (ev_doc(ev, st, "reviews/accounts.json", ev->db, "SELECT "
	    "jsonb_pretty(coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.week), "
	    "'[]'::jsonb))" EV_PERIODS_SQL, 3, p));
}

/* Alerts alive at any time in the period; the personal-data map. */
static int
ev_tables(struct pc_evidence *ev, struct ev_state *st)
{
	const char	*p[2];

	p[0] = st->from_at;
	p[1] = st->to_at;
	if (ev_doc(ev, st, "alerts.json", ev->db, "SELECT jsonb_pretty("
	    "coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]'::jsonb)) "
	    "FROM audit.alerts a WHERE a.first_seen < $2::timestamptz AND "
	    "coalesce(a.cleared_at, a.last_seen) >= $1::timestamptz", 2,
	    p) == -1)
		return (-1);
	return (ev_doc(ev, st, "personal-data.json", ev->db, "SELECT "
	    "jsonb_pretty(coalesce(jsonb_agg(to_jsonb(p) ORDER BY "
	    "p.schema_name, p.table_name, p.column_name), '[]'::jsonb)) "
	    "FROM meta.personal_data p", 0, NULL));
}

/* The policy file as on disk, and every policy the server loaded. */
static int
ev_policy(struct pc_evidence *ev, struct ev_state *st)
{
	struct ev_part	*part;
	FILE		*f;
	const char	*p[2];
	char		 buf[8192];
	size_t		 n;

	if ((f = fopen(ev->policy_path, "r")) == NULL)
		return (ev_fail(ev, "%s: %s", ev->policy_path,
		    strerror(errno)));
	part = ev_part(st, "policy/policy.conf");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ev_put(st, part, buf, n);
	if (ferror(f))
		st->failed = 1;
	(void)fclose(f);

	p[0] = st->to_at;
	p[1] = ev->policy->digest;
	return (ev_doc(ev, st, "policy/history.json", ev->db, "SELECT "
	    "jsonb_pretty(jsonb_build_object('file_on_disk_digest', $2::text, "
	    "'loaded', coalesce(jsonb_agg(jsonb_build_object('event_id', "
	    "e.id, 'at', e.at, 'details', e.details) ORDER BY e.id), "
	    "'[]'::jsonb))) FROM audit.events e WHERE e.event = "
	    "'policy.loaded' AND e.at < $1::timestamptz", 2, p));
}

/* The migration state: the owner's table, read in a read-only snapshot. */
static int
ev_migrations(struct pc_evidence *ev, struct ev_state *st)
{
	if (ev_query(ev, ev->owner, "BEGIN READ ONLY", 0, NULL) == NULL ||
	    ev_query(ev, ev->owner, "SET LOCAL TimeZone = 'UTC'", 0,
	    NULL) == NULL ||
	    ev_doc(ev, st, "schema/migrations.json", ev->owner, "SELECT "
	    "jsonb_pretty(coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.name), "
	    "'[]'::jsonb)) FROM meta.schema_migrations m", 0, NULL) == -1 ||
	    ev_query(ev, ev->owner, "COMMIT", 0, NULL) == NULL)
		return (-1);
	return (0);
}

static int
ev_archive_entry(struct pc_evidence *ev, struct ev_state *st,
    struct archive *a, const char *name, FILE *fp, uint64_t size)
{
	struct archive_entry	*e;
	char			 buf[16384];
	size_t			 n;
	int			 rc;

	if ((e = archive_entry_new()) == NULL)
		return (ev_fail(ev, "out of memory"));
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0444);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, st->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	rc = archive_write_header(a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK)
		return (ev_fail(ev, "%s: %s", name, archive_error_string(a)));
	if (fseeko(fp, 0, SEEK_SET) != 0)
		return (ev_fail(ev, "%s: %s", name, strerror(errno)));
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (archive_write_data(a, buf, n) != (la_ssize_t)n)
			return (ev_fail(ev, "%s: %s", name,
			    archive_error_string(a)));
	}
	return (ferror(fp) ? ev_fail(ev, "%s: read failed", name) : 0);
}

/* The archive's SHA-256, read back from what reached the file. */
static int
ev_archive_sha(struct pc_evidence *ev, int fd)
{
	EVP_MD_CTX	*md;
	uint8_t		 h[EVP_MAX_MD_SIZE], buf[16384];
	char		 hex[PC_BYTEA_TEXT(32)];
	unsigned int	 hl;
	ssize_t		 n;
	int		 ok;

	if (lseek(fd, 0, SEEK_SET) != 0 || (md = EVP_MD_CTX_new()) == NULL)
		return (ev_fail(ev, "cannot read the archive back"));
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	while (ok && (n = read(fd, buf, sizeof(buf))) != 0)
		ok = n > 0 && EVP_DigestUpdate(md, buf, (size_t)n) == 1;
	ok = ok && EVP_DigestFinal_ex(md, h, &hl) == 1 && hl == 32 &&
	    pc_bytea_encode(h, hl, hex, sizeof(hex)) == 0;
	EVP_MD_CTX_free(md);
	if (!ok)
		return (ev_fail(ev, "cannot hash the archive"));
	memcpy(ev->sha256, hex + 2, sizeof(ev->sha256));
	return (0);
}

/* tmp becomes ev->out, unless ev->out exists; the directory synced. */
static int
ev_archive_place(struct pc_evidence *ev, const char *tmp)
{
	char	 dir[PATH_MAX];

	if (link(tmp, ev->out) == -1)
		return (ev_fail(ev, "%s: %s (a bundle is never overwritten)",
		    ev->out, strerror(errno)));
	(void)unlink(tmp);
	if (pc_fsdir_sync(ev->out, dir, sizeof(dir)) == -1) {
		(void)ev_fail(ev, "%s: %s", dir, strerror(errno));
		(void)unlink(ev->out);
		return (-1);
	}
	return (0);
}

/* index.json, then the archive: index first, then the table's files. */
static int
ev_archive(struct pc_evidence *ev, struct ev_state *st)
{
	struct pc_bundle_entry	 ent[EV_PARTS_MAX];
	struct archive		*a;
	FILE			*idx;
	uint8_t			 h[EVP_MAX_MD_SIZE];
	char			 tmp[PATH_MAX], hex[PC_BYTEA_TEXT(32)];
	char			*json;
	unsigned int		 hl;
	size_t			 i, len;
	int			 fd, rc;

	for (i = 0; i < st->nfiles; i++) {
		ent[i].file = &st->files[i];
		ent[i].size = st->part[i].size;
		if (EVP_DigestFinal_ex(st->part[i].md, h, &hl) != 1 ||
		    hl != 32 || pc_bytea_encode(h, hl, hex, sizeof(hex)) == -1)
			return (ev_fail(ev, "SHA-256 failed"));
		memcpy(ent[i].sha256, hex + 2, sizeof(ent[i].sha256));
	}
	if ((json = pc_bundle_index(&ev->period, ev->policy->timezone, ent,
	    st->nfiles, &len)) == NULL)
		return (ev_fail(ev, "out of memory"));
	idx = fmemopen(json, len, "r");

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", ev->out) >=
	    sizeof(tmp) || idx == NULL || (fd = mkstemp(tmp)) == -1) {
		if (idx != NULL)
			(void)fclose(idx);
		free(json);
		return (ev_fail(ev, "%s: cannot make a temporary file",
		    ev->out));
	}
	rc = -1;
	if ((a = archive_write_new()) == NULL ||
	    archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		(void)ev_fail(ev, "libarchive: %s", a != NULL ?
		    archive_error_string(a) : "out of memory");
		goto out;
	}
	if (ev_archive_entry(ev, st, a, "index.json", idx, len) == -1)
		goto out;
	for (i = 0; i < st->nfiles; i++) {
		if (ev_archive_entry(ev, st, a, st->files[i].name,
		    st->part[i].fp, st->part[i].size) == -1)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		(void)ev_fail(ev, "%s: %s", tmp, archive_error_string(a));
		goto out;
	}
	if (fsync(fd) == -1) {
		(void)ev_fail(ev, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (ev_archive_sha(ev, fd) == -1 || ev_archive_place(ev, tmp) == -1)
		goto out;
	rc = 0;
out:
	if (a != NULL)
		archive_write_free(a);
	(void)close(fd);
	(void)unlink(tmp);
	(void)fclose(idx);
	free(json);
	return (rc);
}

int
pc_evidence_write(struct pc_evidence *ev)
{
	struct ev_state	 st;
	size_t		 i;
	int		 rc;

	memset(&st, 0, sizeof(st));
	rc = ev_parts_open(ev, &st);
	for (i = 0; rc == 0 && i < sizeof(ev_steps) / sizeof(ev_steps[0]);
	    i++) {
		rc = ev_steps[i](ev, &st);
		if (rc == 0 && st.failed)
			rc = ev_fail(ev, "a temporary file could not be "
			    "written");
	}
	if (rc == 0 && ev_query(ev, ev->db, "COMMIT", 0, NULL) == NULL)
		rc = -1;
	if (rc == 0)
		rc = ev_archive(ev, &st);
	ev_parts_close(&st);
	return (rc);
}
