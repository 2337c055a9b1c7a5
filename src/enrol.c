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
 * source or locked account costs no argon2 work. Steps:
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
#include "auth.h"
#include "cardguard.h"
#include "db.h"
#include "enrolcode.h"
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
};

struct pc_enrol {
	enum pc_enrol_step	step;
	int			finish;		/* 0: begin, 1: finish */
	struct pc_dbq		q;
	struct pc_hashjob	hj;
	struct pc_failq		fq;

	char			username[257];
	char			password[PC_HASH_PASS_MAX + 1];
	size_t			password_len;
	char			otp[17];
	uint8_t			code[2][PC_ENROLCODE_LEN];
	char			code_param[2][PC_BYTEA_TEXT(PC_ENROLCODE_LEN)];

	int			exists;
	char			user_id[24];
	char			canon[128];
	uint8_t			secret[PC_TOTP_SECRET_LEN];
	uint8_t			sealed[128];
	size_t			sealed_len;
	char			sealed_param[PC_BYTEA_TEXT(128)];
	char			key_id[16], step_str[24];
	char			retry_after[24];
	const char		*reason;
};

static void	pc_enrol_free(void *);
static int	pc_enrol(struct http_request *, int);
static int	pc_enrol_parse(struct http_request *, struct pc_enrol *);
static void	pc_enrol_codes(struct pc_dbq *, struct pc_enrol *);
static void	pc_enrol_check_query(struct pc_enrol *, struct pc_req *);
static void	pc_enrol_checked(struct pc_enrol *);
static void	pc_enrol_stage_query(struct pc_enrol *, struct pc_req *);
static void	pc_enrol_staged_query(struct pc_enrol *);
static void	pc_enrol_finish_query(struct pc_enrol *, struct pc_req *);
static void	pc_enrol_fail(struct pc_enrol *, struct pc_req *, const char *);
static int	pc_enrol_answer_qr(struct http_request *, struct pc_enrol *);
static int	pc_enrol_answer_fail(struct http_request *, struct pc_enrol *,
		    struct pc_req *);

static void
pc_enrol_free(void *arg)
{
	struct pc_enrol		*e = arg;

	pc_dbq_cleanup(&e->q);
	pc_hashjob_release(&e->hj);
	pc_wipe(&e->hj.out, sizeof(e->hj.out));
	pc_wipe(e->password, sizeof(e->password));
	pc_wipe(e->otp, sizeof(e->otp));
	pc_wipe(e->code, sizeof(e->code));
	pc_wipe(e->code_param, sizeof(e->code_param));
	pc_wipe(e->secret, sizeof(e->secret));
	pc_wipe(e->sealed, sizeof(e->sealed));
}

/*
 * The body: username and both halves, then the chosen password (begin)
 * or the first code (finish). 1, 0 when malformed, -1 when the username
 * holds a card number. A half that does not read is a wrong half
 * (counted like one), not a malformed request: its bytes stay zero.
 */
static int
pc_enrol_parse(struct http_request *req, struct pc_enrol *e)
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
		(void)kore_strlcpy(e->otp, x, sizeof(e->otp));
	} else {
		if ((e->password_len = xlen) > PC_HASH_PASS_MAX)
			goto out;
		memcpy(e->password, x, e->password_len + 1);
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
		pc_wipe(e->password, sizeof(e->password));
		pc_wipe(e->otp, sizeof(e->otp));
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
pc_enrol_check_query(struct pc_enrol *e, struct pc_req *r)
{
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT user_id, username, valid, "
	    "locked, source_blocked, coalesce(extract(epoch FROM "
	    "source_blocked_until)::bigint, 0) FROM auth.enrolment_check("
	    "$1, $2::bytea, $3::bytea, $4::inet, $5)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, r->source, strlen(r->source));
	/* An unknown name's lock is looked up by its tag, as at login. */
	pc_auth_tag(e->username, e->fq.tag);
	pc_dbq_param(&e->q, e->fq.tag, strlen(e->fq.tag));
	e->step = PC_ENROL_CHECK;
}

/* What the check allows: e->reason stays NULL to go on. */
static void
pc_enrol_checked(struct pc_enrol *e)
{
	PGresult	*res;
	int64_t		until;

	res = e->q.result;
	if (PQntuples(res) != 1) {
		e->reason = "bad_enrolment_code";
		return;
	}
	if ((e->exists = !PQgetisnull(res, 0, 0))) {
		(void)kore_strlcpy(e->user_id, PQgetvalue(res, 0, 0),
		    sizeof(e->user_id));
		(void)kore_strlcpy(e->canon, PQgetvalue(res, 0, 1),
		    sizeof(e->canon));
	}
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		until = strtoll(PQgetvalue(res, 0, 5), NULL, 10) -
		    (int64_t)time(NULL);
		(void)snprintf(e->retry_after, sizeof(e->retry_after),
		    "%" PRId64, until > 1 ? until : 1);
		e->reason = "source_blocked";
	} else if (PQgetvalue(res, 0, 3)[0] == 't') {
		/* A locked account and a locked unknown name alike. */
		e->reason = "locked";
	} else if (!e->exists) {
		e->reason = "unknown_user";
	} else if (PQgetvalue(res, 0, 2)[0] != 't') {
		e->reason = "bad_enrolment_code";
	}
}

