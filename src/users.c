/*
 * users.c: user administration under /api/users (admins; auditors may
 * list).
 *
 * What gives access is a request a second person approves
 * (approvals.c, migrations/016_approvals_and_enrolment.sql): creating an
 * account, enabling it, changing its role, re-issuing its credentials
 * (password reset, new device). These answer 202 with the request; the
 * ones that enrol also carry the requester's half of the enrolment code,
 * shown once. No password and no TOTP secret ever reaches an admin.
 *
 * What takes access away needs no second person: disabling, unlocking
 * (the lockout protects, it gives nothing), revoking sessions and
 * withdrawing an open enrolment.
 *
 * Each action is one database function that resolves the admin from the
 * session, checks again that they act on someone else, and audits the
 * change in the same transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cardguard.h"
#include "db.h"
#include "enrolcode.h"
#include "http_util.h"
#include "jsonw.h"
#include "request.h"
#include "routes.h"
#include "wipe.h"

enum pc_uact_kind {
	PC_UACT_CREATE = 1,
	PC_UACT_ENABLE,
	PC_UACT_ROLE,
	PC_UACT_PASSWORD,
	PC_UACT_DEVICE,
	PC_UACT_DISABLE,
	PC_UACT_UNLOCK,
	PC_UACT_REVOKE,
	PC_UACT_ENROLMENT_REVOKE,
};

/* The requests, by the name approvals.request_user() knows them. */
static const char *const pc_uact_request_kind[] = {
	[PC_UACT_CREATE] = "user.create",
	[PC_UACT_ENABLE] = "user.enable",
	[PC_UACT_ROLE] = "user.role",
	[PC_UACT_PASSWORD] = "user.password_reset",
	[PC_UACT_DEVICE] = "user.device_reset",
};

/* The actions one admin takes alone: function and its answer's key. */
static const struct {
	const char	*sql;
	const char	*count;		/* NULL: {"status":"ok"} */
} pc_uact_alone[] = {
	[PC_UACT_DISABLE] = { "SELECT auth.admin_disable($1::bytea, "
	    "$2::inet, $3::bigint)::text", NULL },
	[PC_UACT_UNLOCK] = { "SELECT auth.admin_unlock($1::bytea, "
	    "$2::inet, $3::bigint)::text", NULL },
	[PC_UACT_REVOKE] = { "SELECT auth.admin_revoke_sessions($1::bytea, "
	    "$2::inet, $3::bigint)", "revoked" },
	[PC_UACT_ENROLMENT_REVOKE] = { "SELECT auth.enrolment_revoke("
	    "$1::bytea, $2::inet, $3::bigint)", "revoked" },
};

struct pc_uact {
	int			queried;
	enum pc_uact_kind	kind;
	struct pc_dbq		q;
	char			target[24];
	char			username[128];
	char			display[256];
	char			role[16];
	uint8_t			code[PC_ENROLCODE_LEN];
	char			code_param[PC_BYTEA_TEXT(PC_ENROLCODE_LEN)];
	char			ttl[16], enrol_ttl[16];
};

static void	pc_uact_free(void *);
static int	pc_uact(struct http_request *, enum pc_uact_kind);
static int	pc_uact_body(struct http_request *, struct pc_uact *);
static void	pc_uact_request_query(struct pc_uact *, struct pc_req *);
static void	pc_uact_alone_query(struct pc_uact *, struct pc_req *);
static int	pc_uact_answer(struct http_request *, struct pc_uact *);
static void	pc_users_int(struct pc_jsonw *, const char *, PGresult *, int,
		    int);
static void	pc_users_row(struct pc_jsonw *, PGresult *, int);

static void
pc_uact_free(void *arg)
{
	struct pc_uact	*u = arg;

	pc_dbq_cleanup(&u->q);
	pc_wipe(u->code, sizeof(u->code));
	pc_wipe(u->code_param, sizeof(u->code_param));
}

/* A user row of auth.directory as the API shows it. */
#define PC_USERS_COLUMNS						\
	"id, username, display_name, role, disabled, "			\
	"CASE WHEN locked_until > now() THEN "				\
	"extract(epoch FROM locked_until)::bigint END, "		\
	"extract(epoch FROM last_login_at)::bigint, "			\
	"host(last_login_source), totp_state, "				\
	"extract(epoch FROM password_changed_at)::bigint, "		\
	"must_change_password"

/* A bigint column as a JSON number, or null. */
static void
pc_users_int(struct pc_jsonw *w, const char *key, PGresult *res, int row,
    int col)
{
	if (PQgetisnull(res, row, col))
		pc_jsonw_null(w, key);
	else
		pc_jsonw_int(w, key, strtoll(PQgetvalue(res, row, col), NULL,
		    10));
}

