/*
 * devices.c: the device cookies of an account's browsers (issue 15,
 * migrations/024_device_cookies.sql and 025_devices_self_service.sql).
 *   GET  /api/devices                   the caller's live devices; the
 *                                       one whose cookie came with the
 *                                       request is "current"
 *   POST /api/devices/:id/revoke        revoke one of them (another
 *                                       account's id: 404)
 *   POST /api/users/:id/devices/revoke  admins: every live device of
 *                                       another account (audited and
 *                                       alerted)
 *
 * Each is one database function that resolves the caller from the
 * session's token and checks the rest. A revoked device's next login
 * attempt is untrusted on every instance: trust is decided there.
 *
 * The device secret is read from the cookie only to mark the current
 * device, after its MAC is checked for the session's user; it goes to
 * the database as a parameter and is wiped with the request. Neither it
 * nor its hash is ever logged or answered.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "db.h"
#include "devcookie.h"
#include "http_util.h"
#include "jsonw.h"
#include "request.h"
#include "routes.h"
#include "wipe.h"

enum pc_dev_col {
	PC_DEV_INT = 1,
	PC_DEV_TEXT,
	PC_DEV_BOOL,
};

/* The list's columns in the order of pc_dev_list_sql; NULL is null. */
static const struct {
	const char		*key;
	enum pc_dev_col		 kind;
} pc_dev_cols[] = {
	{ "id", PC_DEV_INT },
	{ "created_at", PC_DEV_INT },
	{ "created_source", PC_DEV_TEXT },
	{ "last_used_at", PC_DEV_INT },
	{ "last_source", PC_DEV_TEXT },
	{ "expires_at", PC_DEV_INT },
	{ "locked_until", PC_DEV_INT },
	{ "current", PC_DEV_BOOL },
};

static const char pc_dev_list_sql[] =
    "SELECT id, extract(epoch FROM created_at)::bigint, "
    "host(created_source), extract(epoch FROM last_used_at)::bigint, "
    "host(last_source), extract(epoch FROM expires_at)::bigint, "
    "extract(epoch FROM locked_until)::bigint, current "
    "FROM auth.devices_own($1::bytea, $2::bytea)";

struct pc_dev {
	struct pc_dbq	q;
	char		id[24];
	uint8_t		secret[PC_DEVCOOKIE_SECRET_LEN];
	char		secret_param[PC_BYTEA_TEXT(PC_DEVCOOKIE_SECRET_LEN)];
};

static void		 pc_dev_free(void *);
static struct pc_dev	*pc_dev_state(struct http_request *);
static const char	*pc_dev_secret(struct http_request *, struct pc_dev *);
static void		 pc_dev_value(struct pc_jsonw *, size_t, const char *);
static void		 pc_dev_list(struct pc_jsonw *, PGresult *);
static int		 pc_dev_post(struct http_request *, const char *,
			    const char *);

static void
pc_dev_free(void *arg)
{
	struct pc_dev	*d = arg;

	pc_dbq_cleanup(&d->q);
	pc_wipe(d->secret, sizeof(d->secret));
	pc_wipe(d->secret_param, sizeof(d->secret_param));
}

static struct pc_dev *
pc_dev_state(struct http_request *req)
{
	return (pc_req_handler_state(req, sizeof(struct pc_dev), pc_dev_free));
}

/*
 * The secret of this request's device cookie as a bytea parameter, if
 * its MAC is right for the session's user; NULL otherwise (no cookie,
 * another account's, forged, expired: then no row is current).
 */
static const char *
pc_dev_secret(struct http_request *req, struct pc_dev *d)
{
	const char	*cookie;

	if (!http_request_header(req, "cookie", &cookie) ||
	    pc_devcookie_verify(&pc_kek, cookie, pc_req_get(req)->s.username,
	    (int64_t)time(NULL), d->secret) == -1)
		return (NULL);
	if (pc_bytea_encode(d->secret, sizeof(d->secret), d->secret_param,
	    sizeof(d->secret_param)) == -1)
		fatal("cannot encode a device secret");
	pc_wipe(d->secret, sizeof(d->secret));
	return (d->secret_param);
}

