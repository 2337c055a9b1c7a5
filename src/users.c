/*
 * users.c: user administration under /api/users (admins; auditors may
 * list). Each action is one database function (migrations/006_users.sql)
 * that checks again that the actor is an admin acting on someone else,
 * and audits the change in the same transaction. Admins never
 * administer their own account here (separation of duties).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "app.h"
#include "cardguard.h"
#include "jsonw.h"
#include "qr.h"
#include "routes.h"
#include "totp.h"

/* Room for the enrolment QR code as SVG. */
#define PC_USERS_SVG_MAX	(256 * 1024)

enum pc_uact_kind {
	PC_UACT_CREATE = 1,
	PC_UACT_DISABLE,
	PC_UACT_ENABLE,
	PC_UACT_ROLE,
	PC_UACT_PASSWORD,
	PC_UACT_UNLOCK,
	PC_UACT_REVOKE,
	PC_UACT_OTP,
};

struct pc_uact {
	int			step;
	enum pc_uact_kind	kind;
	struct pc_dbq		q;
	struct pc_hashjob	hj;
	char			target[24];
	char			username[128];
	char			display[256];
	char			role[16];
	char			password[PC_HASH_PASS_MAX + 1];
	size_t			password_len;
	uint8_t			secret[PC_TOTP_SECRET_LEN];
	uint8_t			sealed[PC_TOTP_SECRET_LEN +
				    PC_SECRETBOX_OVERHEAD];
	char			sealed_hex[2 * (PC_TOTP_SECRET_LEN +
				    PC_SECRETBOX_OVERHEAD) + 3];
	char			key_id[16];
};

static void	pc_uact_free(void *);
static int	pc_uact(struct http_request *, enum pc_uact_kind);
static int	pc_uact_body(struct http_request *, struct pc_uact *);
static void	pc_uact_query(struct pc_uact *, struct pc_req *);
static int	pc_uact_done(struct http_request *, struct pc_uact *);
static int	pc_uact_db_error(struct http_request *, struct pc_uact *);
static int	pc_uact_otp_answer(struct http_request *, struct pc_uact *);
static void	pc_users_row(struct pc_jsonw *, PGresult *, int);
static void	pc_uact_seal(struct pc_uact *);

/* The new secret, sealed under the key-encryption key for its row. */
static void
pc_uact_seal(struct pc_uact *u)
{
	char	ad[48];

	(void)snprintf(ad, sizeof(ad), "totp:%s", u->target);
	if (pc_secretbox_seal(&pc_kek, (const uint8_t *)ad, strlen(ad),
	    u->secret, sizeof(u->secret), u->sealed, sizeof(u->sealed)) == -1)
		fatal("cannot seal a TOTP secret");
}

static void
pc_uact_free(void *arg)
{
	struct pc_uact	*u = arg;

	pc_dbq_cleanup(&u->q);
	pc_hashjob_release(&u->hj);
	pc_wipe(&u->hj.out, sizeof(u->hj.out));
	pc_wipe(u->password, sizeof(u->password));
	pc_wipe(u->secret, sizeof(u->secret));
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

static void
pc_users_row(struct pc_jsonw *w, PGresult *res, int row)
{
	pc_jsonw_object_open(w, NULL);
	pc_jsonw_int(w, "id", strtoll(PQgetvalue(res, row, 0), NULL, 10));
	pc_jsonw_string(w, "username", PQgetvalue(res, row, 1));
	pc_jsonw_string(w, "display_name", PQgetvalue(res, row, 2));
	pc_jsonw_string(w, "role", PQgetvalue(res, row, 3));
	pc_jsonw_bool(w, "disabled", PQgetvalue(res, row, 4)[0] == 't');
	if (PQgetisnull(res, row, 5))
		pc_jsonw_null(w, "locked_until");
	else
		pc_jsonw_int(w, "locked_until",
		    strtoll(PQgetvalue(res, row, 5), NULL, 10));
	if (PQgetisnull(res, row, 6))
		pc_jsonw_null(w, "last_login_at");
	else
		pc_jsonw_int(w, "last_login_at",
		    strtoll(PQgetvalue(res, row, 6), NULL, 10));
	if (PQgetisnull(res, row, 7))
		pc_jsonw_null(w, "last_login_source");
	else
		pc_jsonw_string(w, "last_login_source",
		    PQgetvalue(res, row, 7));
	pc_jsonw_string(w, "otp", PQgetisnull(res, row, 8) ? "none" :
	    PQgetvalue(res, row, 8));
	pc_jsonw_int(w, "password_changed_at",
	    strtoll(PQgetvalue(res, row, 9), NULL, 10));
	pc_jsonw_bool(w, "must_change_password",
	    PQgetvalue(res, row, 10)[0] == 't');
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
	char			*out;
	size_t			len;
	int			i;

	r = pc_req_get(req);
	ul = pc_req_handler_state(req, sizeof(*ul), pc_ulist_free);
	if (ul->q.db == NULL) {
		pc_dbq_init(&ul->q, strcmp(r->s.role, "auditor") == 0 ?
		    PC_DB_AUDITOR : PC_DB_AUTH,
		    "SELECT " PC_USERS_COLUMNS " FROM auth.directory "
		    "ORDER BY id");
	}
	switch (pc_dbq_wait(req, &ul->q)) {
	case PC_DB_RETRY:
		return (KORE_RESULT_RETRY);
	case PC_DB_ERROR:
		return (KORE_RESULT_OK);
	case PC_DB_DONE:
		break;
	}

	res = ul->q.result;
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_array_open(&w, "users");
	for (i = 0; i < PQntuples(res); i++)
		pc_users_row(&w, res, i);
	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);
	if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_http_json(req, 200, out, len);
	free(out);
	return (KORE_RESULT_OK);
}

