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
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "db.h"
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
};

struct pc_prove {
	enum pc_prove_step	step;
	enum pc_prove_mode	mode;
	struct pc_dbq		q;
	struct pc_hashjob	hj;
	struct pc_failq		fq;

	char			password[PC_HASH_PASS_MAX + 1];
	size_t			password_len;
	char			new_password[PC_HASH_PASS_MAX + 1];
	size_t			new_len;
	char			otp[17];

	int			exists;
	char			user_id[24];
	char			attempt[24];	/* its number; "" if not counted */
	char			canon[128];
	char			hash[PC_PASSWORD_HASH_MAX];
	char			totp_state[16];
	uint8_t			sealed[128];
	size_t			sealed_len;
	char			retry_after[24];
	char			step_str[24];
	const char		*reason;

	/* The session's next token, raw and as a bytea parameter. */
	uint8_t			new_token[PC_TOKEN_LEN];
	char			new_tok[PC_BYTEA_TEXT(PC_TOKEN_LEN)];
};

static void	pc_prove_free(void *);
static int	pc_prove(struct http_request *, enum pc_prove_mode);
static int	pc_prove_parse(struct http_request *, struct pc_prove *);
static void	pc_prove_lookup(struct pc_prove *, struct pc_req *);
static int	pc_prove_looked_up(struct http_request *, struct pc_prove *);
static void	pc_prove_finish(struct pc_prove *, struct pc_req *);
static int	pc_prove_answer(struct http_request *, struct pc_prove *,
		    struct pc_req *);

static void
pc_prove_free(void *arg)
{
	struct pc_prove		*p = arg;

	pc_dbq_cleanup(&p->q);
	pc_hashjob_release(&p->hj);
	pc_wipe(&p->hj.out, sizeof(p->hj.out));
	pc_wipe(p->password, sizeof(p->password));
	pc_wipe(p->new_password, sizeof(p->new_password));
	pc_wipe(p->otp, sizeof(p->otp));
	pc_wipe(p->sealed, sizeof(p->sealed));
	pc_wipe(p->new_token, sizeof(p->new_token));
	pc_wipe(p->new_tok, sizeof(p->new_tok));
}

/* The fields each mode needs, all strings; copies wiped in the tree. */
static int
pc_prove_parse(struct http_request *req, struct pc_prove *p)
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

	if ((p->password_len = pwlen) > PC_HASH_PASS_MAX)
		goto out;
	memcpy(p->password, pw, p->password_len + 1);
	(void)kore_strlcpy(p->otp, o, sizeof(p->otp));
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
pc_prove_lookup(struct pc_prove *p, struct pc_req *r)
{
	/* The same lock and block state login sees, and the attempt
	 * counted before its hash as a login's is (migration 022). */
	pc_dbq_init(&p->q, PC_DB_AUTH,
	    "SELECT user_id, username, password_hash, totp_state, "
	    "totp_secret, disabled, locked, source_blocked, "
	    "coalesce(extract(epoch FROM source_blocked_until)::bigint, 0), "
	    "attempt FROM auth.own_factors_reserve($1::bytea, $2::inet, "
	    "$3::int, $4::int, $5::int, $6::jsonb)");
	pc_dbq_param(&p->q, r->tok, strlen(r->tok));
	pc_dbq_param(&p->q, r->source, strlen(r->source));
	pc_auth_lockparams(&p->fq);
	pc_auth_srcparams(&p->fq, r->source);
	pc_dbq_param(&p->q, p->fq.thr, strlen(p->fq.thr));
	pc_dbq_param(&p->q, p->fq.lock, strlen(p->fq.lock));
	pc_dbq_param(&p->q, p->fq.lmax, strlen(p->fq.lmax));
	pc_dbq_param(&p->q, p->fq.src, strlen(p->fq.src));
}