static void
pc_users_row(struct pc_jsonw *w, PGresult *res, int row)
{
	pc_jsonw_object_open(w, NULL);
	pc_jsonw_int(w, "id", strtoll(PQgetvalue(res, row, 0), NULL, 10));
	pc_jsonw_string(w, "username", PQgetvalue(res, row, 1));
	pc_jsonw_string(w, "display_name", PQgetvalue(res, row, 2));
	pc_jsonw_string(w, "role", PQgetvalue(res, row, 3));
	pc_jsonw_bool(w, "disabled", PQgetvalue(res, row, 4)[0] == 't');
	pc_users_int(w, "locked_until", res, row, 5);
	pc_users_int(w, "last_login_at", res, row, 6);
	if (PQgetisnull(res, row, 7))
		pc_jsonw_null(w, "last_login_source");
	else
		pc_jsonw_string(w, "last_login_source",
		    PQgetvalue(res, row, 7));
	/* An account that has not finished first sign-in has no factors. */
	pc_jsonw_string(w, "otp", PQgetisnull(res, row, 8) ? "none" :
	    PQgetvalue(res, row, 8));
	pc_users_int(w, "password_changed_at", res, row, 9);
	pc_jsonw_bool(w, "must_change_password",
	    PQgetvalue(res, row, 10)[0] == 't');
	pc_jsonw_bool(w, "enrolling", PQgetvalue(res, row, 11)[0] == 't');
	pc_users_int(w, "enrolment_expires_at", res, row, 12);
	pc_jsonw_object_close(w);
}

struct pc_ulist {
	struct pc_dbq	q;
};

static void	pc_ulist_free(void *);

static void
pc_ulist_free(void *arg)
{
	pc_dbq_cleanup(&((struct pc_ulist *)arg)->q);
}

/* GET /api/users: auditors read through their read-only role. */
int
pc_h_users_list(struct http_request *req)
{
	struct pc_req		*r;
	struct pc_ulist		*ul;
	struct pc_jsonw		w;
	PGresult		*res;
	int			i, rv;

	r = pc_req_get(req);
	ul = pc_req_handler_state(req, sizeof(*ul), pc_ulist_free);
	if (ul->q.db == NULL) {
		pc_dbq_init(&ul->q, pc_req_db(r),
		    "SELECT " PC_USERS_COLUMNS ", enrolling, "
		    "extract(epoch FROM enrolment_expires_at)::bigint "
		    "FROM auth.directory ORDER BY id");
	}
	if (!pc_dbq_ready(req, &ul->q, &rv))
		return (rv);

	res = ul->q.result;
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_array_open(&w, "users");
	for (i = 0; i < PQntuples(res); i++)
		pc_users_row(&w, res, i);
	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);
	return (pc_http_jsonw(req, 200, &w));
}

/*
 * Body fields per action; 0 after answering 400 when they are missing
 * or malformed. Admins choose no passwords: a body that offers one is
 * refused, so no client believes it set one.
 */
static int
pc_uact_body(struct http_request *req, struct pc_uact *u)
{
	struct pc_jsonin	json;
	uint8_t			body[2048];
	const char		*why, *it;

	if (u->kind != PC_UACT_CREATE && u->kind != PC_UACT_ROLE)
		return (1);

	why = "Send the fields as a JSON object.";
	if (!pc_req_json(req, &json, body, sizeof(body)))
		goto bad;
	if (pc_jsonin_has(&json, "password")) {
		why = "Admins do not choose passwords: the user does at "
		    "first sign-in.";
		goto bad;
	}
	if ((it = pc_jsonin_string(&json, "role", NULL)) == NULL ||
	    pc_perm_role(it) == 0)
		goto bad;
	(void)kore_strlcpy(u->role, it, sizeof(u->role));
	if (u->kind == PC_UACT_CREATE) {
		if ((it = pc_jsonin_string(&json, "username", NULL)) == NULL ||
		    it[0] == '\0' ||
		    kore_strlcpy(u->username, it, sizeof(u->username)) >= 65)
			goto bad;
		if ((it = pc_jsonin_string(&json, "display_name",
		    NULL)) == NULL || it[0] == '\0' ||
		    kore_strlcpy(u->display, it, sizeof(u->display)) >= 129)
			goto bad;
	}
	pc_req_json_done(req, &json, body, sizeof(body));

	/* Card numbers never enter names (and so never the audit trail). */
	return (pc_req_no_card(req, u->username, strlen(u->username)) &&
	    pc_req_no_card(req, u->display, strlen(u->display)));

bad:
	pc_req_json_done(req, &json, body, sizeof(body));
	pc_http_error(req, 400, "invalid_request", why);
	return (0);
}

