/*
 * enrol.c: first sign-in, where a person sets up their own factors with
 * the two halves of an enrolment code (migrations/016; the halves come
 * from the requester and the approver of their account request).
 *   POST /api/enrolment/begin   {"username", "code_1", "code_2",
 *                                "password"}: the password they chose
 *                               (policy-checked, hashed) and a new TOTP
 *                               secret (sealed) are staged; the answer
 *                               is the QR code and URI, on their screen
 *   POST /api/enrolment/finish  {"username", "code_1", "code_2", "otp"}:
 *                               the first code from the new device; the
 *                               enrolment is consumed, the account active
 * Both are public. Every failure goes through auth.login_failed() like a
 * login's (account lockout, source blocks, the same 401), and a blocked
 * source or locked account costs no argon2 work; the lock and block
 * checks and the failure answer are factor.c's, as a login's. Steps
 * (pc_enrol_steps[], run by http_state_run()):
 *   PARSE   JSON body; outside the allowed hours: 403
 *   SLOT    (begin) an argon2 slot, as a login waits for one
 *   CHECK   auth.enrolment_check(): the account, its lock, the source's
 *           block, and whether both halves open its enrolment
 *   HASH    (begin) argon2id of the chosen password
 *   STAGE   (begin) auth.enrolment_stage(), then the QR code
 *   STAGED  (finish) auth.enrolment_staged(): the secret to check
 *   FINISH  (finish) TOTP, then auth.enrolment_finish()
 *   FAIL    auth.login_failed(), 401 or 429
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "app.h"
#include "cardguard.h"
#include "db.h"
#include "enrolcode.h"
#include "factor.h"
#include "hashjob.h"
#include "http_util.h"
#include "jsonw.h"
#include "qr.h"
#include "request.h"
#include "routes.h"
#include "totp.h"
#include "wipe.h"

/* Room for the enrolment QR code as SVG. */
#define PC_ENROL_SVG_MAX	(256 * 1024)

enum pc_enrol_step {
	PC_ENROL_PARSE = 0,
	PC_ENROL_SLOT,
	PC_ENROL_CHECK,
	PC_ENROL_HASH,
	PC_ENROL_STAGE,
	PC_ENROL_STAGED,
	PC_ENROL_FINISH,
	PC_ENROL_FAIL,
	PC_ENROL_NSTEPS
};

struct pc_enrol {
	int			finish;		/* 0: begin, 1: finish */
	struct pc_dbq		q;
	struct pc_factor	f;	/* the password (begin), code (finish) */

	char			username[PC_FACTOR_NAME_MAX + 1];
	uint8_t			code[2][PC_ENROLCODE_LEN];
	char			code_param[2][PC_BYTEA_TEXT(PC_ENROLCODE_LEN)];

	uint8_t			secret[PC_TOTP_SECRET_LEN];
	char			sealed_param[PC_BYTEA_TEXT(128)];
	char			key_id[16];
};

static void		 pc_enrol_free(void *);
static struct pc_enrol	*pc_enrol_state(struct http_request *);
static int		 pc_enrol_run(struct http_request *, int);
static int		 pc_enrol_body(struct http_request *, struct pc_enrol *);
static void		 pc_enrol_codes(struct pc_dbq *, struct pc_enrol *);
static void		 pc_enrol_check_query(struct pc_enrol *);
static void		 pc_enrol_checked(struct pc_enrol *);
static void		 pc_enrol_stage_query(struct pc_enrol *);
static void		 pc_enrol_staged_query(struct pc_enrol *);
static void		 pc_enrol_finish_query(struct pc_enrol *);
static int		 pc_enrol_true(const struct pc_enrol *);
static int		 pc_enrol_failed(struct http_request *,
			    struct pc_enrol *, const char *);
static int		 pc_enrol_answer_qr(struct http_request *,
			    struct pc_enrol *);
