/*
 * selfsvc.c: a signed-in user proving both factors again.
 *   POST /api/password     change one's own password: current password,
 *                          a code and the new password
 *   POST /api/reauth       password and code again, for admin actions
 *                          that touch credentials (5 minutes)
 * Each attempt is counted before its hash and fails through
 * auth.attempt_failed(), exactly as a login's: it counts towards lockout
 * and source blocks and gets the same 401. The
 * database resolves the user from the session's token. (A new device's
 * first code is part of first sign-in: enrol.c.)
 *
 * Success gives the session a new random token, in the same transaction
 * as the change and its audit record (migrations/020): the old token
 * stops working at once. The answer sets the new cookie as login does
 * (same attributes, the session's unchanged absolute end) and carries
 * the /api/me members, whose csrf_token is derived from the new token.
 *
 * The steps (pc_prove_steps[], run by http_state_run()):
 *   PARSE    JSON body; a new password checked against the policy
 *   SLOT     an argon2 slot, as at login
 *   LOOKUP   auth.own_factors_reserve(); a lock or block: FAIL without
 *            argon2 work; else argon2id (and the new password's hash)
 *   HASH     the factors decided by factor.c, as a login's
 *   FINISH   auth.password_changed() or auth.reauthenticated() with the
 *            new token; 200, or a replayed code: FAIL
 *   FAIL     auth.attempt_failed(); 401 or 429
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "db.h"
#include "factor.h"
#include "hashjob.h"
#include "http_util.h"
#include "jsonw.h"
#include "request.h"
#include "routes.h"
#include "wipe.h"

enum pc_prove_mode {
	PC_PROVE_PASSWORD = 1,
	PC_PROVE_REAUTH,
};

enum pc_prove_step {
	PC_PROVE_PARSE = 0,
	PC_PROVE_SLOT,
	PC_PROVE_LOOKUP,
	PC_PROVE_HASH,
	PC_PROVE_FINISH,
	PC_PROVE_FAIL,
	PC_PROVE_NSTEPS
};

struct pc_prove {
	enum pc_prove_mode	mode;
	struct pc_dbq		q;
	struct pc_factor	f;

	char			new_password[PC_HASH_PASS_MAX + 1];
	size_t			new_len;

	/* The session's next token, raw and as a bytea parameter. */
	uint8_t			new_token[PC_TOKEN_LEN];
	char			new_tok[PC_BYTEA_TEXT(PC_TOKEN_LEN)];
};

static void		 pc_prove_free(void *);
static struct pc_prove	*pc_prove_state(struct http_request *);
static int		 pc_prove_run(struct http_request *,
			    enum pc_prove_mode);
static int		 pc_prove_body(struct http_request *, struct pc_prove *);
static void		 pc_prove_lookup_query(struct pc_prove *,
			    struct pc_req *);
static void		 pc_prove_finish_query(struct pc_prove *,
			    struct pc_req *);
static int		 pc_prove_failed(struct http_request *,
			    struct pc_prove *);
static int		 pc_prove_answer(struct http_request *,
			    struct pc_prove *, struct pc_req *);
static int		 pc_prove_parse(struct http_request *);
static int		 pc_prove_slot(struct http_request *);
static int		 pc_prove_lookup(struct http_request *);
static int		 pc_prove_hash(struct http_request *);
static int		 pc_prove_finish(struct http_request *);
static int		 pc_prove_fail(struct http_request *);

static struct http_state pc_prove_steps[PC_PROVE_NSTEPS] = {
	[PC_PROVE_PARSE] =	KORE_HTTP_STATE(pc_prove_parse),
	[PC_PROVE_SLOT] =	KORE_HTTP_STATE(pc_prove_slot),
	[PC_PROVE_LOOKUP] =	KORE_HTTP_STATE(pc_prove_lookup),
	[PC_PROVE_HASH] =	KORE_HTTP_STATE(pc_prove_hash),
	[PC_PROVE_FINISH] =	KORE_HTTP_STATE(pc_prove_finish),
	[PC_PROVE_FAIL] =	KORE_HTTP_STATE(pc_prove_fail),
};

static void
pc_prove_free(void *arg)
{
	struct pc_prove		*p = arg;

	pc_dbq_cleanup(&p->q);
	pc_factor_free(&p->f);
	pc_wipe(p->new_password, sizeof(p->new_password));
	pc_wipe(p->new_token, sizeof(p->new_token));
	pc_wipe(p->new_tok, sizeof(p->new_tok));
}

static struct pc_prove *
pc_prove_state(struct http_request *req)
{
	struct pc_prove		*p;

	p = pc_req_handler_state(req, sizeof(*p), pc_prove_free);
	p->f.source = pc_req_get(req)->source;
	return (p);
}