/* A request for a second person; the requester's half if it enrols. */
static void
pc_uact_request_query(struct pc_uact *u, struct pc_req *r)
{
	if (pc_enrolcode_new(u->code) == -1 ||
	    pc_bytea_encode(u->code, sizeof(u->code), u->code_param,
	    sizeof(u->code_param)) == -1)
		fatal("cannot make an enrolment code");
	(void)snprintf(u->ttl, sizeof(u->ttl), "%u",
	    pc_policy.approval_ttl_seconds);
	(void)snprintf(u->enrol_ttl, sizeof(u->enrol_ttl), "%u",
	    pc_policy.enrolment_ttl_seconds);

	pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT approval::text, issues_code "
	    "FROM approvals.request_user($1::bytea, $2::inet, $3, "
	    "$4::bigint, $5, $6, $7, $8::bytea, $9::int, $10::int)");
	pc_dbq_param(&u->q, r->tok, strlen(r->tok));
	pc_dbq_param(&u->q, r->source, strlen(r->source));
	pc_dbq_param(&u->q, pc_uact_request_kind[u->kind],
	    strlen(pc_uact_request_kind[u->kind]));
	pc_dbq_param(&u->q, u->kind == PC_UACT_CREATE ? NULL : u->target,
	    strlen(u->target));
	pc_dbq_param(&u->q, u->kind == PC_UACT_CREATE ? u->username : NULL,
	    strlen(u->username));
	pc_dbq_param(&u->q, u->kind == PC_UACT_CREATE ? u->display : NULL,
	    strlen(u->display));
	pc_dbq_param(&u->q, u->role[0] != '\0' ? u->role : NULL,
	    strlen(u->role));
	pc_dbq_param(&u->q, u->code_param, strlen(u->code_param));
	pc_dbq_param(&u->q, u->ttl, strlen(u->ttl));
	pc_dbq_param(&u->q, u->enrol_ttl, strlen(u->enrol_ttl));
}

static void
pc_uact_alone_query(struct pc_uact *u, struct pc_req *r)
{
	pc_dbq_init(&u->q, PC_DB_AUTH, pc_uact_alone[u->kind].sql);
	pc_dbq_param(&u->q, r->tok, strlen(r->tok));
	pc_dbq_param(&u->q, r->source, strlen(r->source));
	pc_dbq_param(&u->q, u->target, strlen(u->target));
}

/*
 * 202 with the request, and the requester's half when it enrols (its
 * only copy: the database keeps the hash); or 200 for what one admin
 * does alone.
 */
static int
pc_uact_answer(struct http_request *req, struct pc_uact *u)
{
	struct pc_jsonw		w;
	PGresult		*res;
	char			code[PC_ENROLCODE_TEXT];
	int			status;

	res = u->q.result;
	if (PQntuples(res) != 1) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (KORE_RESULT_OK);
	}
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	if (u->kind <= PC_UACT_DEVICE) {
		status = 202;
		pc_jsonw_raw(&w, "approval", PQgetvalue(res, 0, 0));
		if (PQgetvalue(res, 0, 1)[0] == 't') {
			pc_enrolcode_format(u->code, code);
			pc_jsonw_string(&w, "enrolment_code", code);
			pc_jsonw_int(&w, "enrolment_code_part", 1);
			pc_wipe(code, sizeof(code));
		}
	} else {
		status = 200;
		if (pc_uact_alone[u->kind].count != NULL)
			pc_jsonw_int(&w, pc_uact_alone[u->kind].count,
			    strtoll(PQgetvalue(res, 0, 0), NULL, 10));
		else
			pc_jsonw_string(&w, "status", "ok");
	}
	pc_jsonw_object_close(&w);
	return (pc_http_jsonw(req, status, &w));
}

static int
pc_uact(struct http_request *req, enum pc_uact_kind kind)
{
	struct pc_req		*r;
	struct pc_uact		*u;
	int			rv;

	r = pc_req_get(req);
	u = pc_req_handler_state(req, sizeof(*u), pc_uact_free);

	if (!u->queried) {
		u->kind = kind;
		(void)snprintf(u->target, sizeof(u->target), "%" PRId64,
		    r->path_id);
		if (kind != PC_UACT_CREATE && r->path_id == r->s.user_id) {
			pc_http_error(req, 403, "self_forbidden",
			    "Admins do not administer their own account.");
			return (KORE_RESULT_OK);
		}
		if (!pc_uact_body(req, u))
			return (KORE_RESULT_OK);
		if (kind <= PC_UACT_DEVICE)
			pc_uact_request_query(u, r);
		else
			pc_uact_alone_query(u, r);
		u->queried = 1;
	}

	if (!pc_dbq_ready(req, &u->q, &rv))
		return (rv);
	return (pc_uact_answer(req, u));
}

int
pc_h_users_create(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_CREATE));
}

int
pc_h_user_disable(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_DISABLE));
}

int
pc_h_user_enable(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_ENABLE));
}

int
pc_h_user_role(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_ROLE));
}

int
pc_h_user_password(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_PASSWORD));
}

int
pc_h_user_unlock(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_UNLOCK));
}

int
pc_h_user_revoke(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_REVOKE));
}

int
pc_h_user_otp(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_DEVICE));
}

int
pc_h_user_enrolment_revoke(struct http_request *req)
{
	return (pc_uact(req, PC_UACT_ENROLMENT_REVOKE));
}