/* Body fields per action; 400 when they are missing or malformed. */
static int
pc_uact_body(struct http_request *req, struct pc_uact *u)
{
	struct kore_json	json;
	struct kore_json_item	*it;
	uint8_t			body[2048];
	enum pc_password_verdict v;
	int			ok;

	if (u->kind != PC_UACT_CREATE && u->kind != PC_UACT_ROLE &&
	    u->kind != PC_UACT_PASSWORD)
		return (1);

	ok = 0;
	if (!pc_req_json(req, &json, body, sizeof(body)))
		goto out;

	if (u->kind == PC_UACT_CREATE || u->kind == PC_UACT_ROLE) {
		if ((it = kore_json_find_string(json.root, "role")) == NULL ||
		    pc_perm_role(it->data.string) == 0)
			goto out;
		(void)kore_strlcpy(u->role, it->data.string, sizeof(u->role));
	}
	if (u->kind == PC_UACT_CREATE) {
		if ((it = kore_json_find_string(json.root,
		    "username")) == NULL || it->data.string[0] == '\0' ||
		    kore_strlcpy(u->username, it->data.string,
		    sizeof(u->username)) >= 65)
			goto out;
		if ((it = kore_json_find_string(json.root,
		    "display_name")) == NULL || it->data.string[0] == '\0' ||
		    kore_strlcpy(u->display, it->data.string,
		    sizeof(u->display)) >= 129)
			goto out;
	}
	if (u->kind == PC_UACT_CREATE || u->kind == PC_UACT_PASSWORD) {
		if ((it = kore_json_find_string(json.root,
		    "password")) == NULL ||
		    (u->password_len = strlen(it->data.string)) >
		    PC_HASH_PASS_MAX)
			goto out;
		memcpy(u->password, it->data.string, u->password_len + 1);
	}
	/* Card numbers never enter names (and so never the audit trail). */
	if (pc_cardguard_find(u->username, strlen(u->username)) ||
	    pc_cardguard_find(u->display, strlen(u->display))) {
		pc_req_json_done(req, &json, body, sizeof(body));
		pc_wipe(u->password, sizeof(u->password));
		pc_http_error(req, 400, "card_number_refused",
		    "Card numbers are not accepted here.");
		return (0);
	}
	ok = 1;

out:
	pc_req_json_done(req, &json, body, sizeof(body));
	if (!ok) {
		pc_http_error(req, 400, "invalid_request",
		    "Send the fields as a JSON object.");
		return (0);
	}

	if (u->kind == PC_UACT_CREATE || u->kind == PC_UACT_PASSWORD) {
		v = pc_password_check(u->password, u->password_len,
		    u->kind == PC_UACT_CREATE ? u->username : NULL);
		if (v != PC_PASSWORD_OK) {
			pc_wipe(u->password, sizeof(u->password));
			pc_http_error_reason(req, 400, "password_rejected",
			    "The password does not meet the policy.",
			    pc_password_verdict_code(v));
			return (0);
		}
	}
	return (1);
}