/* Decide what the lookup allows; 1 to go on hashing, 0 if answered. */
static int
pc_prove_looked_up(struct http_request *req, struct pc_prove *p)
{
	PGresult	*res;
	size_t		n;
	int64_t		until;

	res = p->q.result;
	if (PQntuples(res) != 1) {
		/* own_factors: the account is gone or disabled. */
		pc_http_error(req, 401, "unauthenticated", "Sign in first.");
		return (0);
	}
	p->exists = !PQgetisnull(res, 0, 0);
	(void)kore_strlcpy(p->attempt, PQgetvalue(res, 0, 9),
	    sizeof(p->attempt));
	if (p->exists) {
		(void)kore_strlcpy(p->user_id, PQgetvalue(res, 0, 0),
		    sizeof(p->user_id));
		(void)kore_strlcpy(p->canon, PQgetvalue(res, 0, 1),
		    sizeof(p->canon));
		(void)kore_strlcpy(p->hash, PQgetvalue(res, 0, 2),
		    sizeof(p->hash));
		(void)kore_strlcpy(p->totp_state, PQgetvalue(res, 0, 3),
		    sizeof(p->totp_state));
		if (!PQgetisnull(res, 0, 4) && pc_bytea_decode(PQgetvalue(res,
		    0, 4), p->sealed, sizeof(p->sealed), &n) == 0)
			p->sealed_len = n;
		if (PQgetvalue(res, 0, 5)[0] == 't')
			p->reason = "disabled";
	}
	if (PQgetvalue(res, 0, 7)[0] == 't') {
		until = strtoll(PQgetvalue(res, 0, 8), NULL, 10) -
		    (int64_t)time(NULL);
		(void)snprintf(p->retry_after, sizeof(p->retry_after),
		    "%" PRId64, until > 1 ? until : 1);
		p->reason = "source_blocked";
		return (1);
	}
	if (p->exists && PQgetvalue(res, 0, 6)[0] == 't')
		p->reason = "locked";
	return (1);
}

