/*
 * audit.c: the audit trail as auditors and admins see it.
 *   GET  /api/audit/events     browse (filters, keyset pages)  auditors
 *   GET  /api/audit/verify     walk the SHA-256 chain          auditors
 *   GET  /api/alerts           alerts, newest first            admins, auditors
 *   POST /api/alerts/:id/ack   acknowledge with a comment      admins, auditors
 *   GET  /api/inventory        where personal data lives       admins, auditors
 * Reads go through pc_auditor (read-only) for auditors; every view of
 * the trail is itself recorded (through pc_auth's audit.note()).
 * Worker 1 also seals the chain, records approval requests that ran
 * out, and turns new alerts into log lines.
 */
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "control.h"
#include "db.h"
#include "http_util.h"
#include "jsonw.h"
#include "qs.h"
#include "request.h"
#include "routes.h"

#define PC_AUDIT_SEAL_MS	10000

static const char *const pc_audit_filters[] = { "from", "to", "actor",
    "event", "outcome", "source", "target", "limit", "before", NULL };

static const char pc_audit_events_sql[] =
    "SELECT id, extract(epoch FROM at)::bigint, actor_id, actor_name, "
    "actor_role, host(source), event, target, outcome, details::text "
    "FROM audit.events "
    "WHERE ($1::timestamp IS NULL OR at >= ($1::timestamp AT TIME ZONE $8)) "
    "AND ($2::timestamp IS NULL OR at < ($2::timestamp AT TIME ZONE $8)) "
    "AND ($3::text IS NULL OR actor_name = $3) "
    "AND ($4::text IS NULL OR event = $4) "
    "AND ($5::text IS NULL OR outcome = $5) "
    "AND ($6::inet IS NULL OR source = $6::inet) "
    "AND ($7::text IS NULL OR target = $7) "
    "AND ($9::bigint IS NULL OR id < $9::bigint) "
    "ORDER BY id DESC LIMIT $10::int";

enum pc_audit_kind {
	PC_AUDIT_EVENTS = 1,
	PC_AUDIT_VERIFY,
	PC_AUDIT_ALERTS,
	PC_AUDIT_ACK,
	PC_AUDIT_INVENTORY,
};

struct pc_audit {
	enum pc_audit_kind	kind;
	struct pc_dbq		q;
	struct pc_dbq		rec;
	struct pc_qs		qs;
	char			id[24], limit[16];
	char			comment[512];
	char			outcome[16], details[256], rule[40];
	char			*out;
	size_t			out_len;
	int			status;
};

enum pc_audit_bg_kind {
	PC_BG_SEAL = 0,
	PC_BG_ALERTS,
	PC_BG_STARTED,
};

struct pc_audit_bg {
	struct kore_pgsql	sql;
	enum pc_audit_bg_kind	kind;
	int			ok;
};

static void	pc_audit_free(void *);
static struct pc_audit	*pc_audit_get(struct http_request *);
static int	pc_audit(struct http_request *, enum pc_audit_kind);
static int	pc_audit_prepare_events(struct http_request *,
		    struct pc_audit *);
static int	pc_audit_render(struct http_request *, struct pc_audit *);
static void	pc_audit_json_num(struct pc_jsonw *, const char *,
		    PGresult *, int, int);
static void	pc_audit_json_int(struct pc_jsonw *, const char *,
		    PGresult *, int, int);
static const char *pc_audit_text(PGresult *, int, int);
static void	pc_audit_rows(struct pc_audit *, const char *, int);
static int	pc_audit_array(struct pc_audit *, struct pc_jsonw *,
		    const char *, void (*)(struct pc_jsonw *, PGresult *, int));
static void	pc_audit_row_event(struct pc_jsonw *, PGresult *, int);
static void	pc_audit_row_alert(struct pc_jsonw *, PGresult *, int);
static void	pc_audit_row_column(struct pc_jsonw *, PGresult *, int);
static int	pc_audit_render_events(struct http_request *,
		    struct pc_audit *, struct pc_jsonw *);
static int	pc_audit_render_verify(struct http_request *,
		    struct pc_audit *, struct pc_jsonw *);
static int	pc_audit_render_alerts(struct http_request *,
		    struct pc_audit *, struct pc_jsonw *);
static int	pc_audit_render_inventory(struct http_request *,
		    struct pc_audit *, struct pc_jsonw *);