static void
pc_uact_query(struct pc_uact *u, struct pc_req *r)
{
	size_t		k;

	switch (u->kind) {
	case PC_UACT_CREATE:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT id, username, "
		    "password_changed_at FROM auth.admin_create_user("
		    "$1::bigint, $2::inet, $3, $4, $5, $6)");
		break;
	case PC_UACT_DISABLE:
	case PC_UACT_ENABLE:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT "
		    "auth.admin_set_disabled($1::bigint, $2::inet, $3::bigint, "
		    "$4::bool)");
		break;
	case PC_UACT_ROLE:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT auth.admin_set_role("
		    "$1::bigint, $2::inet, $3::bigint, $4)");
		break;
	case PC_UACT_PASSWORD:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT "
		    "auth.admin_reset_password($1::bigint, $2::inet, "
		    "$3::bigint, $4)");
		break;
	case PC_UACT_UNLOCK:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT auth.admin_unlock("
		    "$1::bigint, $2::inet, $3::bigint)");
		break;
	case PC_UACT_REVOKE:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT "
		    "auth.admin_revoke_sessions($1::bigint, $2::inet, "
		    "$3::bigint)");
		break;
	case PC_UACT_OTP:
		pc_dbq_init(&u->q, PC_DB_AUTH, "SELECT "
		    "auth.admin_start_enrolment($1::bigint, $2::inet, "
		    "$3::bigint, $4::bytea, $5::int)");
		break;
	}

	pc_dbq_param(&u->q, r->actor, strlen(r->actor));
	pc_dbq_param(&u->q, r->source, strlen(r->source));
	switch (u->kind) {
	case PC_UACT_CREATE:
		pc_dbq_param(&u->q, u->username, strlen(u->username));
		pc_dbq_param(&u->q, u->display, strlen(u->display));
		pc_dbq_param(&u->q, u->role, strlen(u->role));
		pc_dbq_param(&u->q, u->hj.out.new_hash,
		    strlen(u->hj.out.new_hash));
		break;
	case PC_UACT_DISABLE:
	case PC_UACT_ENABLE:
		pc_dbq_param(&u->q, u->target, strlen(u->target));
		pc_dbq_param(&u->q, u->kind == PC_UACT_DISABLE ? "true" :
		    "false", u->kind == PC_UACT_DISABLE ? 4 : 5);
		break;
	case PC_UACT_ROLE:
		pc_dbq_param(&u->q, u->target, strlen(u->target));
		pc_dbq_param(&u->q, u->role, strlen(u->role));
		break;
	case PC_UACT_PASSWORD:
		pc_dbq_param(&u->q, u->target, strlen(u->target));
		pc_dbq_param(&u->q, u->hj.out.new_hash,
		    strlen(u->hj.out.new_hash));
		break;
	case PC_UACT_OTP:
		(void)snprintf(u->sealed_hex, sizeof(u->sealed_hex), "\\x");
		for (k = 0; k < sizeof(u->sealed); k++)
			(void)snprintf(u->sealed_hex + 2 + 2 * k, 3, "%02x",
			    u->sealed[k]);
		(void)snprintf(u->key_id, sizeof(u->key_id), "%u",
		    pc_kek.id);
		pc_dbq_param(&u->q, u->target, strlen(u->target));
		pc_dbq_param(&u->q, u->sealed_hex, strlen(u->sealed_hex));
		pc_dbq_param(&u->q, u->key_id, strlen(u->key_id));
		break;
	default:
		pc_dbq_param(&u->q, u->target, strlen(u->target));
		break;
	}
}

/* Map the database's refusals to answers; the detail stays in the log. */
static int
pc_uact_db_error(struct http_request *req, struct pc_uact *u)
{
	if (strstr(u->q.error, "self_forbidden") != NULL) {
		pc_http_error(req, 403, "self_forbidden",
		    "Admins do not administer their own account.");
	} else if (strstr(u->q.error, "not_found") != NULL) {
		pc_http_error(req, 404, "not_found", "No such user.");
	} else if (strstr(u->q.error, "duplicate key") != NULL) {
		pc_http_error(req, 409, "conflict",
		    "That username is taken.");
	} else if (strstr(u->q.error, "violates check constraint") != NULL) {
		pc_http_error(req, 400, "invalid_request",
		    "A field is not acceptable.");
	} else if (strstr(u->q.error, "forbidden") != NULL) {
		pc_http_error(req, 403, "forbidden",
		    "Your role does not allow this.");
	} else {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
	}
	return (KORE_RESULT_OK);
}

static int
pc_uact_otp_answer(struct http_request *req, struct pc_uact *u)
{
	struct pc_jsonw		w;
	char			uri[2048], *svg, *out;
	size_t			len;
	int			n;

	if (pc_totp_uri(u->secret, sizeof(u->secret),
	    PQgetvalue(u->q.result, 0, 0), uri, sizeof(uri)) == -1) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	svg = kore_malloc(PC_USERS_SVG_MAX);
	if ((n = pc_qr_svg(uri, svg, PC_USERS_SVG_MAX)) < 0) {
		kore_free(svg);
		pc_wipe(uri, sizeof(uri));
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}

	/* Shown once: the secret exists nowhere else in the clear. */
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "otpauth_uri", uri);
	pc_jsonw_stringn(&w, "qr_svg", svg, (size_t)n);
	pc_jsonw_object_close(&w);
	pc_wipe(svg, PC_USERS_SVG_MAX);
	kore_free(svg);
	pc_wipe(uri, sizeof(uri));

	if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_http_json(req, 200, out, len);
	pc_wipe(out, len);
	free(out);
	return (KORE_RESULT_OK);
}