static void
pc_prove_finish(struct pc_prove *p, struct pc_req *r)
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
		pc_dbq_param(&p->q, p->step_str, strlen(p->step_str));
		pc_dbq_param(&p->q, p->hj.out.new_hash,
		    strlen(p->hj.out.new_hash));
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
		pc_dbq_param(&p->q, p->step_str, strlen(p->step_str));
		pc_dbq_param(&p->q, p->new_tok, strlen(p->new_tok));
		break;
	}
	pc_dbq_param(&p->q, p->user_id, strlen(p->user_id));
	pc_dbq_param(&p->q, p->attempt[0] != '\0' ? p->attempt : NULL,
	    strlen(p->attempt));
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
pc_prove(struct http_request *req, enum pc_prove_mode mode)
{
	struct pc_req			*r;
	struct pc_prove			*p;
	enum pc_password_verdict	v;
	int64_t				step;
	int				totp_ok, rv;

	r = pc_req_get(req);
	p = pc_req_handler_state(req, sizeof(*p), pc_prove_free);

	for (;;) {
		switch (p->step) {
		case PC_PROVE_PARSE:
			p->mode = mode;
			if (!pc_prove_parse(req, p)) {
				pc_http_error(req, 400, "invalid_request",
				    "Send the fields as a JSON object.");
				return (KORE_RESULT_OK);
			}
			if (mode == PC_PROVE_PASSWORD) {
				v = pc_password_check(p->new_password,
				    p->new_len, r->s.username);
				if (v != PC_PASSWORD_OK) {
					pc_http_error_reason(req, 400,
					    "password_rejected",
					    "The new password does not meet "
					    "the policy.",
					    pc_password_verdict_code(v));
					return (KORE_RESULT_OK);
				}
			}
			p->step = PC_PROVE_SLOT;
			continue;

		case PC_PROVE_SLOT:
			/* The hashing slot first, as at login: an attempt is
			 * counted only once its hash can run. */
			switch (pc_hashjob_wait(req, &p->hj, r->source)) {
			case KORE_RESULT_RETRY:
				return (KORE_RESULT_RETRY);
			case KORE_RESULT_ERROR:
				return (KORE_RESULT_OK);
			}
			pc_prove_lookup(p, r);
			p->step = PC_PROVE_LOOKUP;
			continue;

		case PC_PROVE_LOOKUP:
			if (!pc_dbq_ready(req, &p->q, &rv))
				return (rv);
			if (!pc_prove_looked_up(req, p))
				return (KORE_RESULT_OK);
			if (p->reason != NULL &&
			    (strcmp(p->reason, "locked") == 0 ||
			    strcmp(p->reason, "source_blocked") == 0)) {
				/* No argon2 work for these. */
				p->step = PC_PROVE_FAIL;
				pc_auth_failq(&p->q, &p->fq, p->exists ?
				    p->user_id : NULL, p->exists ? p->canon :
				    r->s.username, r->source, p->reason, p->attempt);
				continue;
			}
			if (pc_hashjob_start(req, &p->hj, p->exists ? p->hash :
			    NULL, p->password, p->password_len,
			    mode == PC_PROVE_PASSWORD ? p->new_password : NULL,
			    p->new_len) != KORE_RESULT_OK)
				return (KORE_RESULT_OK);
			pc_wipe(p->password, sizeof(p->password));
			pc_wipe(p->new_password, sizeof(p->new_password));
			p->step = PC_PROVE_HASH;
			return (KORE_RESULT_RETRY);

		case PC_PROVE_HASH:
			if (pc_hashjob_poll(req, &p->hj) == KORE_RESULT_RETRY)
				return (KORE_RESULT_RETRY);
			totp_ok = 0;
			step = 0;
			if (p->exists && p->sealed_len > 0)
				totp_ok = pc_auth_totp(p->user_id, p->sealed,
				    p->sealed_len, p->otp, &step);
			pc_wipe(p->otp, sizeof(p->otp));
			(void)snprintf(p->step_str, sizeof(p->step_str),
			    "%" PRId64, step);

			if (p->reason == NULL) {
				if (!p->exists)
					p->reason = "unknown_user";
				else if (!p->hj.out.match)
					p->reason = "bad_password";
				else if (strcmp(p->totp_state, "enrolled") != 0)
					p->reason = "not_enrolled";
				else if (!totp_ok)
					p->reason = "bad_totp";
				else if (mode == PC_PROVE_PASSWORD &&
				    !p->hj.out.hashed)
					fatal("argon2id hashing failed");
			}
			if (p->reason != NULL) {
				p->step = PC_PROVE_FAIL;
				pc_auth_failq(&p->q, &p->fq, p->exists ?
				    p->user_id : NULL, p->exists ? p->canon :
				    r->s.username, r->source, p->reason, p->attempt);
				continue;
			}
			pc_prove_finish(p, r);
			p->step = PC_PROVE_FINISH;
			continue;

		case PC_PROVE_FINISH:
			if (!pc_dbq_ready(req, &p->q, &rv))
				return (rv);
			if (pc_prove_answer(req, p, r))
				return (KORE_RESULT_OK);
			/* The step was used already: a replay. */
			p->reason = "totp_replay";
			p->step = PC_PROVE_FAIL;
			pc_auth_failq(&p->q, &p->fq, p->user_id, p->canon,
			    r->source, p->reason, p->attempt);
			continue;

		case PC_PROVE_FAIL:
			if (!pc_dbq_ready(req, &p->q, &rv))
				return (rv);
			kore_log(LOG_NOTICE, "%s: failure reason=%s source=%s",
			    mode == PC_PROVE_PASSWORD ? "password-change" :
			    "reauth", p->reason, r->source);
			if (strcmp(p->reason, "source_blocked") == 0) {
				http_response_header(req, "retry-after",
				    p->retry_after);
				pc_http_error(req, 429, "rate_limited",
				    "Too many failed sign-ins from this "
				    "address; try again later.");
				return (KORE_RESULT_OK);
			}
			pc_http_error(req, 401, "invalid_credentials",
			    pc_login_denied_msg);
			return (KORE_RESULT_OK);
		}
	}
}

int
pc_h_password(struct http_request *req)
{
	return (pc_prove(req, PC_PROVE_PASSWORD));
}

int
pc_h_reauth(struct http_request *req)
{
	return (pc_prove(req, PC_PROVE_REAUTH));
}