static int		 pc_enrol_parse(struct http_request *);
static int		 pc_enrol_slot(struct http_request *);
static int		 pc_enrol_check(struct http_request *);
static int		 pc_enrol_hash(struct http_request *);
static int		 pc_enrol_stage(struct http_request *);
static int		 pc_enrol_staged(struct http_request *);
static int		 pc_enrol_finished(struct http_request *);
static int		 pc_enrol_fail(struct http_request *);

static struct http_state pc_enrol_steps[PC_ENROL_NSTEPS] = {
	[PC_ENROL_PARSE] =	KORE_HTTP_STATE(pc_enrol_parse),
	[PC_ENROL_SLOT] =	KORE_HTTP_STATE(pc_enrol_slot),
	[PC_ENROL_CHECK] =	KORE_HTTP_STATE(pc_enrol_check),
	[PC_ENROL_HASH] =	KORE_HTTP_STATE(pc_enrol_hash),
	[PC_ENROL_STAGE] =	KORE_HTTP_STATE(pc_enrol_stage),
	[PC_ENROL_STAGED] =	KORE_HTTP_STATE(pc_enrol_staged),
	[PC_ENROL_FINISH] =	KORE_HTTP_STATE(pc_enrol_finished),
	[PC_ENROL_FAIL] =	KORE_HTTP_STATE(pc_enrol_fail),
};

static void
pc_enrol_free(void *arg)
{
	struct pc_enrol		*e = arg;

	pc_dbq_cleanup(&e->q);
	pc_factor_free(&e->f);
	pc_wipe(e->code, sizeof(e->code));
	pc_wipe(e->code_param, sizeof(e->code_param));
	pc_wipe(e->secret, sizeof(e->secret));
}

static struct pc_enrol *
pc_enrol_state(struct http_request *req)
{
	struct pc_enrol		*e;

	e = pc_req_handler_state(req, sizeof(*e), pc_enrol_free);
	e->f.source = pc_req_get(req)->source;
	return (e);
}

/*
 * The body: username and both halves, then the chosen password (begin)
 * or the first code (finish). 1, 0 when malformed, -1 when the username
 * holds a card number. A half that does not read is a wrong half
 * (counted like one), not a malformed request: its bytes stay zero.
 */
static int
pc_enrol_body(struct http_request *req, struct pc_enrol *e)
{
	struct pc_jsonin	json;
	const char		*u, *c1, *c2, *x;
	size_t			c1len, c2len, xlen;
	uint8_t			body[2048];
	int			ok;

	ok = 0;
	if (!pc_req_json(req, &json, body, sizeof(body)) ||
	    (u = pc_jsonin_string(&json, "username", NULL)) == NULL ||
	    (c1 = pc_jsonin_string(&json, "code_1", &c1len)) == NULL ||
	    (c2 = pc_jsonin_string(&json, "code_2", &c2len)) == NULL ||
	    (x = pc_jsonin_string(&json, e->finish ? "otp" : "password",
	    &xlen)) == NULL)
		goto out;
	if (u[0] == '\0' || kore_strlcpy(e->username, u,
	    sizeof(e->username)) >= sizeof(e->username))
		goto out;
	/* A pasted card number never reaches the audit trail; say why. */
	if (pc_cardguard_find(e->username, strlen(e->username))) {
		ok = -1;
		goto out;
	}
	(void)pc_enrolcode_parse(c1, c1len, e->code[0]);
	(void)pc_enrolcode_parse(c2, c2len, e->code[1]);
	if (e->finish) {
		(void)kore_strlcpy(e->f.code, x, sizeof(e->f.code));
	} else {
		if ((e->f.password_len = xlen) > PC_HASH_PASS_MAX)
			goto out;
		memcpy(e->f.password, x, e->f.password_len + 1);
	}
	if (pc_bytea_encode(e->code[0], PC_ENROLCODE_LEN, e->code_param[0],
	    sizeof(e->code_param[0])) == -1 || pc_bytea_encode(e->code[1],
	    PC_ENROLCODE_LEN, e->code_param[1],
	    sizeof(e->code_param[1])) == -1)
		goto out;
	ok = 1;
out:
	pc_req_json_done(req, &json, body, sizeof(body));
	if (ok != 1) {
		pc_wipe(e->username, sizeof(e->username));
		pc_wipe(e->f.password, sizeof(e->f.password));
		pc_wipe(e->f.code, sizeof(e->f.code));
	}
	return (ok);
}