static int	pc_audit_render_ack(struct http_request *,
		    struct pc_audit *, struct pc_jsonw *);

static int	pc_audit_step_prepare(struct http_request *);
static int	pc_audit_step_query(struct http_request *);
static int	pc_audit_step_render(struct http_request *);
static int	pc_audit_step_record(struct http_request *);
static int	pc_audit_step_answer(struct http_request *);
static void	pc_audit_tick(void *, u_int64_t);
static void	pc_audit_bg_done(struct kore_pgsql *, void *);
static void	pc_audit_bg_query(enum pc_audit_bg_kind);
static struct pc_audit_bg *pc_audit_bg_new(enum pc_audit_bg_kind);
static void	pc_audit_bg_drop(struct pc_audit_bg *);
static void	pc_audit_bg_started(void);
static void	pc_audit_started(void *, u_int64_t);
static char	*pc_audit_lifecycle_details(int);

/* One request: its query, the answer, the view recorded, the answer sent. */
enum pc_audit_step {
	PC_AUDIT_S_PREPARE = 0,
	PC_AUDIT_S_QUERY,
	PC_AUDIT_S_RENDER,
	PC_AUDIT_S_RECORD,
	PC_AUDIT_S_ANSWER,
};

static struct http_state pc_audit_states[] = {
	[PC_AUDIT_S_PREPARE] = KORE_HTTP_STATE(pc_audit_step_prepare),
	[PC_AUDIT_S_QUERY] = KORE_HTTP_STATE(pc_audit_step_query),
	[PC_AUDIT_S_RENDER] = KORE_HTTP_STATE(pc_audit_step_render),
	[PC_AUDIT_S_RECORD] = KORE_HTTP_STATE(pc_audit_step_record),
	[PC_AUDIT_S_ANSWER] = KORE_HTTP_STATE(pc_audit_step_answer),
};

#define PC_AUDIT_NSTATES	\
	(sizeof(pc_audit_states) / sizeof(pc_audit_states[0]))

/*
 * Each view: how its rows become the answer, and the event that records
 * it (NULL: the acknowledgement is recorded by audit.acknowledge()).
 */
static const struct {
	int		(*render)(struct http_request *, struct pc_audit *,
			    struct pc_jsonw *);
	const char	*event;
} pc_audit_views[] = {
	[PC_AUDIT_EVENTS] = { pc_audit_render_events, "audit.events_viewed" },
	[PC_AUDIT_VERIFY] = { pc_audit_render_verify, "audit.verified" },
	[PC_AUDIT_ALERTS] = { pc_audit_render_alerts, "alerts.viewed" },
	[PC_AUDIT_ACK] = { pc_audit_render_ack, NULL },
	[PC_AUDIT_INVENTORY] = { pc_audit_render_inventory,
	    "inventory.viewed" },
};

static int64_t	pc_audit_alert_seen = -1;
/* The start (or a worker restart) is recorded once, retried until then. */
static int	pc_audit_start_pending;
static int	pc_audit_start_inflight;
static int	pc_audit_restarted;

static void
pc_audit_free(void *arg)
{
	struct pc_audit	*a = arg;

	pc_dbq_cleanup(&a->q);
	pc_dbq_cleanup(&a->rec);
	if (a->out != NULL) {
		free(a->out);
		a->out = NULL;
	}
}

/*
 * Worker 1 seals the chain, expires requests, sweeps attempts, disables
 * idle accounts and reports new alerts every 10 s.
 */
void
pc_audit_worker_init(void)
{
	if (worker == NULL || worker->id != 1)
		return;
	pc_audit_restarted = worker->restarted;
	pc_audit_start_pending = 1;
	kore_timer_add(pc_audit_tick, PC_AUDIT_SEAL_MS, NULL, 0);
	/* Once the event loop runs, so the query has a loop to run in. */
	kore_timer_add(pc_audit_started, 10, NULL, 1);
}

/*
 * Details of server.started / server.stopped: the parent's pid and the
 * recording worker; with the policy's digest, environment, hours and zone
 * for policy.loaded (policy = 1). NULL on allocation failure.
 */
