/*
 * db.c: the PostgreSQL handles and a small driver that runs one
 * parameterised query for a request without blocking the worker.
 *
 * Each concern has its own login role (migrations/001_roles.sql); the
 * server registers one Kore database per role and never uses the owner
 * role that runs migrations. Authentication is peer (unix socket) with
 * an ident map, so no database password exists anywhere.
 *
 * Every asynchronous query has a deadline (db_timeout_seconds, Kore
 * patch 12): without an answer by then its connection is abandoned,
 * never drained, the request gets 503 and a later query connects anew.
 */
#include <string.h>

#include "app.h"
#include "control.h"
#include "db.h"
#include "dberr.h"
#include "http_util.h"

static const struct {
	const char	*name;
	const char	*role;
} pc_db_roles[] = {
	{ PC_DB_AUTH,		"pc_auth" },
	{ PC_DB_PAYMENTS,	"pc_payments" },
	{ PC_DB_AUDITOR,	"pc_auditor" },
};

static unsigned int	 pc_db_connect_timeout(void);
static void		pc_dbq_failed(struct pc_dbq *);
static void		pc_db_bg_done(struct kore_pgsql *, void *);

/* One background query and what to tell as it runs and when it ends. */
struct pc_db_bg {
	struct kore_pgsql	sql;
	void			(*rows)(PGresult *, void *);
	void			(*done)(int, void *);
	void			*arg;
	int			ok;
};

/*
 * Inside the chroot a path under the root is seen without the root
 * prefix; a socket outside the root cannot be reached, so refuse to
 * start. key names the policy key for the message.
 */
const char *
pc_db_inside_root(const char *path, const char *key)
{
	size_t		len;

	if (skip_chroot)
		return (path);

	len = strlen(kore_root_path);
	while (len > 1 && kore_root_path[len - 1] == '/')
		len--;
	if (strncmp(path, kore_root_path, len) != 0 ||
	    (path[len] != '/' && path[len] != '\0'))
		fatalx("%s %s is outside the root %s", key, path,
		    kore_root_path);

	return (path[len] == '\0' ? "/" : path + len);
}

/*
 * Kore connects synchronously, so a frozen postmaster holds the worker
 * for connect_timeout: at most 3 s as before, less with a shorter query
 * deadline (libpq takes 2 s at least).
 */
static unsigned int
pc_db_connect_timeout(void)
{
	return (pc_policy.db_timeout_seconds < 3 ? 2 : 3);
}

void
pc_db_register(void)
{
	size_t		i;
	int		len;
	char		conninfo[1024], hosts[512], ports[128];
	const char	*dir;

	dir = pc_db_inside_root(pc_policy.db_socket_dir, "db_socket_dir");
	pgsql_query_timeout = pc_policy.db_timeout_seconds * 1000;
	if (pc_policy_db_hosts(&pc_policy, dir, hosts, sizeof(hosts)) == -1)
		fatalx("db_socket_dir %s: too long for db_ports", dir);
	/* Several servers: the one that takes writes (a promoted standby
	 * after a failover), tried in the policy's order. */
	ports[0] = '\0';
	if (pc_policy.db_ports[0] != '\0')
		(void)snprintf(ports, sizeof(ports), "port=%s "
		    "target_session_attrs=read-write ", pc_policy.db_ports);

	for (i = 0; i < sizeof(pc_db_roles) / sizeof(pc_db_roles[0]); i++) {
		len = snprintf(conninfo, sizeof(conninfo),
		    "host=%s %sdbname=%s user=%s sslmode=disable "
		    "gssencmode=disable connect_timeout=%u "
		    "application_name=payconsole-%s",
		    hosts, ports, pc_policy.db_name, pc_db_roles[i].role,
		    pc_db_connect_timeout(), pc_db_roles[i].name);
		if (len < 0 || (size_t)len >= sizeof(conninfo))
			fatalx("conninfo too long");
		if (!kore_pgsql_register(pc_db_roles[i].name, conninfo))
			fatalx("cannot register database %s",
			    pc_db_roles[i].name);
	}
}

void
pc_dbq_init(struct pc_dbq *q, const char *db, const char *query)
{
	memset(q, 0, sizeof(*q));
	q->db = db;
	q->query = query;
}

/* One text parameter, kept by pointer until the query is sent; NULL is
 * SQL NULL. */