/* username, code_1, code_2: the first three parameters of each step. */
static void
pc_enrol_codes(struct pc_dbq *q, struct pc_enrol *e)
{
	pc_dbq_param(q, e->username, strlen(e->username));
	pc_dbq_param(q, e->code_param[0], strlen(e->code_param[0]));
	pc_dbq_param(q, e->code_param[1], strlen(e->code_param[1]));
}

static void
pc_enrol_check_query(struct pc_enrol *e)
{
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT user_id, username, valid, "
	    "locked, source_blocked, coalesce(extract(epoch FROM "
	    "source_blocked_until)::bigint, 0) AS blocked_until "
	    "FROM auth.enrolment_check($1, $2::bytea, $3::bytea, $4::inet, "
	    "$5)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, e->f.source, strlen(e->f.source));
	/* An unknown name's lock is looked up by its tag, as at login. */
	pc_factor_tag(e->username, e->f.fq.tag);
	pc_dbq_param(&e->q, e->f.fq.tag, strlen(e->f.fq.tag));
}

/* What the check allows: e->f.reason stays NULL to go on. */
static void
pc_enrol_checked(struct pc_enrol *e)
{
	int	c;

	if (pc_factor_row(&e->f, e->q.result)) {
		if (pc_factor_barred(&e->f))
			return;
		if (!e->f.exists) {
			e->f.reason = "unknown_user";
			return;
		}
		/* The code's verdict, by name; absent or NULL is no. */
		c = PQfnumber(e->q.result, "valid");
		if (c != -1 && !PQgetisnull(e->q.result, 0, c) &&
		    PQgetvalue(e->q.result, 0, c)[0] == 't')
			return;
	}
	e->f.reason = "bad_enrolment_code";
}

/* A new secret, sealed for this account, staged with the new hash. */
static void
pc_enrol_stage_query(struct pc_enrol *e)
{
	char	ad[48];
	size_t	len;

	if (RAND_bytes(e->secret, sizeof(e->secret)) != 1)
		fatal("RAND_bytes failed");
	/* Bound to the account's id, as every sealed secret is. */
	(void)snprintf(ad, sizeof(ad), "totp:%s", e->f.user_id);
	len = sizeof(e->secret) + PC_SECRETBOX_OVERHEAD;
	if (pc_secretbox_seal(&pc_kek, (const uint8_t *)ad, strlen(ad),
	    e->secret, sizeof(e->secret), e->f.sealed, len) == -1 ||
	    pc_bytea_encode(e->f.sealed, len, e->sealed_param,
	    sizeof(e->sealed_param)) == -1)
		fatal("cannot seal a TOTP secret");
	(void)snprintf(e->key_id, sizeof(e->key_id), "%u", pc_kek.id);

	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT auth.enrolment_stage($1, "
	    "$2::bytea, $3::bytea, $4::inet, $5, $6::bytea, $7::int)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, e->f.source, strlen(e->f.source));
	pc_dbq_param(&e->q, e->f.hj.out.new_hash,
	    strlen(e->f.hj.out.new_hash));
	pc_dbq_param(&e->q, e->sealed_param, strlen(e->sealed_param));
	pc_dbq_param(&e->q, e->key_id, strlen(e->key_id));
}

static void
pc_enrol_staged_query(struct pc_enrol *e)
{
	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT user_id, totp_secret "
	    "FROM auth.enrolment_staged($1, $2::bytea, $3::bytea)");
	pc_enrol_codes(&e->q, e);
}