static char *
pc_audit_lifecycle_details(int policy)
{
	struct pc_jsonw		w;
	char			hours[16];
	size_t			len;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	if (policy) {
		(void)snprintf(hours, sizeof(hours), "%02d:%02d-%02d:%02d",
		    pc_policy.hours.start_min / 60,
		    pc_policy.hours.start_min % 60,
		    pc_policy.hours.end_min / 60, pc_policy.hours.end_min % 60);
		pc_jsonw_string(&w, "digest", pc_policy.digest);
		pc_jsonw_string(&w, "environment", pc_policy.environment ==
		    PC_POLICY_ENV_DEVELOPMENT ? "development" : "production");
		pc_jsonw_string(&w, "hours", hours);
		pc_jsonw_string(&w, "timezone", pc_policy.timezone);
		pc_jsonw_int(&w, "allow_entries", (int64_t)pc_policy.allow_count);
		pc_jsonw_string(&w, "path", PC_POLICY_FILE);
	} else {
		pc_jsonw_int(&w, "pid", (int64_t)pc_server_pid);
		pc_jsonw_int(&w, "worker", (int64_t)worker->id);
	}
	pc_jsonw_object_close(&w);
	return (pc_jsonw_finish(&w, &len));
}

static void
pc_audit_started(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
	if (pc_audit_start_pending && !pc_audit_start_inflight)
		pc_audit_bg_query(PC_BG_STARTED);
}

static void
pc_audit_tick(void *arg, u_int64_t now)
{
	pc_audit_started(arg, now);
	pc_audit_bg_query(PC_BG_SEAL);
	pc_audit_bg_query(PC_BG_ALERTS);
}

/*
 * A clean stop, recorded by worker 1 on its way out (synchronously: the
 * event loop has ended). A kill -9 leaves no record; the next start does.
 */
void
pc_audit_worker_stop(void)
{
	struct kore_pgsql	sql;
	const char		*v[1];
	int			len[1], fmt[1];
	char			*details;

	if (worker == NULL || worker->id != 1)
		return;
	if ((details = pc_audit_lifecycle_details(0)) == NULL)
		return;
	v[0] = details;
	len[0] = (int)strlen(details);
	fmt[0] = 0;
	kore_pgsql_init(&sql);
	if (!kore_pgsql_setup(&sql, PC_DB_AUTH, KORE_PGSQL_SYNC) ||
	    !kore_pgsql_query_param_fields(&sql,
	    "SELECT audit.note_system('server.stopped', 'payconsole', "
	    "'info', $1::jsonb, NULL, NULL)",
	    KORE_PGSQL_FORMAT_TEXT, 1, v, len, fmt)) {
		kore_log(LOG_WARNING, "audit: the stop cannot be recorded");
	}
	kore_pgsql_cleanup(&sql);
	free(details);
}

/* A background query's state; NULL when no connection can be had. */
static struct pc_audit_bg *
pc_audit_bg_new(enum pc_audit_bg_kind kind)
{
	struct pc_audit_bg	*bg;

	bg = kore_calloc(1, sizeof(*bg));
	bg->kind = kind;
	kore_pgsql_init(&bg->sql);
	kore_pgsql_bind_callback(&bg->sql, pc_audit_bg_done, bg);
	if (!kore_pgsql_setup(&bg->sql, PC_DB_AUTH, KORE_PGSQL_ASYNC)) {
		pc_control_db(0);
		pc_audit_bg_drop(bg);
		return (NULL);
	}
	return (bg);
}

/* Releasing the connection would call back: detach first. */
static void
pc_audit_bg_drop(struct pc_audit_bg *bg)
{
	bg->sql.cb = NULL;
	kore_pgsql_cleanup(&bg->sql);
	kore_free(bg);
}

/* server.started and policy.loaded (or a worker's restart). */
static void
pc_audit_bg_started(void)
{
	struct pc_audit_bg	*bg;
	const char		*v[3];
	int			len[3], fmt[3];
	char			*started, *policy;

	started = pc_audit_lifecycle_details(0);
	policy = pc_audit_lifecycle_details(1);
	if (started == NULL || policy == NULL ||
	    (bg = pc_audit_bg_new(PC_BG_STARTED)) == NULL) {
		free(started);
		free(policy);
		return;
	}
	v[0] = started;
	v[1] = policy;
	v[2] = PC_POLICY_FILE;
	len[0] = (int)strlen(started);
	len[1] = (int)strlen(policy);
	len[2] = (int)strlen(PC_POLICY_FILE);
	fmt[0] = fmt[1] = fmt[2] = 0;
	pc_audit_start_inflight = 1;
	/* A restarted worker is not a new start of the server. */
	if (!kore_pgsql_query_param_fields(&bg->sql, pc_audit_restarted ?
	    "SELECT audit.note_system('server.worker_restarted', "
	    "'payconsole', 'info', $1::jsonb, NULL, NULL) "
	    "WHERE $2::jsonb IS NOT NULL AND $3::text IS NOT NULL" :
	    "SELECT audit.note_system('server.started', 'payconsole', "
	    "'info', $1::jsonb, NULL, NULL), "
	    "audit.note_system('policy.loaded', $3, 'info', "
	    "$2::jsonb, NULL, NULL)",
	    KORE_PGSQL_FORMAT_TEXT, 3, v, len, fmt)) {
		pc_audit_start_inflight = 0;
		pc_audit_bg_drop(bg);
	}
	free(started);
	free(policy);
}