/* The fields each mode needs, all strings; copies wiped in the tree. */
static int
pc_prove_body(struct http_request *req, struct pc_prove *p)
{
	struct pc_jsonin	json;
	const char		*pw, *o, *n;
	size_t			pwlen, nlen;
	uint8_t			body[2048];
	int			ok;

	ok = 0;
	n = pw = o = NULL;
	pwlen = nlen = 0;
	if (!pc_req_json(req, &json, body, sizeof(body)))
		goto out;
	pw = pc_jsonin_string(&json, p->mode == PC_PROVE_PASSWORD ?
	    "current_password" : "password", &pwlen);
	o = pc_jsonin_string(&json, "otp", NULL);
	if (p->mode == PC_PROVE_PASSWORD)
		n = pc_jsonin_string(&json, "new_password", &nlen);
	if (pw == NULL || o == NULL ||
	    (p->mode == PC_PROVE_PASSWORD && n == NULL))
		goto out;

	if ((p->f.password_len = pwlen) > PC_HASH_PASS_MAX)
		goto out;
	memcpy(p->f.password, pw, p->f.password_len + 1);
	(void)kore_strlcpy(p->f.code, o, sizeof(p->f.code));
	if (n != NULL) {
		if ((p->new_len = nlen) > PC_HASH_PASS_MAX)
			goto out;
		memcpy(p->new_password, n, p->new_len + 1);
	}
	ok = 1;

out:
	pc_req_json_done(req, &json, body, sizeof(body));
	return (ok);
}

static void
pc_prove_lookup_query(struct pc_prove *p, struct pc_req *r)
{
	/* The same lock and block state login sees, and the attempt
	 * counted before its hash as a login's is (migration 022). */
	pc_dbq_init(&p->q, PC_DB_AUTH, "SELECT user_id, username, "
	    "password_hash, totp_state, totp_secret, disabled, locked, "
	    "source_blocked, coalesce(extract(epoch FROM "
	    "source_blocked_until)::bigint, 0) AS blocked_until, attempt "
	    "FROM auth.own_factors_reserve($1::bytea, $2::inet, $3::int, "
	    "$4::int, $5::int, $6::jsonb)");
	pc_dbq_param(&p->q, r->tok, strlen(r->tok));
	pc_dbq_param(&p->q, r->source, strlen(r->source));
	pc_factor_reserve_params(&p->q, &p->f);
}

static void
pc_prove_finish_query(struct pc_prove *p, struct pc_req *r)
{
	if (pc_token_new(p->new_token) == -1)
		fatal("RAND_bytes failed");
	/* The database stores only its hash, which it computes itself. */
	if (pc_bytea_encode(p->new_token, sizeof(p->new_token), p->new_tok,
	    sizeof(p->new_tok)) == -1)
		fatal("token parameter buffer too small");

	pc_dbq_cleanup(&p->q);
	switch (p->mode) {
	case PC_PROVE_PASSWORD:
		pc_dbq_init(&p->q, PC_DB_AUTH, "WITH c AS (SELECT "
		    "auth.password_changed($1::bytea, $2::inet, $3::bigint, "
		    "$4, $5::bytea) AS ok) SELECT ok, "
		    "auth.attempt_settled($6::bigint, $7::bigint, ok) FROM c");
		pc_dbq_param(&p->q, r->tok, strlen(r->tok));
		pc_dbq_param(&p->q, r->source, strlen(r->source));
		pc_dbq_param(&p->q, p->f.step_str, strlen(p->f.step_str));
		pc_dbq_param(&p->q, p->f.hj.out.new_hash,
		    strlen(p->f.hj.out.new_hash));
		pc_dbq_param(&p->q, p->new_tok, strlen(p->new_tok));
		break;
	case PC_PROVE_REAUTH:
		pc_dbq_init(&p->q, PC_DB_AUTH, "WITH c AS (SELECT "
		    "coalesce(auth.reauthenticated($1::bytea, $2::inet, "
		    "$3::bigint, $4::bytea), 0) AS until) SELECT until, "
		    "auth.attempt_settled($5::bigint, $6::bigint, until > 0) "
		    "FROM c");
		pc_dbq_param(&p->q, r->tok, strlen(r->tok));
		pc_dbq_param(&p->q, r->source, strlen(r->source));
		pc_dbq_param(&p->q, p->f.step_str, strlen(p->f.step_str));
		pc_dbq_param(&p->q, p->new_tok, strlen(p->new_tok));
		break;
	}
	pc_dbq_param(&p->q, p->f.user_id, strlen(p->f.user_id));
	pc_dbq_param(&p->q, p->f.attempt[0] != '\0' ? p->f.attempt : NULL,
	    strlen(p->f.attempt));
}

/* The failure query for p->f.reason, then FAIL. */
static int
pc_prove_failed(struct http_request *req, struct pc_prove *p)
{
	pc_factor_failq(&p->q, &p->f, pc_req_get(req)->s.username);
	req->fsm_state = PC_PROVE_FAIL;
	return (HTTP_STATE_CONTINUE);
}

/*
 * 1 after answering 200 with the new session cookie and the /api/me
 * members for the new token, 0 when the database refused (a replay).
 */
static int
pc_prove_answer(struct http_request *req, struct pc_prove *p,
    struct pc_req *r)
{
	struct pc_jsonw		w;
	const char		*v;
	long long		until;