static void
pc_enrol_finish_query(struct pc_enrol *e)
{
	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT auth.enrolment_finish($1, "
	    "$2::bytea, $3::bytea, $4::inet, $5::bigint)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, e->f.source, strlen(e->f.source));
	pc_dbq_param(&e->q, e->f.step_str, strlen(e->f.step_str));
}

/* Did the step's function say yes (one row, true in its first column)? */
static int
pc_enrol_true(const struct pc_enrol *e)
{
	return (PQntuples(e->q.result) == 1 &&
	    PQgetvalue(e->q.result, 0, 0)[0] == 't');
}

/* The failure query for reason (auth.login_failed()), then FAIL. */
static int
pc_enrol_failed(struct http_request *req, struct pc_enrol *e,
    const char *reason)
{
	e->f.reason = reason;
	pc_wipe(e->f.password, sizeof(e->f.password));
	pc_factor_failq(&e->q, &e->f, e->username);
	req->fsm_state = PC_ENROL_FAIL;
	return (HTTP_STATE_CONTINUE);
}

/* The QR code and URI of the new secret, for this screen only. */
static int
pc_enrol_answer_qr(struct http_request *req, struct pc_enrol *e)
{
	struct pc_jsonw		w;
	char			uri[2048], *svg;
	int			n;

	if (pc_totp_uri(e->secret, sizeof(e->secret), e->f.canon, uri,
	    sizeof(uri)) == -1) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (HTTP_STATE_COMPLETE);
	}
	pc_wipe(e->secret, sizeof(e->secret));
	svg = kore_malloc(PC_ENROL_SVG_MAX);
	if ((n = pc_qr_svg(uri, svg, PC_ENROL_SVG_MAX)) < 0) {
		kore_free(svg);
		pc_wipe(uri, sizeof(uri));
		pc_http_error(req, 500, "internal", "Internal error.");
		return (HTTP_STATE_COMPLETE);
	}
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "username", e->f.canon);
	pc_jsonw_string(&w, "otpauth_uri", uri);
	pc_jsonw_stringn(&w, "qr_svg", svg, (size_t)n);
	pc_jsonw_object_close(&w);
	pc_wipe(svg, PC_ENROL_SVG_MAX);
	kore_free(svg);
	pc_wipe(uri, sizeof(uri));
	(void)pc_http_jsonw(req, 200, &w);
	return (HTTP_STATE_COMPLETE);
}

static int
pc_enrol_parse(struct http_request *req)
{
	struct pc_enrol			*e = pc_enrol_state(req);
	enum pc_password_verdict	v;

	if (!pc_factor_body(req, pc_enrol_body(req, e),
	    "Send username, code_1, code_2 and the password or code as a "
	    "JSON object."))
		return (HTTP_STATE_COMPLETE);
	if (!pc_req_in_hours(NULL)) {
		pc_http_error(req, 403, "outside_hours",
		    "The console is closed at this hour.");
		return (HTTP_STATE_COMPLETE);
	}
	if (!e->finish && (v = pc_password_check(e->f.password,
	    e->f.password_len, e->username)) != PC_PASSWORD_OK) {
		pc_wipe(e->f.password, sizeof(e->f.password));
		pc_http_error_reason(req, 400, "password_rejected",
		    "The password does not meet the policy.",
		    pc_password_verdict_code(v));
		return (HTTP_STATE_COMPLETE);
	}
	if (e->finish) {
		pc_enrol_check_query(e);
		req->fsm_state = PC_ENROL_CHECK;
	} else
		req->fsm_state = PC_ENROL_SLOT;
	return (HTTP_STATE_CONTINUE);
}