/* One column's value (not NULL) as its kind says. */
static void
pc_dev_value(struct pc_jsonw *w, size_t c, const char *v)
{
	switch (pc_dev_cols[c].kind) {
	case PC_DEV_INT:
		pc_jsonw_int(w, pc_dev_cols[c].key, strtoll(v, NULL, 10));
		break;
	case PC_DEV_TEXT:
		pc_jsonw_string(w, pc_dev_cols[c].key, v);
		break;
	case PC_DEV_BOOL:
		pc_jsonw_bool(w, pc_dev_cols[c].key, v[0] == 't');
		break;
	}
}

/* {"devices":[...]}: one object a row, one member a column. */
static void
pc_dev_list(struct pc_jsonw *w, PGresult *res)
{
	size_t		c;
	int		i;

	pc_jsonw_object_open(w, NULL);
	pc_jsonw_array_open(w, "devices");
	for (i = 0; i < PQntuples(res); i++) {
		pc_jsonw_object_open(w, NULL);
		for (c = 0; c < sizeof(pc_dev_cols) / sizeof(pc_dev_cols[0]);
		    c++) {
			if (PQgetisnull(res, i, (int)c))
				pc_jsonw_null(w, pc_dev_cols[c].key);
			else
				pc_dev_value(w, c, PQgetvalue(res, i, (int)c));
		}
		pc_jsonw_object_close(w);
	}
	pc_jsonw_array_close(w);
	pc_jsonw_object_close(w);
}

/* GET /api/devices: any signed-in role, through pc_auth. */
int
pc_h_devices(struct http_request *req)
{
	struct pc_req		*r;
	struct pc_dev		*d;
	struct pc_jsonw		 w;
	const char		*secret;
	int			 rv;

	r = pc_req_get(req);
	d = pc_dev_state(req);
	if (d->q.db == NULL) {
		secret = pc_dev_secret(req, d);
		pc_dbq_init(&d->q, PC_DB_AUTH, pc_dev_list_sql);
		pc_dbq_param(&d->q, r->tok, strlen(r->tok));
		pc_dbq_param(&d->q, secret, secret == NULL ? 0 :
		    strlen(secret));
	}
	if (!pc_dbq_ready(req, &d->q, &rv))
		return (rv);

	pc_jsonw_init(&w);
	pc_dev_list(&w, d->q.result);
	return (pc_http_jsonw(req, 200, &w));
}

/*
 * A revocation: sql takes the token, the source and the path's id.
 * count: the answer's key for the number revoked, or NULL for
 * {"status":"revoked"}. Refusals (not_found, self_forbidden) come from
 * the database's SQLSTATE (dberr.c).
 */
static int
pc_dev_post(struct http_request *req, const char *sql, const char *count)
{
	struct pc_req		*r;
	struct pc_dev		*d;
	struct pc_jsonw		 w;
	PGresult		*res;
	int			 rv;

	r = pc_req_get(req);
	d = pc_dev_state(req);
	if (d->q.db == NULL) {
		(void)snprintf(d->id, sizeof(d->id), "%" PRId64, r->path_id);
		pc_dbq_init(&d->q, PC_DB_AUTH, sql);
		pc_dbq_param(&d->q, r->tok, strlen(r->tok));
		pc_dbq_param(&d->q, r->source, strlen(r->source));
		pc_dbq_param(&d->q, d->id, strlen(d->id));
	}
	if (!pc_dbq_ready(req, &d->q, &rv))
		return (rv);

	res = d->q.result;
	if (PQntuples(res) != 1) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (KORE_RESULT_OK);
	}
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	if (count != NULL)
		pc_jsonw_int(&w, count, strtoll(PQgetvalue(res, 0, 0), NULL,
		    10));
	else
		pc_jsonw_string(&w, "status", "revoked");
	pc_jsonw_object_close(&w);
	return (pc_http_jsonw(req, 200, &w));
}

/* POST /api/devices/:id/revoke: one of the caller's own devices. */
int
pc_h_device_revoke(struct http_request *req)
{
	return (pc_dev_post(req, "SELECT auth.device_revoke($1::bytea, "
	    "$2::inet, $3::bigint)", NULL));
}

/* POST /api/users/:id/devices/revoke: admins, another account's. */
int
pc_h_user_devices_revoke(struct http_request *req)
{
	return (pc_dev_post(req, "SELECT auth.admin_revoke_devices("
	    "$1::bytea, $2::inet, $3::bigint)", "revoked"));
}