static void
pc_audit_bg_query(enum pc_audit_bg_kind kind)
{
	struct pc_audit_bg	*bg;
	const char		*v[4];
	int			len[4], fmt[4];
	char			seen[24], days[16], limit[16];

	if (kind == PC_BG_STARTED) {
		pc_audit_bg_started();
		return;
	}
	if ((bg = pc_audit_bg_new(kind)) == NULL)
		return;
	(void)snprintf(seen, sizeof(seen), "%" PRId64, pc_audit_alert_seen);
	/* PCI DSS 8.2.6: idle accounts are disabled with the seal. */
	(void)snprintf(days, sizeof(days), "%u",
	    (unsigned int)pc_policy.inactive_disable_days);
	v[0] = seen;
	len[0] = (int)strlen(seen);
	v[1] = days;
	len[1] = (int)strlen(days);
	/* PCI DSS 10.4.1: the digest of each finished site-local day. */
	(void)snprintf(limit, sizeof(limit), "%u",
	    (unsigned int)pc_policy.refund_approval_threshold);
	v[2] = pc_policy.timezone;
	len[2] = (int)strlen(pc_policy.timezone);
	v[3] = limit;
	len[3] = (int)strlen(limit);
	fmt[0] = fmt[1] = fmt[2] = fmt[3] = 0;
	if (!kore_pgsql_query_param_fields(&bg->sql, kind == PC_BG_ALERTS ?
	    "SELECT id, rule, severity, key, count FROM audit.alerts "
	    "WHERE id > $1::bigint AND $1::bigint >= 0 "
	    "UNION ALL SELECT coalesce(max(id), 0), NULL, NULL, NULL, NULL "
	    "FROM audit.alerts ORDER BY 1" :
	    "SELECT audit.seal(), approvals.expire_due(), "
	    "auth.attempts_sweep(), auth.disable_inactive($2::integer), "
	    "audit.digest_due($3, $4::bigint) WHERE $1::bigint IS NOT NULL",
	    KORE_PGSQL_FORMAT_TEXT, kind == PC_BG_ALERTS ? 1 : 4, v, len, fmt))
		pc_audit_bg_drop(bg);
}

static void
pc_audit_bg_done(struct kore_pgsql *sql, void *arg)
{
	struct pc_audit_bg	*bg = arg;
	int			i, n;
	char			key[512];

	switch (sql->state) {
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_RESULT:
		pc_control_db(1);
		if (bg->kind == PC_BG_STARTED)
			bg->ok = 1;
		if (bg->kind == PC_BG_ALERTS) {
			n = PQntuples(sql->result);
			for (i = 0; i < n; i++) {
				if (PQgetisnull(sql->result, i, 1)) {
					pc_audit_alert_seen = strtoll(
					    PQgetvalue(sql->result, i, 0),
					    NULL, 10);
					continue;
				}
				/*
				 * Alerts reach syslog, not only the table.
				 * The key may be a name someone typed: it
				 * is written as a JSON string, one line.
				 */
				if (pc_json_escape(PQgetvalue(sql->result, i,
				    3), (size_t)PQgetlength(sql->result, i, 3),
				    key, sizeof(key)) == -1)
					(void)kore_strlcpy(key, "\"...\"",
					    sizeof(key));
				kore_log(strcmp(PQgetvalue(sql->result, i, 2),
				    "alert") == 0 ? LOG_ALERT : LOG_WARNING,
				    "ALERT %s rule=%s key=%s count=%s",
				    PQgetvalue(sql->result, i, 0),
				    PQgetvalue(sql->result, i, 1), key,
				    PQgetvalue(sql->result, i, 4));
			}
		}
		kore_pgsql_continue(sql);
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		if (bg->kind == PC_BG_STARTED) {
			pc_audit_start_inflight = 0;
			if (bg->ok)
				pc_audit_start_pending = 0;
		}
		kore_pgsql_cleanup(sql);
		kore_free(bg);
		break;
	case KORE_PGSQL_STATE_ERROR:
		kore_log(LOG_WARNING, "audit: background %s failed: %s",
		    bg->kind == PC_BG_ALERTS ? "alert scan" :
		    bg->kind == PC_BG_SEAL ? "sealing" : "start record",
		    sql->error ? sql->error : "?");
		kore_pgsql_continue(sql);
		break;
	default:
		kore_pgsql_continue(sql);
		break;
	}
}