	v = PQntuples(p->q.result) == 1 ? PQgetvalue(p->q.result, 0, 0) : "";
	until = 0;
	switch (p->mode) {
	case PC_PROVE_PASSWORD:
		if (strcmp(v, "t") != 0)
			return (0);
		r->s.must_change_password = 0;
		break;
	case PC_PROVE_REAUTH:
		if ((until = strtoll(v, NULL, 10)) <= 0)
			return (0);
		break;
	}

	/* The same session under its new token; its end does not move. */
	memcpy(r->s.token, p->new_token, sizeof(r->s.token));
	pc_auth_session_cookie(req, p->new_token, r->s.absolute_expires_at);
	pc_wipe(p->new_token, sizeof(p->new_token));

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	if (p->mode == PC_PROVE_PASSWORD)
		pc_jsonw_string(&w, "status", "password_changed");
	else
		pc_jsonw_int(&w, "reauth_until", until);
	pc_auth_me_members(&w, &r->s);
	pc_jsonw_object_close(&w);
	(void)pc_http_jsonw(req, 200, &w);
	return (1);
}

static int
pc_prove_parse(struct http_request *req)
{
	struct pc_prove			*p = pc_prove_state(req);
	struct pc_req			*r = pc_req_get(req);
	enum pc_password_verdict	v;

	if (!pc_factor_body(req, pc_prove_body(req, p),
	    "Send the fields as a JSON object."))
		return (HTTP_STATE_COMPLETE);
	if (p->mode == PC_PROVE_PASSWORD && (v = pc_password_check(
	    p->new_password, p->new_len, r->s.username)) != PC_PASSWORD_OK) {
		pc_http_error_reason(req, 400, "password_rejected",
		    "The new password does not meet the policy.",
		    pc_password_verdict_code(v));
		return (HTTP_STATE_COMPLETE);
	}
	req->fsm_state = PC_PROVE_SLOT;
	return (HTTP_STATE_CONTINUE);
}

/* The hashing slot first, as at login: an attempt is counted only once
 * its hash can run. */
static int
pc_prove_slot(struct http_request *req)
{
	struct pc_prove		*p = pc_prove_state(req);
	int			rv;

	if ((rv = pc_factor_slot(req, &p->f)) != HTTP_STATE_CONTINUE) {
		if (rv == HTTP_STATE_COMPLETE)
			pc_wipe(p->new_password, sizeof(p->new_password));
		return (rv);
	}
	pc_prove_lookup_query(p, pc_req_get(req));
	req->fsm_state = PC_PROVE_LOOKUP;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_prove_lookup(struct http_request *req)
{
	struct pc_prove		*p = pc_prove_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &p->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (!pc_factor_row(&p->f, p->q.result)) {
		/* own_factors: the account is gone or disabled. */
		pc_http_error(req, 401, "unauthenticated", "Sign in first.");
		return (HTTP_STATE_COMPLETE);
	}
	if (pc_factor_barred(&p->f)) {
		pc_wipe(p->new_password, sizeof(p->new_password));
		return (pc_prove_failed(req, p));
	}
	if (pc_factor_hash(req, &p->f, p->mode == PC_PROVE_PASSWORD ?
	    p->new_password : NULL, p->new_len) != KORE_RESULT_OK)
		return (HTTP_STATE_COMPLETE);
	pc_wipe(p->f.password, sizeof(p->f.password));
	pc_wipe(p->new_password, sizeof(p->new_password));
	req->fsm_state = PC_PROVE_HASH;
	return (HTTP_STATE_RETRY);
}

static int
pc_prove_hash(struct http_request *req)
{
	struct pc_prove		*p = pc_prove_state(req);

	if (pc_hashjob_poll(req, &p->f.hj) == KORE_RESULT_RETRY)
		return (HTTP_STATE_RETRY);
	pc_factor_decide(&p->f);
	if (p->f.reason != NULL)
		return (pc_prove_failed(req, p));
	if (p->mode == PC_PROVE_PASSWORD && !p->f.hj.out.hashed)
		fatal("argon2id hashing failed");
	pc_prove_finish_query(p, pc_req_get(req));
	req->fsm_state = PC_PROVE_FINISH;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_prove_finish(struct http_request *req)
{
	struct pc_prove		*p = pc_prove_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &p->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (pc_prove_answer(req, p, pc_req_get(req)))
		return (HTTP_STATE_COMPLETE);
	/* The step was used already: a replay. */
	p->f.reason = "totp_replay";
	return (pc_prove_failed(req, p));
}

static int
pc_prove_fail(struct http_request *req)
{
	struct pc_prove		*p = pc_prove_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &p->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	return (pc_factor_answer_fail(req, &p->f,
	    p->mode == PC_PROVE_PASSWORD ? "password-change" : "reauth",
	    pc_factor_denied_msg));
}

static int
pc_prove_run(struct http_request *req, enum pc_prove_mode mode)
{
	pc_prove_state(req)->mode = mode;
	return (http_state_run(pc_prove_steps, PC_PROVE_NSTEPS, req));
}

int
pc_h_password(struct http_request *req)
{
	return (pc_prove_run(req, PC_PROVE_PASSWORD));
}

int
pc_h_reauth(struct http_request *req)
{
	return (pc_prove_run(req, PC_PROVE_REAUTH));
}