/* (begin) An argon2 slot, as a login waits for one. */
static int
pc_enrol_slot(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	int			rv;

	if ((rv = pc_factor_slot(req, &e->f)) != HTTP_STATE_CONTINUE)
		return (rv);
	pc_enrol_check_query(e);
	req->fsm_state = PC_ENROL_CHECK;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_enrol_check(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &e->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	pc_enrol_checked(e);
	if (e->f.reason != NULL)
		return (pc_enrol_failed(req, e, e->f.reason));
	if (e->finish) {
		pc_enrol_staged_query(e);
		req->fsm_state = PC_ENROL_STAGED;
		return (HTTP_STATE_CONTINUE);
	}
	/* Only the chosen password's hash: there is none to check. */
	if (pc_hashjob_start(req, &e->f.hj, NULL, NULL, 0, e->f.password,
	    e->f.password_len) != KORE_RESULT_OK) {
		pc_wipe(e->f.password, sizeof(e->f.password));
		return (HTTP_STATE_COMPLETE);
	}
	pc_wipe(e->f.password, sizeof(e->f.password));
	req->fsm_state = PC_ENROL_HASH;
	return (HTTP_STATE_RETRY);
}

static int
pc_enrol_hash(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);

	if (pc_hashjob_poll(req, &e->f.hj) == KORE_RESULT_RETRY)
		return (HTTP_STATE_RETRY);
	if (!e->f.hj.out.hashed)
		fatal("argon2id hashing failed");
	pc_enrol_stage_query(e);
	req->fsm_state = PC_ENROL_STAGE;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_enrol_stage(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &e->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (!pc_enrol_true(e))
		return (pc_enrol_failed(req, e, "bad_enrolment_code"));
	return (pc_enrol_answer_qr(req, e));
}

/* (finish) The staged secret, then the new device's first code. */
static int
pc_enrol_staged(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	int64_t			step;
	int			rv, ok;

	if ((rv = pc_dbq_state(req, &e->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (PQntuples(e->q.result) != 1 ||
	    pc_bytea_decode(PQgetvalue(e->q.result, 0, 1), e->f.sealed,
	    sizeof(e->f.sealed), &e->f.sealed_len) != 0)
		return (pc_enrol_failed(req, e, "not_staged"));
	step = 0;
	ok = pc_factor_totp_check(e->f.user_id, e->f.sealed,
	    e->f.sealed_len, e->f.code, &step);
	pc_wipe(e->f.code, sizeof(e->f.code));
	if (!ok)
		return (pc_enrol_failed(req, e, "bad_totp"));
	(void)snprintf(e->f.step_str, sizeof(e->f.step_str), "%" PRId64,
	    step);
	pc_enrol_finish_query(e);
	req->fsm_state = PC_ENROL_FINISH;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_enrol_finished(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	static const char	body[] = "{\"status\":\"enrolled\"}";
	int			rv;

	if ((rv = pc_dbq_state(req, &e->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (!pc_enrol_true(e))
		return (pc_enrol_failed(req, e, "bad_enrolment_code"));
	kore_log(LOG_NOTICE, "enrolment: completed user=%s source=%s",
	    e->f.canon, e->f.source);
	pc_http_json(req, 200, body, sizeof(body) - 1);
	return (HTTP_STATE_COMPLETE);
}

static int
pc_enrol_fail(struct http_request *req)
{
	struct pc_enrol		*e = pc_enrol_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &e->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	return (pc_factor_answer_fail(req, &e->f, e->finish ?
	    "enrolment-finish" : "enrolment-begin",
	    "The username or the enrolment code is not correct."));
}

static int
pc_enrol_run(struct http_request *req, int finish)
{
	pc_enrol_state(req)->finish = finish;
	return (http_state_run(pc_enrol_steps, PC_ENROL_NSTEPS, req));
}

int
pc_h_enrol_begin(struct http_request *req)
{
	return (pc_enrol_run(req, 0));
}

int
pc_h_enrol_finish(struct http_request *req)
{
	return (pc_enrol_run(req, 1));
}