/* A new secret, sealed for this account, staged with the new hash. */
static void
pc_enrol_stage_query(struct pc_enrol *e, struct pc_req *r)
{
	char	ad[48];

	if (RAND_bytes(e->secret, sizeof(e->secret)) != 1)
		fatal("RAND_bytes failed");
	/* Bound to the account's id, as every sealed secret is. */
	(void)snprintf(ad, sizeof(ad), "totp:%s", e->user_id);
	e->sealed_len = sizeof(e->secret) + PC_SECRETBOX_OVERHEAD;
	if (pc_secretbox_seal(&pc_kek, (const uint8_t *)ad, strlen(ad),
	    e->secret, sizeof(e->secret), e->sealed, e->sealed_len) == -1 ||
	    pc_bytea_encode(e->sealed, e->sealed_len, e->sealed_param,
	    sizeof(e->sealed_param)) == -1)
		fatal("cannot seal a TOTP secret");
	(void)snprintf(e->key_id, sizeof(e->key_id), "%u", pc_kek.id);

	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT auth.enrolment_stage($1, "
	    "$2::bytea, $3::bytea, $4::inet, $5, $6::bytea, $7::int)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, r->source, strlen(r->source));
	pc_dbq_param(&e->q, e->hj.out.new_hash, strlen(e->hj.out.new_hash));
	pc_dbq_param(&e->q, e->sealed_param, strlen(e->sealed_param));
	pc_dbq_param(&e->q, e->key_id, strlen(e->key_id));
	e->step = PC_ENROL_STAGE;
}

static void
pc_enrol_staged_query(struct pc_enrol *e)
{
	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT user_id, totp_secret "
	    "FROM auth.enrolment_staged($1, $2::bytea, $3::bytea)");
	pc_enrol_codes(&e->q, e);
	e->step = PC_ENROL_STAGED;
}

static void
pc_enrol_finish_query(struct pc_enrol *e, struct pc_req *r)
{
	pc_dbq_cleanup(&e->q);
	pc_dbq_init(&e->q, PC_DB_AUTH, "SELECT auth.enrolment_finish($1, "
	    "$2::bytea, $3::bytea, $4::inet, $5::bigint)");
	pc_enrol_codes(&e->q, e);
	pc_dbq_param(&e->q, r->source, strlen(r->source));
	pc_dbq_param(&e->q, e->step_str, strlen(e->step_str));
	e->step = PC_ENROL_FINISH;
}

static void
pc_enrol_fail(struct pc_enrol *e, struct pc_req *r, const char *reason)
{
	e->reason = reason;
	pc_wipe(e->password, sizeof(e->password));
	pc_auth_failq(&e->q, &e->fq, e->exists ? e->user_id : NULL,
	    e->exists ? e->canon : e->username, r->source, reason, NULL);
	e->step = PC_ENROL_FAIL;
}

/* The QR code and URI of the new secret, for this screen only. */
static int
pc_enrol_answer_qr(struct http_request *req, struct pc_enrol *e)
{
	struct pc_jsonw		w;
	char			uri[2048], *svg;
	int			n;

	if (pc_totp_uri(e->secret, sizeof(e->secret), e->canon, uri,
	    sizeof(uri)) == -1) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_wipe(e->secret, sizeof(e->secret));
	svg = kore_malloc(PC_ENROL_SVG_MAX);
	if ((n = pc_qr_svg(uri, svg, PC_ENROL_SVG_MAX)) < 0) {
		kore_free(svg);
		pc_wipe(uri, sizeof(uri));
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "username", e->canon);
	pc_jsonw_string(&w, "otpauth_uri", uri);
	pc_jsonw_stringn(&w, "qr_svg", svg, (size_t)n);
	pc_jsonw_object_close(&w);
	pc_wipe(svg, PC_ENROL_SVG_MAX);
	kore_free(svg);
	pc_wipe(uri, sizeof(uri));
	return (pc_http_jsonw(req, 200, &w));
}

static int
pc_enrol_answer_fail(struct http_request *req, struct pc_enrol *e,
    struct pc_req *r)
{
	/* One log line per decision; the reason stays here. */
	kore_log(LOG_NOTICE, "enrolment-%s: failure reason=%s source=%s",
	    e->finish ? "finish" : "begin", e->reason, r->source);
	if (strcmp(e->reason, "source_blocked") == 0) {
		http_response_header(req, "retry-after", e->retry_after);
		pc_http_error(req, 429, "rate_limited", "Too many failed "
		    "sign-ins from this address; try again later.");
		return (KORE_RESULT_OK);
	}
	pc_http_error(req, 401, "invalid_credentials",
	    "The username or the enrolment code is not correct.");
	return (KORE_RESULT_OK);
}