static struct pc_audit *
pc_audit_get(struct http_request *req)
{
	return (pc_req_handler_state(req, sizeof(struct pc_audit),
	    pc_audit_free));
}

/* The browse filters, checked and bound; 0 when answered. */
static int
pc_audit_prepare_events(struct http_request *req, struct pc_audit *a)
{
	const char		*v, *names[] = { "from", "to", "actor", "event",
				    "outcome", "source", "target" };
	size_t			i;
	long			lim;
	uint8_t			addr[16];

	if (pc_qs_parse(&a->qs, req->query_string, pc_audit_filters) == -1)
		goto bad;
	lim = 50;
	if ((v = pc_qs_get(&a->qs, "limit")) != NULL &&
	    /* cppcheck-suppress redundantAssignment ; 50 is used when limit is absent */
	    ((lim = strtol(v, NULL, 10)) < 1 || lim > 200 ||
	    strspn(v, "0123456789") != strlen(v)))
		goto bad;
	(void)snprintf(a->limit, sizeof(a->limit), "%ld", lim);
	if ((v = pc_qs_get(&a->qs, "before")) != NULL &&
	    (strspn(v, "0123456789") != strlen(v) || strlen(v) > 18))
		goto bad;
	for (i = 0; i < 2; i++) {
		if ((v = pc_qs_get(&a->qs, names[i])) != NULL &&
		    !pc_qs_local_time(v))
			goto bad;
	}
	if ((v = pc_qs_get(&a->qs, "source")) != NULL &&
	    inet_pton(AF_INET, v, addr) != 1 &&
	    inet_pton(AF_INET6, v, addr) != 1)
		goto bad;
	if ((v = pc_qs_get(&a->qs, "outcome")) != NULL &&
	    strcmp(v, "success") != 0 && strcmp(v, "failure") != 0 &&
	    strcmp(v, "denied") != 0 && strcmp(v, "info") != 0)
		goto bad;
	/* After the numbers: a huge limit is a bad number. */
	for (i = 0; i < a->qs.n; i++) {
		if (!pc_req_no_card(req, a->qs.value[i],
		    strlen(a->qs.value[i])))
			return (0);
	}
	pc_dbq_init(&a->q, PC_DB_AUDITOR, pc_audit_events_sql);
	for (i = 0; i < 7; i++) {
		v = pc_qs_get(&a->qs, names[i]);
		pc_dbq_param(&a->q, v, v != NULL ? strlen(v) : 0);
	}
	pc_dbq_param(&a->q, pc_policy.timezone, strlen(pc_policy.timezone));
	v = pc_qs_get(&a->qs, "before");
	pc_dbq_param(&a->q, v, v != NULL ? strlen(v) : 0);
	pc_dbq_param(&a->q, a->limit, strlen(a->limit));
	return (1);

bad:
	pc_http_error(req, 400, "invalid_request",
	    "A parameter is not acceptable.");
	return (0);
}