static int
pc_uact_done(struct http_request *req, struct pc_uact *u)
{
	struct pc_jsonw		w;
	PGresult		*res;
	char			*out, buf[64];
	size_t			len;

	res = u->q.result;
	switch (u->kind) {
	case PC_UACT_CREATE:
		pc_jsonw_init(&w);
		pc_jsonw_object_open(&w, NULL);
		pc_jsonw_object_open(&w, "user");
		pc_jsonw_int(&w, "id", strtoll(PQgetvalue(res, 0, 0), NULL,
		    10));
		pc_jsonw_string(&w, "username", PQgetvalue(res, 0, 1));
		pc_jsonw_string(&w, "display_name", u->display);
		pc_jsonw_string(&w, "role", u->role);
		pc_jsonw_bool(&w, "disabled", 0);
		pc_jsonw_null(&w, "locked_until");
		pc_jsonw_null(&w, "last_login_at");
		pc_jsonw_null(&w, "last_login_source");
		pc_jsonw_string(&w, "otp", "none");
		pc_jsonw_int(&w, "password_changed_at",
		    strtoll(PQgetvalue(res, 0, 2), NULL, 10));
		pc_jsonw_bool(&w, "must_change_password", 1);
		pc_jsonw_object_close(&w);
		pc_jsonw_object_close(&w);
		if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
			pc_http_error(req, 500, "internal", "Internal error.");
			return (KORE_RESULT_OK);
		}
		pc_http_json(req, 201, out, len);
		free(out);
		return (KORE_RESULT_OK);
	case PC_UACT_OTP:
		return (pc_uact_otp_answer(req, u));
	case PC_UACT_REVOKE:
		(void)snprintf(buf, sizeof(buf), "{\"revoked\":%lld}",
		    strtoll(PQgetvalue(res, 0, 0), NULL, 10));
		pc_http_json(req, 200, buf, strlen(buf));
		return (KORE_RESULT_OK);
	default:
		(void)snprintf(buf, sizeof(buf), "{\"status\":\"ok\"}");
		pc_http_json(req, 200, buf, strlen(buf));
		return (KORE_RESULT_OK);
	}
}

static int
pc_uact(struct http_request *req, enum pc_uact_kind kind)
{
	struct pc_req		*r;
	struct pc_uact		*u;

	r = pc_req_get(req);
	u = pc_req_handler_state(req, sizeof(*u), pc_uact_free);

	for (;;) {
		switch (u->step) {
		case 0:
			u->kind = kind;
			(void)snprintf(u->target, sizeof(u->target), "%" PRId64,
			    r->path_id);
			if (kind != PC_UACT_CREATE &&
			    r->path_id == r->s.user_id) {
				pc_http_error(req, 403, "self_forbidden",
				    "Admins do not administer their own "
				    "account.");
				return (KORE_RESULT_OK);
			}
			if (!pc_uact_body(req, u))
				return (KORE_RESULT_OK);
			if (kind == PC_UACT_CREATE ||
			    kind == PC_UACT_PASSWORD) {
				if (pc_hashjob_start(req, &u->hj, NULL,
				    NULL, 0, u->password,
				    u->password_len) != KORE_RESULT_OK) {
					pc_wipe(u->password,
					    sizeof(u->password));
					return (KORE_RESULT_OK);
				}
				pc_wipe(u->password, sizeof(u->password));
				u->step = 1;
				return (KORE_RESULT_RETRY);
			}
			if (kind == PC_UACT_OTP &&
			    RAND_bytes(u->secret, sizeof(u->secret)) != 1)
				fatal("RAND_bytes failed");
			u->step = 2;
			continue;
		case 1:
			if (pc_hashjob_poll(req, &u->hj) == KORE_RESULT_RETRY)
				return (KORE_RESULT_RETRY);
			if (!u->hj.out.hashed) {
				pc_http_error(req, 500, "internal",
				    "Internal error.");
				return (KORE_RESULT_OK);
			}
			u->step = 2;
			continue;
		case 2:
			if (kind == PC_UACT_OTP)
				pc_uact_seal(u);
			pc_uact_query(u, r);
			u->step = 3;
			continue;
		case 3:
			switch (pc_dbq_step(req, &u->q)) {
			case PC_DB_RETRY:
				return (KORE_RESULT_RETRY);
			case PC_DB_ERROR:
				return (pc_uact_db_error(req, u));
			case PC_DB_DONE:
				break;
			}
			return (pc_uact_done(req, u));
		}
	}
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
	return (pc_uact(req, PC_UACT_OTP));
}