void
pc_dbq_param(struct pc_dbq *q, const char *value, size_t len)
{
	if (q->nparams >= PC_DBQ_MAX_PARAMS || len > INT_MAX)
		fatal("pc_dbq_param: too many or too long");

	q->values[q->nparams] = value;
	q->lengths[q->nparams] = (int)len;
	q->formats[q->nparams] = KORE_PGSQL_FORMAT_TEXT;
	q->nparams++;
}

enum pc_db_status
pc_dbq_step(struct http_request *req, struct pc_dbq *q)
{
	if (!q->inited) {
		kore_pgsql_init(&q->sql);
		kore_pgsql_bind_request(&q->sql, req);
		q->inited = 1;
	}

	if (!q->started) {
		/* Timed out while queued for a connection. */
		if (q->sql.state == KORE_PGSQL_STATE_ERROR) {
			pc_dbq_failed(q);
			return (PC_DB_ERROR);
		}
		if (!kore_pgsql_setup(&q->sql, q->db, KORE_PGSQL_ASYNC)) {
			/* Queued behind busy connections: Kore wakes us. */
			if (q->sql.state == KORE_PGSQL_STATE_INIT)
				return (PC_DB_RETRY);
			kore_log(LOG_ERR, "db %s: setup: %s", q->db,
			    q->sql.error ? q->sql.error : "unknown");
			pc_control_db(0);
			return (PC_DB_ERROR);
		}
		if (!kore_pgsql_query_param_fields(&q->sql, q->query,
		    KORE_PGSQL_FORMAT_TEXT, q->nparams, q->values,
		    q->lengths, q->formats)) {
			kore_log(LOG_ERR, "db %s: query: %s", q->db,
			    q->sql.error ? q->sql.error : "unknown");
			return (PC_DB_ERROR);
		}
		q->started = 1;
		return (PC_DB_RETRY);
	}

	for (;;) {
		switch (q->sql.state) {
		case KORE_PGSQL_STATE_INIT:
		case KORE_PGSQL_STATE_WAIT:
			return (PC_DB_RETRY);
		case KORE_PGSQL_STATE_RESULT:
			/* Keep the result, let Kore read on to the end. */
			pc_control_db(1);
			if (q->result != NULL)
				PQclear(q->result);
			q->result = q->sql.result;
			q->sql.result = NULL;
			kore_pgsql_continue(&q->sql);
			break;
		case KORE_PGSQL_STATE_DONE:
			kore_pgsql_continue(&q->sql);
			break;
		case KORE_PGSQL_STATE_COMPLETE:
			return (q->result != NULL ? PC_DB_DONE : PC_DB_ERROR);
		case KORE_PGSQL_STATE_ERROR:
		default:
			pc_dbq_failed(q);
			return (PC_DB_ERROR);
		}
	}
}

/*
 * Keep what failed: the SQLSTATE (how the answer is chosen) and the
 * message (for the log only). Our own refusals (class PC) are decisions,
 * logged as such; anything else is an error of the service.
 */
static void
pc_dbq_failed(struct pc_dbq *q)
{
	const char	*st;

	q->sqlstate[0] = '\0';
	if (q->sql.result != NULL &&
	    (st = PQresultErrorField(q->sql.result, PG_DIAG_SQLSTATE)) != NULL)
		(void)kore_strlcpy(q->sqlstate, st, sizeof(q->sqlstate));
	(void)kore_strlcpy(q->error, q->sql.error ? q->sql.error : "",
	    sizeof(q->error));
	kore_log(strncmp(q->sqlstate, "PC", 2) == 0 ? LOG_NOTICE : LOG_ERR,
	    "db %s: [%s] %s", q->db, q->sqlstate, q->error);
	/* An answer with a SQLSTATE came from the database: it is there. */
	pc_control_db(q->sqlstate[0] != '\0');
}

void
pc_dbq_cleanup(struct pc_dbq *q)
{
	if (q->inited)
		kore_pgsql_cleanup(&q->sql);
	if (q->result != NULL)
		PQclear(q->result);
	q->result = NULL;
	q->inited = 0;
}


/* The answer for a refusal: the SQLSTATE's entry in dberr.c. */
void
pc_dbq_refused(struct http_request *req, const struct pc_dbq *q)
{
	const struct pc_dberr	*e;

	e = pc_dberr_lookup(q->sqlstate[0] != '\0' ? q->sqlstate : NULL);
	pc_http_error(req, e->status, e->code, e->message);
}