/* The view's query; COMPLETE when the request is answered already. */
static int
pc_audit_step_prepare(struct http_request *req)
{
	struct pc_req		*r;
	struct pc_audit		*a;
	const char		*db;

	r = pc_req_get(req);
	a = pc_audit_get(req);
	(void)snprintf(a->id, sizeof(a->id), "%" PRId64, r->path_id);
	db = strcmp(r->s.role, "auditor") == 0 ? PC_DB_AUDITOR : PC_DB_AUTH;

	switch (a->kind) {
	case PC_AUDIT_EVENTS:
		return (pc_audit_prepare_events(req, a) ?
		    pc_req_step(req, PC_AUDIT_S_QUERY) : HTTP_STATE_COMPLETE);
	case PC_AUDIT_VERIFY:
		pc_dbq_init(&a->q, PC_DB_AUDITOR, "SELECT intact, checked, "
		    "last_event, problem, problem_event, unsealed "
		    "FROM audit.verify()");
		return (pc_req_step(req, PC_AUDIT_S_QUERY));
	case PC_AUDIT_ALERTS:
		pc_dbq_init(&a->q, db,
		    "SELECT id, rule, severity, key, "
		    "extract(epoch FROM first_seen)::bigint, "
		    "extract(epoch FROM last_seen)::bigint, count, "
		    "array_to_json(event_ids)::text, "
		    "extract(epoch FROM acknowledged_at)::bigint, "
		    "acknowledged_by, ack_comment, sources, names, "
		    "extract(epoch FROM window_start)::bigint, "
		    "extract(epoch FROM window_start + make_interval("
		    "secs => window_seconds))::bigint, "
		    "extract(epoch FROM cleared_at)::bigint FROM audit.alerts "
		    "ORDER BY (acknowledged_at IS NULL) DESC, last_seen DESC, "
		    "id DESC LIMIT 200");
		return (pc_req_step(req, PC_AUDIT_S_QUERY));
	case PC_AUDIT_INVENTORY:
		pc_dbq_init(&a->q, db,
		    "SELECT schema_name, table_name, column_name, category, "
		    "purpose, row_count, array_to_json(readers)::text "
		    "FROM meta.inventory()");
		return (pc_req_step(req, PC_AUDIT_S_QUERY));
	case PC_AUDIT_ACK:
		if (!pc_req_body_text(req, "comment", a->comment,
		    sizeof(a->comment), 501))
			return (HTTP_STATE_COMPLETE);
		pc_dbq_init(&a->q, PC_DB_AUTH, "SELECT audit.acknowledge("
		    "$1::bytea, $2::inet, $3::bigint, $4)");
		pc_dbq_param(&a->q, r->tok, strlen(r->tok));
		pc_dbq_param(&a->q, r->source, strlen(r->source));
		pc_dbq_param(&a->q, a->id, strlen(a->id));
		pc_dbq_param(&a->q, a->comment, strlen(a->comment));
		return (pc_req_step(req, PC_AUDIT_S_QUERY));
	}
	fatal("pc_audit_step_prepare: kind %d", a->kind);
}