static int
pc_enrol(struct http_request *req, int finish)
{
	struct pc_req			*r;
	struct pc_enrol			*e;
	enum pc_password_verdict	v;
	int64_t				step;
	int				rv;

	r = pc_req_get(req);
	e = pc_req_handler_state(req, sizeof(*e), pc_enrol_free);

	for (;;) {
		switch (e->step) {
		case PC_ENROL_PARSE:
			e->finish = finish;
			switch (pc_enrol_parse(req, e)) {
			case 1:
				break;
			case -1:
				pc_req_card_refused(req);
				return (KORE_RESULT_OK);
			default:
				pc_http_error(req, 400, "invalid_request",
				    "Send username, code_1, code_2 and the "
				    "password or code as a JSON object.");
				return (KORE_RESULT_OK);
			}
			if (!pc_req_in_hours(NULL)) {
				pc_http_error(req, 403, "outside_hours",
				    "The console is closed at this hour.");
				return (KORE_RESULT_OK);
			}
			if (!finish && (v = pc_password_check(e->password,
			    e->password_len, e->username)) != PC_PASSWORD_OK) {
				pc_wipe(e->password, sizeof(e->password));
				pc_http_error_reason(req, 400,
				    "password_rejected", "The password does "
				    "not meet the policy.",
				    pc_password_verdict_code(v));
				return (KORE_RESULT_OK);
			}
			if (finish) {
				pc_enrol_check_query(e, r);
				continue;
			}
			e->step = PC_ENROL_SLOT;
			continue;

		case PC_ENROL_SLOT:
			switch (pc_hashjob_wait(req, &e->hj, r->source)) {
			case KORE_RESULT_RETRY:
				return (KORE_RESULT_RETRY);
			case KORE_RESULT_ERROR:
				pc_wipe(e->password, sizeof(e->password));
				return (KORE_RESULT_OK);
			}
			pc_enrol_check_query(e, r);
			continue;

		case PC_ENROL_CHECK:
			if (!pc_dbq_ready(req, &e->q, &rv))
				return (rv);
			pc_enrol_checked(e);
			if (e->reason != NULL) {
				pc_enrol_fail(e, r, e->reason);
				continue;
			}
			if (finish) {
				pc_enrol_staged_query(e);
				continue;
			}
			if (pc_hashjob_start(req, &e->hj, NULL, NULL, 0,
			    e->password, e->password_len) != KORE_RESULT_OK) {
				pc_wipe(e->password, sizeof(e->password));
				return (KORE_RESULT_OK);
			}
			pc_wipe(e->password, sizeof(e->password));
			e->step = PC_ENROL_HASH;
			return (KORE_RESULT_RETRY);

		case PC_ENROL_HASH:
			if (pc_hashjob_poll(req, &e->hj) == KORE_RESULT_RETRY)
				return (KORE_RESULT_RETRY);
			if (!e->hj.out.hashed)
				fatal("argon2id hashing failed");
			pc_enrol_stage_query(e, r);
			continue;

		case PC_ENROL_STAGE:
			if (!pc_dbq_ready(req, &e->q, &rv))
				return (rv);
			if (PQntuples(e->q.result) != 1 ||
			    PQgetvalue(e->q.result, 0, 0)[0] != 't') {
				pc_enrol_fail(e, r, "bad_enrolment_code");
				continue;
			}
			return (pc_enrol_answer_qr(req, e));

		case PC_ENROL_STAGED:
			if (!pc_dbq_ready(req, &e->q, &rv))
				return (rv);
			if (PQntuples(e->q.result) != 1 ||
			    pc_bytea_decode(PQgetvalue(e->q.result, 0, 1),
			    e->sealed, sizeof(e->sealed), &e->sealed_len) != 0) {
				pc_enrol_fail(e, r, "not_staged");
				continue;
			}
			step = 0;
			if (!pc_auth_totp(e->user_id, e->sealed, e->sealed_len,
			    e->otp, &step)) {
				pc_wipe(e->otp, sizeof(e->otp));
				pc_enrol_fail(e, r, "bad_totp");
				continue;
			}
			pc_wipe(e->otp, sizeof(e->otp));
			(void)snprintf(e->step_str, sizeof(e->step_str),
			    "%" PRId64, step);
			pc_enrol_finish_query(e, r);
			continue;

		case PC_ENROL_FINISH:
			if (!pc_dbq_ready(req, &e->q, &rv))
				return (rv);
			if (PQntuples(e->q.result) != 1 ||
			    PQgetvalue(e->q.result, 0, 0)[0] != 't') {
				pc_enrol_fail(e, r, "bad_enrolment_code");
				continue;
			}
			kore_log(LOG_NOTICE, "enrolment: completed user=%s "
			    "source=%s", e->canon, r->source);
			pc_http_json(req, 200, "{\"status\":\"enrolled\"}",
			    sizeof("{\"status\":\"enrolled\"}") - 1);
			return (KORE_RESULT_OK);

		case PC_ENROL_FAIL:
			if (!pc_dbq_ready(req, &e->q, &rv))
				return (rv);
			return (pc_enrol_answer_fail(req, e, r));
		}
	}
}

int
pc_h_enrol_begin(struct http_request *req)
{
	return (pc_enrol(req, 0));
}

int
pc_h_enrol_finish(struct http_request *req)
{
	return (pc_enrol(req, 1));
}