/*
 * pc_dbq_step(), answering a refusal or a failure itself: the
 * SQLSTATE's status and code (dberr.c), 503 for anything else.
 */
enum pc_db_status
pc_dbq_wait(struct http_request *req, struct pc_dbq *q)
{
	enum pc_db_status	st;

	if ((st = pc_dbq_step(req, q)) == PC_DB_ERROR)
		pc_dbq_refused(req, q);
	return (st);
}

/*
 * The wait every handler step writes: 1 once the query is done (its
 * result in q->result); else 0 with *rv what the handler returns now,
 * KORE_RESULT_RETRY to be called again or KORE_RESULT_OK once a refusal
 * or failure has been answered (pc_dbq_wait()).
 */
int
pc_dbq_ready(struct http_request *req, struct pc_dbq *q, int *rv)
{
	switch (pc_dbq_wait(req, q)) {
	case PC_DB_DONE:
		return (1);
	case PC_DB_RETRY:
		*rv = KORE_RESULT_RETRY;
		return (0);
	case PC_DB_ERROR:
		break;
	}
	*rv = KORE_RESULT_OK;
	return (0);
}

/*
 * pc_dbq_ready() for one step of an http_state_run() table:
 * HTTP_STATE_CONTINUE once the result is in q->result, HTTP_STATE_RETRY
 * to be called again, HTTP_STATE_COMPLETE once a refusal or failure has
 * been answered.
 */
int
pc_dbq_state(struct http_request *req, struct pc_dbq *q)
{
	int	rv;

	if (pc_dbq_ready(req, q, &rv))
		return (HTTP_STATE_CONTINUE);
	return (rv == KORE_RESULT_RETRY ? HTTP_STATE_RETRY :
	    HTTP_STATE_COMPLETE);
}

/*
 * One asynchronous query outside any request (worker 1's rounds): each
 * result to rows(result, arg) if not NULL, done(ok, arg) when it ends
 * (ok: a result came and no error). 1 when sent, 0 when not (done is
 * not called then). At most PC_DBQ_MAX_PARAMS text parameters.
 */
int
pc_db_bg(const char *db, const char *query, int n, const char **v,
    void (*rows)(PGresult *, void *), void (*done)(int, void *), void *arg)
{
	struct pc_db_bg		*q;
	int			len[PC_DBQ_MAX_PARAMS];
	int			fmt[PC_DBQ_MAX_PARAMS], i;

	if (n > PC_DBQ_MAX_PARAMS)
		fatal("pc_db_bg: %d parameters", n);
	for (i = 0; i < n; i++) {
		len[i] = (int)strlen(v[i]);
		fmt[i] = KORE_PGSQL_FORMAT_TEXT;
	}
	q = kore_calloc(1, sizeof(*q));
	q->rows = rows;
	q->done = done;
	q->arg = arg;
	kore_pgsql_init(&q->sql);
	kore_pgsql_bind_callback(&q->sql, pc_db_bg_done, q);
	if (!kore_pgsql_setup(&q->sql, db, KORE_PGSQL_ASYNC) ||
	    !kore_pgsql_query_param_fields(&q->sql, query,
	    KORE_PGSQL_FORMAT_TEXT, n, v, len, fmt)) {
		pc_control_db(0);
		/* Releasing the connection would call back: detach first. */
		q->sql.cb = NULL;
		kore_pgsql_cleanup(&q->sql);
		kore_free(q);
		return (0);
	}
	return (1);
}

static void
pc_db_bg_done(struct kore_pgsql *sql, void *arg)
{
	struct pc_db_bg	*q = arg;

	switch (sql->state) {
	case KORE_PGSQL_STATE_RESULT:
		pc_control_db(1);
		q->ok = 1;
		if (q->rows != NULL)
			q->rows(sql->result, q->arg);
		kore_pgsql_continue(sql);
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		q->done(q->ok, q->arg);
		kore_pgsql_cleanup(sql);
		kore_free(q);
		break;
	case KORE_PGSQL_STATE_ERROR:
		kore_log(LOG_WARNING, "background query: %s",
		    sql->error ? sql->error : "?");
		q->ok = 0;
		kore_pgsql_continue(sql);
		break;
	default:
		kore_pgsql_continue(sql);
		break;
	}
}