/* A bigint column as a JSON number. */
static void
pc_audit_json_num(struct pc_jsonw *w, const char *key, PGresult *res,
    int row, int col)
{
	pc_jsonw_int(w, key, strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* A bigint column as a JSON number, or null. */
static void
pc_audit_json_int(struct pc_jsonw *w, const char *key, PGresult *res,
    int row, int col)
{
	if (PQgetisnull(res, row, col))
		pc_jsonw_null(w, key);
	else
		pc_audit_json_num(w, key, res, row, col);
}

/* A text column, NULL when it is (pc_jsonw_string() writes null). */
static const char *
pc_audit_text(PGresult *res, int row, int col)
{
	return (PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col));
}

/* A successful view of n rows (or columns, what). */
static void
pc_audit_rows(struct pc_audit *a, const char *what, int n)
{
	(void)snprintf(a->outcome, sizeof(a->outcome), "success");
	(void)snprintf(a->details, sizeof(a->details), "{\"%s\": %d}", what,
	    n);
}

/* Each row of the result an object in the array key; the row count. */
static int
pc_audit_array(struct pc_audit *a, struct pc_jsonw *w, const char *key,
    void (*row)(struct pc_jsonw *, PGresult *, int))
{
	int	i, n;

	n = PQntuples(a->q.result);
	pc_jsonw_array_open(w, key);
	for (i = 0; i < n; i++) {
		pc_jsonw_object_open(w, NULL);
		row(w, a->q.result, i);
		pc_jsonw_object_close(w);
	}
	pc_jsonw_array_close(w);
	return (n);
}

static void
pc_audit_row_event(struct pc_jsonw *w, PGresult *res, int i)
{
	pc_audit_json_num(w, "id", res, i, 0);
	pc_audit_json_num(w, "at", res, i, 1);
	pc_audit_json_int(w, "actor_id", res, i, 2);
	pc_jsonw_string(w, "actor_name", pc_audit_text(res, i, 3));
	pc_jsonw_string(w, "actor_role", pc_audit_text(res, i, 4));
	pc_jsonw_string(w, "source", pc_audit_text(res, i, 5));
	pc_jsonw_string(w, "event", PQgetvalue(res, i, 6));
	pc_jsonw_string(w, "target", pc_audit_text(res, i, 7));
	pc_jsonw_string(w, "outcome", PQgetvalue(res, i, 8));
	pc_jsonw_raw(w, "details", PQgetvalue(res, i, 9));
}

static int
pc_audit_render_events(struct http_request *req, struct pc_audit *a,
    struct pc_jsonw *w)
{
	int	n;

	(void)req;
	n = pc_audit_array(a, w, "events", pc_audit_row_event);
	/* NOLINTNEXTLINE(cert-err34-c): our own "%ld" of a checked 1..200 */
	if (n == atoi(a->limit) && n > 0)
		pc_jsonw_string(w, "next_before",
		    PQgetvalue(a->q.result, n - 1, 0));
	else
		pc_jsonw_null(w, "next_before");
	pc_audit_rows(a, "rows", n);
	return (1);
}

static int
pc_audit_render_verify(struct http_request *req, struct pc_audit *a,
    struct pc_jsonw *w)
{
	PGresult	*res;

	(void)req;
	res = a->q.result;
	if (PQntuples(res) != 1)
		return (1);
	pc_jsonw_bool(w, "intact", PQgetvalue(res, 0, 0)[0] == 't');
	pc_audit_json_num(w, "checked", res, 0, 1);
	pc_audit_json_num(w, "last_event", res, 0, 2);
	pc_jsonw_string(w, "problem", pc_audit_text(res, 0, 3));
	pc_audit_json_int(w, "problem_event", res, 0, 4);
	pc_audit_json_int(w, "unsealed", res, 0, 5);
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		(void)snprintf(a->outcome, sizeof(a->outcome), "success");
		(void)snprintf(a->details, sizeof(a->details),
		    "{\"intact\": true, \"last_event\": %lld}",
		    strtoll(PQgetvalue(res, 0, 2), NULL, 10));
		return (1);
	}
	(void)snprintf(a->outcome, sizeof(a->outcome), "failure");
	(void)snprintf(a->details, sizeof(a->details),
	    "{\"intact\": false, \"problem_event\": %lld}",
	    strtoll(PQgetvalue(res, 0, 4), NULL, 10));
	(void)snprintf(a->rule, sizeof(a->rule), "chain_verification_failed");
	kore_log(LOG_ALERT, "audit chain verification failed at event %s (%s)",
	    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 3));
	return (1);
}

static void
pc_audit_row_alert(struct pc_jsonw *w, PGresult *res, int i)
{
	pc_audit_json_num(w, "id", res, i, 0);
	pc_jsonw_string(w, "rule", PQgetvalue(res, i, 1));
	pc_jsonw_string(w, "severity", PQgetvalue(res, i, 2));
	pc_jsonw_string(w, "key", PQgetvalue(res, i, 3));
	pc_audit_json_num(w, "first_seen", res, i, 4);
	pc_audit_json_num(w, "last_seen", res, i, 5);
	pc_audit_json_num(w, "count", res, i, 6);
	pc_jsonw_raw(w, "event_ids", PQgetvalue(res, i, 7));
	pc_audit_json_int(w, "acknowledged_at", res, i, 8);
	pc_jsonw_string(w, "acknowledged_by", pc_audit_text(res, i, 9));
	pc_jsonw_string(w, "comment", pc_audit_text(res, i, 10));
	/* Distinct sources and names, and the window. */
	pc_audit_json_num(w, "sources", res, i, 11);
	pc_audit_json_num(w, "names", res, i, 12);
	pc_audit_json_num(w, "window_start", res, i, 13);
	pc_audit_json_int(w, "window_end", res, i, 14);
	/* Control-failure alarms: when the control worked again. */
	pc_audit_json_int(w, "cleared_at", res, i, 15);
}

static int
pc_audit_render_alerts(struct http_request *req, struct pc_audit *a,
    struct pc_jsonw *w)
{
	(void)req;
	pc_audit_rows(a, "rows", pc_audit_array(a, w, "alerts",
	    pc_audit_row_alert));
	return (1);
}

static void
pc_audit_row_column(struct pc_jsonw *w, PGresult *res, int i)
{
	pc_jsonw_string(w, "schema", PQgetvalue(res, i, 0));
	pc_jsonw_string(w, "table", PQgetvalue(res, i, 1));
	pc_jsonw_string(w, "column", PQgetvalue(res, i, 2));
	pc_jsonw_string(w, "category", PQgetvalue(res, i, 3));
	pc_jsonw_string(w, "purpose", PQgetvalue(res, i, 4));
	pc_audit_json_num(w, "rows", res, i, 5);
	pc_jsonw_raw(w, "readable_by", PQgetvalue(res, i, 6));
}

static int
pc_audit_render_inventory(struct http_request *req, struct pc_audit *a,
    struct pc_jsonw *w)
{
	(void)req;
	pc_audit_rows(a, "columns", pc_audit_array(a, w, "columns",
	    pc_audit_row_column));
	return (1);
}

/* 0 when refused (answered). */
static int
pc_audit_render_ack(struct http_request *req, struct pc_audit *a,
    struct pc_jsonw *w)
{
	PGresult	*res;
	int		n;

	res = a->q.result;
	n = PQntuples(res);
	/* NULL: the alert lists an action of this user's own. */
	if (n == 1 && PQgetisnull(res, 0, 0)) {
		pc_http_error(req, 403, "self_forbidden",
		    "Alerts about your own actions are acknowledged "
		    "by someone else.");
		return (0);
	}
	if (n != 1 || PQgetvalue(res, 0, 0)[0] != 't') {
		pc_http_error(req, 404, "not_found", "No such open alert.");
		return (0);
	}
	pc_jsonw_string(w, "status", "acknowledged");
	return (1);
}

/* Build the answer in a->out; the view itself is recorded next. */
static int
pc_audit_render(struct http_request *req, struct pc_audit *a)
{
	struct pc_jsonw		w;

	a->status = 200;
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	if (!pc_audit_views[a->kind].render(req, a, &w)) {
		pc_jsonw_free(&w);
		return (0);
	}
	pc_jsonw_object_close(&w);
	if ((a->out = pc_jsonw_finish(&w, &a->out_len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (0);
	}
	return (1);
}

static int
pc_audit_step_query(struct http_request *req)
{
	return (pc_req_wait(req, &pc_audit_get(req)->q, PC_AUDIT_S_RENDER));
}

/* Looking at the trail is itself an event. */
static int
pc_audit_step_render(struct http_request *req)
{
	struct pc_audit		*a;
	const char		*ev;

	a = pc_audit_get(req);
	if (!pc_audit_render(req, a))
		return (HTTP_STATE_COMPLETE);
	if ((ev = pc_audit_views[a->kind].event) == NULL) {
		pc_http_json(req, a->status, a->out, a->out_len);
		return (HTTP_STATE_COMPLETE);
	}
	pc_req_record(&a->rec, pc_req_get(req), PC_DB_AUTH, ev, "audit",
	    a->outcome, a->details, strlen(a->details), a->rule);
	return (pc_req_step(req, PC_AUDIT_S_RECORD));
}

static int
pc_audit_step_record(struct http_request *req)
{
	return (pc_req_wait(req, &pc_audit_get(req)->rec, PC_AUDIT_S_ANSWER));
}

static int
pc_audit_step_answer(struct http_request *req)
{
	struct pc_audit		*a;

	a = pc_audit_get(req);
	pc_http_json(req, a->status, a->out, a->out_len);
	return (HTTP_STATE_COMPLETE);
}

static int
pc_audit(struct http_request *req, enum pc_audit_kind kind)
{
	pc_audit_get(req)->kind = kind;
	return (http_state_run(pc_audit_states, PC_AUDIT_NSTATES, req));
}

int
pc_h_audit_events(struct http_request *req)
{
	return (pc_audit(req, PC_AUDIT_EVENTS));
}

int
pc_h_audit_verify(struct http_request *req)
{
	return (pc_audit(req, PC_AUDIT_VERIFY));
}

int
pc_h_alerts(struct http_request *req)
{
	return (pc_audit(req, PC_AUDIT_ALERTS));
}

int
pc_h_alert_ack(struct http_request *req)
{
	return (pc_audit(req, PC_AUDIT_ACK));
}

int
pc_h_inventory(struct http_request *req)
{
	return (pc_audit(req, PC_AUDIT_INVENTORY));
}
