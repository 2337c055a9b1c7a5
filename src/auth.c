/*
 * auth.c: POST /api/login, POST /api/logout, GET /api/me.
 *
 * Login checks both factors before any session exists, and every
 * credential failure gets the same answer. The steps:
 *   PARSE   JSON body; outside the allowed hours: audit, 403
 *   BEGIN   auth.login_reserve(): the account and the source's state (an
 *           unknown name's by its tag, nametag.c), the attempt counted
 *           before its hash so parallel ones check at most the
 *           lockout threshold's passwords
 *   HASH    argon2id in a Kore task (never on the event loop), bounded
 *           per worker; a dummy hash for unknown users
 *   DECIDE  TOTP (liboath) against the unsealed secret
 *   FINISH  auth.login_succeeded() (consumes the TOTP step, opens the
 *           session; attempt_settled() ends the counted attempt) or
 *           auth.attempt_failed() (records, locks, blocks, alerts), each
 *           in one transaction
 * Locked accounts and blocked sources cost no argon2 work.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/tasks.h>

#include "app.h"
#include "auth.h"
#include "cardguard.h"
#include "db.h"
#include "hashjob.h"
#include "http_util.h"
#include "jsonw.h"
#include "password.h"
#include "request.h"
#include "routes.h"
#include "totp.h"
#include "wipe.h"

#define PC_LOGIN_USER_MAX	256
#define PC_LOGIN_OTP_MAX	16

enum pc_login_step {
	PC_LOGIN_PARSE = 0,
	PC_LOGIN_OUTSIDE,
	PC_LOGIN_SLOT,
	PC_LOGIN_BEGIN,
	PC_LOGIN_HASH,
	PC_LOGIN_SUCCEED,
	PC_LOGIN_REHASH,
	PC_LOGIN_REHASHED,
	PC_LOGIN_FAIL,
};

struct pc_login {
	enum pc_login_step	step;
	struct pc_dbq		q;
	struct pc_hashjob	hj;

	char			username[PC_LOGIN_USER_MAX + 1];
	char			password[PC_HASH_PASS_MAX + 1];
	size_t			password_len;
	char			otp[PC_LOGIN_OTP_MAX + 1];

	const char		*source;	/* lives in struct pc_req */

	/* From auth.login_reserve(). */
	int			exists;
	char			nametag[PC_NAMETAG_MAX]; /* if unknown */
	char			user_id[24];
	char			attempt[24];	/* its number; "" if not counted */
	char			canon[PC_LOGIN_USER_MAX + 1];
	char			display_name[256];
	char			role[16];
	char			hash[PC_PASSWORD_HASH_MAX];
	int			enrolled;
	uint8_t			sealed[128];
	size_t			sealed_len;
	int			disabled;

	/* Outcome. */
	const char		*reason;
	char			step_str[24];
	uint8_t			token[PC_TOKEN_LEN];
	char			tok[PC_BYTEA_TEXT(PC_TOKEN_LEN)];
	char			idle[16], abs_until[24];
	struct pc_failq		fq;
	struct pc_session	sess;
	char			new_hash[PC_PASSWORD_HASH_MAX];
	char			retry_after[24];
};

static void	pc_login_free(void *);
static int	pc_login_parse(struct http_request *, struct pc_login *);
static void	pc_login_decide(struct pc_login *);
static void	pc_login_fail_query(struct pc_login *);
static void	pc_login_succeed_query(struct pc_login *);
static int	pc_login_answer_ok(struct http_request *, struct pc_login *);
static void	pc_login_keep_session(struct pc_login *);
static void	pc_answer_me(struct http_request *, struct pc_session *);
static int	pc_auth_source_exempt(const char *);
static void	pc_login_reserve_query(struct pc_login *);

const char pc_login_denied_msg[] =
    "The username, password or one-time code is not correct.";

static void
pc_login_free(void *arg)
{
	struct pc_login		*l = arg;

	pc_dbq_cleanup(&l->q);
	pc_hashjob_release(&l->hj);
	pc_wipe(&l->hj.out, sizeof(l->hj.out));
	pc_wipe(l->password, sizeof(l->password));
	pc_wipe(l->otp, sizeof(l->otp));
	pc_wipe(l->sealed, sizeof(l->sealed));
	pc_wipe(l->token, sizeof(l->token));
	pc_wipe(l->tok, sizeof(l->tok));
}

/*
 * Strict shape: an object with string username, password and otp.
 * 1, 0 when malformed, -1 when the username holds a card number.
 */
static int
pc_login_parse(struct http_request *req, struct pc_login *l)
{
	struct pc_jsonin	json;
	const char		*u, *p, *o;
	uint8_t			body[2048];
	size_t			len;
	int			ok;

	ok = 0;
	if (pc_req_json(req, &json, body, sizeof(body)) &&
	    (u = pc_jsonin_string(&json, "username", NULL)) != NULL &&
	    (p = pc_jsonin_string(&json, "password", &len)) != NULL &&
	    (o = pc_jsonin_string(&json, "otp", NULL)) != NULL) {
		ok = 1;
		if (kore_strlcpy(l->username, u, sizeof(l->username)) >=
		    sizeof(l->username) || l->username[0] == '\0')
			ok = 0;
		/* A pasted card number never reaches the audit trail. */
		else if (pc_cardguard_find(l->username, strlen(l->username)))
			ok = -1;
		if (len > PC_HASH_PASS_MAX) {
			ok = 0;
		} else {
			memcpy(l->password, p, len + 1);
			l->password_len = len;
		}
		/* A malformed code is a wrong code, not a bad request. */
		(void)kore_strlcpy(l->otp, o, sizeof(l->otp));
	}
	pc_req_json_done(req, &json, body, sizeof(body));
	if (ok != 1)
		pc_wipe(l->username, sizeof(l->username));
	return (ok);
}

/*
 * Check a code against a user's sealed TOTP secret. Returns 1 and the
 * matched step, or 0. The secret exists in memory only here.
 */
int
pc_auth_totp(const char *user_id, const uint8_t *sealed, size_t len,
    const char *otp, int64_t *step)
{
	uint8_t		secret[64];
	char		ad[48];
	int		slen, ok;

	ok = 0;
	(void)snprintf(ad, sizeof(ad), "totp:%s", user_id);
	slen = pc_secretbox_open(&pc_kek, (const uint8_t *)ad, strlen(ad),
	    sealed, len, secret, sizeof(secret));
	if (slen > 0) {
		ok = pc_totp_verify(secret, (size_t)slen, (int64_t)time(NULL),
		    otp, strlen(otp), step) == 0;
	} else {
		kore_log(LOG_ERR, "TOTP secret of user %s cannot be unsealed",
		    user_id);
	}
	pc_wipe(secret, sizeof(secret));
	return (ok);
}

/* Both factors, evaluated for every attempt; the first failure wins. */
static void
pc_login_decide(struct pc_login *l)
{
	int		totp_ok;
	int64_t		step;

	totp_ok = 0;
	step = 0;
	if (l->exists && l->enrolled && l->sealed_len > 0)
		totp_ok = pc_auth_totp(l->user_id, l->sealed, l->sealed_len,
		    l->otp, &step);
	pc_wipe(l->otp, sizeof(l->otp));

	if (!l->exists)
		l->reason = "unknown_user";
	else if (l->disabled)
		l->reason = "disabled";
	else if (!l->hj.out.match)
		l->reason = "bad_password";
	else if (!l->enrolled)
		l->reason = "not_enrolled";
	else if (!totp_ok)
		l->reason = "bad_totp";
	else
		l->reason = NULL;

	(void)snprintf(l->step_str, sizeof(l->step_str), "%" PRId64, step);
}

/* The policy's lockout threshold, length and cap, as query text. */
void
pc_auth_lockparams(struct pc_failq *f)
{
	(void)snprintf(f->thr, sizeof(f->thr), "%u",
	    pc_policy.lockout_threshold);
	(void)snprintf(f->lock, sizeof(f->lock), "%u",
	    pc_policy.lockout_seconds);
	(void)snprintf(f->lmax, sizeof(f->lmax), "%u",
	    pc_policy.lockout_max_seconds);
}

/*
 * What a failure costs its source, as query text and as the JSON an
 * attempt counted before its hash keeps until it ends (022's
 * attempts_open: an abandoned attempt still costs its source).
 */
void
pc_auth_srcparams(struct pc_failq *f, const char *source)
{
	f->exempt = pc_auth_source_exempt(source);
	(void)snprintf(f->sthr, sizeof(f->sthr), "%u",
	    pc_policy.source_fail_threshold);
	(void)snprintf(f->swin, sizeof(f->swin), "%u",
	    pc_policy.source_fail_window);
	(void)snprintf(f->sblk, sizeof(f->sblk), "%u",
	    pc_policy.source_block_seconds);
	(void)snprintf(f->src, sizeof(f->src), "{\"threshold\":%u,"
	    "\"window\":%u,\"block\":%u,\"exempt\":%s}",
	    pc_policy.source_fail_threshold, pc_policy.source_fail_window,
	    pc_policy.source_block_seconds, f->exempt ? "true" : "false");
}

/*
 * The failure query every login-like step shares. With an attempt (a
 * login or re-authentication counted before its hash: attempt is its
 * number, "" when it was not counted), auth.attempt_failed(); without
 * (first sign-in), auth.login_failed(), which counts now. Both record,
 * lock, block and alert by the same steps (migration 022).
 */
void
pc_auth_failq(struct pc_dbq *q, struct pc_failq *f, const char *user_id,
    const char *name, const char *source, const char *reason,
    const char *attempt)
{
	/* A name that matches no account is recorded as its tag only. */
	if (user_id == NULL) {
		pc_auth_tag(name, f->tag);
		name = f->tag;
	}

	pc_dbq_cleanup(q);
	/* Unknown names lock too, so a fast answer reveals nothing. A
	 * login counted and numbered its attempt before the hash
	 * (login_reserve()); attempt_failed() decides from that number. */
	if (attempt != NULL) {
		pc_dbq_init(q, PC_DB_AUTH, "SELECT auth.attempt_failed("
		    "$12::bigint, $1::bigint, $2, $3::inet, $4, $5::int, "
		    "$6::int, $7::int, $8::int, $9::int, $10::int, "
		    "$11::boolean)");
	} else
		pc_dbq_init(q, PC_DB_AUTH,
		    "SELECT auth.login_failed($1::bigint, $2, $3::inet, $4, "
		    "$5::int, $6::int, $7::int, $8::int, $9::int, $10::int, "
		    "$11::boolean), "
		    "CASE WHEN $1::bigint IS NULL AND $4 NOT IN ('locked', "
		    "'source_blocked') THEN auth.name_failed($2, $5::int, "
		    "$6::int, $7::int) END");
	pc_auth_lockparams(f);
	pc_auth_srcparams(f, source);

	pc_dbq_param(q, user_id, user_id != NULL ? strlen(user_id) : 0);
	pc_dbq_param(q, name, strlen(name));
	pc_dbq_param(q, source, strlen(source));
	pc_dbq_param(q, reason, strlen(reason));
	pc_dbq_param(q, f->thr, strlen(f->thr));
	pc_dbq_param(q, f->lock, strlen(f->lock));
	pc_dbq_param(q, f->lmax, strlen(f->lmax));
	pc_dbq_param(q, f->sthr, strlen(f->sthr));
	pc_dbq_param(q, f->swin, strlen(f->swin));
	pc_dbq_param(q, f->sblk, strlen(f->sblk));
	pc_dbq_param(q, f->exempt ? "true" : "false", f->exempt ? 4 : 5);
	if (attempt != NULL)
		pc_dbq_param(q, attempt[0] != '\0' ? attempt : NULL,
		    strlen(attempt));
}

/*
 * A typed name's tag, as it is recorded and locked if it matches no
 * account (nametag.c); "unknown:-" if it cannot be made.
 */
void
pc_auth_tag(const char *name, char out[PC_NAMETAG_MAX])
{
	if (pc_nametag(&pc_kek, name, strlen(name), out) == -1)
		(void)snprintf(out, PC_NAMETAG_MAX, "unknown:-");
}

/*
 * The account (or the unknown name's tag) and the source, with the
 * attempt counted before its hash under the lock row, so parallel
 * attempts check at most lockout_threshold passwords (migration 022).
 */
static void
pc_login_reserve_query(struct pc_login *l)
{
	pc_dbq_init(&l->q, PC_DB_AUTH,
	    "SELECT user_id, username, display_name, role, "
	    "password_hash, totp_state, totp_secret, disabled, "
	    "locked, source_blocked, "
	    "coalesce(extract(epoch FROM source_blocked_until)::bigint, 0), "
	    "attempt FROM auth.login_reserve($1, $2::inet, $3, $4::int, "
	    "$5::int, $6::int, $7::jsonb)");
	pc_dbq_param(&l->q, l->username, strlen(l->username));
	pc_dbq_param(&l->q, l->source, strlen(l->source));
	pc_auth_tag(l->username, l->nametag);
	pc_dbq_param(&l->q, l->nametag, strlen(l->nametag));
	pc_auth_lockparams(&l->fq);
	pc_auth_srcparams(&l->fq, l->source);
	pc_dbq_param(&l->q, l->fq.thr, strlen(l->fq.thr));
	pc_dbq_param(&l->q, l->fq.lock, strlen(l->fq.lock));
	pc_dbq_param(&l->q, l->fq.lmax, strlen(l->fq.lmax));
	pc_dbq_param(&l->q, l->fq.src, strlen(l->fq.src));
	l->step = PC_LOGIN_BEGIN;
}

/* Is source (text, as the request's) in the policy's source_fail_exempt? */
static int
pc_auth_source_exempt(const char *source)
{
	struct pc_cidr	one;

	if (pc_policy.source_fail_exempt_count == 0 ||
	    pc_cidr_parse(&one, source) == -1)
		return (0);
	return (pc_cidr_list_match(pc_policy.source_fail_exempt,
	    pc_policy.source_fail_exempt_count, one.family, one.addr));
}

static void
pc_login_fail_query(struct pc_login *l)
{
	pc_auth_failq(&l->q, &l->fq, l->exists ? l->user_id : NULL,
	    l->exists ? l->canon : l->username, l->source, l->reason,
	    l->attempt);
	l->step = PC_LOGIN_FAIL;
}

static void
pc_login_succeed_query(struct pc_login *l)
{
	int64_t		now, end, abs_until;

	now = (int64_t)time(NULL);
	(void)pc_req_in_hours(&end);
	abs_until = now + pc_policy.session_absolute_seconds;
	/* No session outlives the allowed hours. */
	if (end > now && end < abs_until)
		abs_until = end;

	if (pc_token_new(l->token) == -1)
		fatal("RAND_bytes failed");
	/* The database stores only its hash, which it computes itself. */
	if (pc_bytea_encode(l->token, sizeof(l->token), l->tok,
	    sizeof(l->tok)) == -1)
		fatal("token parameter buffer too small");
	(void)snprintf(l->idle, sizeof(l->idle), "%u",
	    pc_policy.session_idle_seconds);
	(void)snprintf(l->abs_until, sizeof(l->abs_until), "%" PRId64,
	    abs_until);

	pc_dbq_cleanup(&l->q);
	/* The attempt ends with the session (attempt_settled() after
	 * login_succeeded(): it takes the outcome). */
	pc_dbq_init(&l->q, PC_DB_AUTH,
	    "WITH s AS (SELECT * FROM auth.login_succeeded($1::bigint, "
	    "$2::inet, $3::bigint, $4::bytea, $5::int, "
	    "to_timestamp($6::bigint))) "
	    "SELECT outcome, session_id, "
	    "extract(epoch FROM idle_expires_at)::bigint, "
	    "extract(epoch FROM absolute_expires_at)::bigint, "
	    "must_change_password, "
	    "auth.attempt_settled($1::bigint, $7::bigint, outcome = 'ok') "
	    "FROM s");
	pc_dbq_param(&l->q, l->user_id, strlen(l->user_id));
	pc_dbq_param(&l->q, l->source, strlen(l->source));
	pc_dbq_param(&l->q, l->step_str, strlen(l->step_str));
	pc_dbq_param(&l->q, l->tok, strlen(l->tok));
	pc_dbq_param(&l->q, l->idle, strlen(l->idle));
	pc_dbq_param(&l->q, l->abs_until, strlen(l->abs_until));
	pc_dbq_param(&l->q, l->attempt[0] != '\0' ? l->attempt : NULL,
	    strlen(l->attempt));
	l->step = PC_LOGIN_SUCCEED;
}

/* Keep what login_succeeded() returned: the query slot is reused. */
static void
pc_login_keep_session(struct pc_login *l)
{
	PGresult	*res;

	res = l->q.result;
	memset(&l->sess, 0, sizeof(l->sess));
	l->sess.user_id = strtoll(l->user_id, NULL, 10);
	(void)kore_strlcpy(l->sess.username, l->canon,
	    sizeof(l->sess.username));
	(void)kore_strlcpy(l->sess.display_name, l->display_name,
	    sizeof(l->sess.display_name));
	(void)kore_strlcpy(l->sess.role, l->role, sizeof(l->sess.role));
	l->sess.session_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	l->sess.idle_expires_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	l->sess.absolute_expires_at = strtoll(PQgetvalue(res, 0, 3), NULL,
	    10);
	l->sess.must_change_password = PQgetvalue(res, 0, 4)[0] == 't';
	memcpy(l->sess.token, l->token, sizeof(l->sess.token));
}

/*
 * The session cookie for a token, living until the session's absolute
 * end: at login, and for the new token of a password change or a
 * re-authentication (selfsvc.c), with the same attributes each time.
 */
void
pc_auth_session_cookie(struct http_request *req, const uint8_t *token,
    int64_t absolute_expires_at)
{
	char			cookie[160];

	if (pc_cookie_format(token, (long)(absolute_expires_at -
	    (int64_t)time(NULL)), cookie, sizeof(cookie)) == -1)
		fatal("cookie buffer too small");
	http_response_header(req, "set-cookie", cookie);
	pc_wipe(cookie, sizeof(cookie));
}

static int
pc_login_answer_ok(struct http_request *req, struct pc_login *l)
{
	pc_auth_session_cookie(req, l->token, l->sess.absolute_expires_at);

	kore_log(LOG_NOTICE, "login: success user=%s source=%s", l->canon,
	    l->source);
	pc_answer_me(req, &l->sess);
	pc_wipe(&l->sess, sizeof(l->sess));
	pc_wipe(l->password, sizeof(l->password));

	return (KORE_RESULT_OK);
}

int
pc_h_login(struct http_request *req)
{
	struct pc_login		*l;
	struct pc_req		*r;
	struct pc_argon2_params	prm;
	PGresult		*res;
	size_t			n;
	int64_t			until;
	const char		*origin;
	char			want[300];
	int			rv;

	r = pc_req_get(req);
	l = pc_req_handler_state(req, sizeof(*l), pc_login_free);
	l->source = r->source;

	for (;;) {
		switch (l->step) {
		case PC_LOGIN_PARSE:
			/* A browser always sends Origin; it must be ours. */
			if (http_request_header(req, "origin", &origin)) {
				(void)snprintf(want, sizeof(want),
				    "https://%s", req->host);
				if (strcmp(origin, want) != 0) {
					pc_http_error(req, 403, "csrf_failed",
					    "The request did not come from "
					    "this console.");
					return (KORE_RESULT_OK);
				}
			}
			switch (pc_login_parse(req, l)) {
			case 1:
				break;
			case -1:
				/* Nothing recorded: the name is a card. */
				pc_req_card_refused(req);
				return (KORE_RESULT_OK);
			default:
				pc_http_error(req, 400, "invalid_request",
				    "Send username, password and otp as a "
				    "JSON object.");
				return (KORE_RESULT_OK);
			}
			if (!pc_req_in_hours(NULL)) {
				pc_wipe(l->password, sizeof(l->password));
				pc_dbq_init(&l->q, PC_DB_AUTH,
				    "SELECT auth.outside_hours($1, $2::inet, $3)");
				pc_dbq_param(&l->q, l->username,
				    strlen(l->username));
				pc_dbq_param(&l->q, l->source,
				    strlen(l->source));
				pc_auth_tag(l->username, l->nametag);
				pc_dbq_param(&l->q, l->nametag,
				    strlen(l->nametag));
				l->step = PC_LOGIN_OUTSIDE;
				continue;
			}
			l->step = PC_LOGIN_SLOT;
			continue;

		case PC_LOGIN_SLOT:
			/* The hashing slot first: a turned-away attempt costs
			 * the database nothing. */
			switch (pc_hashjob_wait(req, &l->hj, l->source)) {
			case KORE_RESULT_RETRY:
				return (KORE_RESULT_RETRY);
			case KORE_RESULT_ERROR:
				pc_wipe(l->password, sizeof(l->password));
				return (KORE_RESULT_OK);
			}
			pc_login_reserve_query(l);
			continue;

		case PC_LOGIN_OUTSIDE:
			switch (pc_dbq_step(req, &l->q)) {
			case PC_DB_RETRY:
				return (KORE_RESULT_RETRY);
			default:
				break;
			}
			kore_log(LOG_WARNING, "login: outside the allowed "
			    "hours, source=%s", l->source);
			pc_http_error(req, 403, "outside_hours",
			    "The console is closed at this hour.");
			return (KORE_RESULT_OK);

		case PC_LOGIN_BEGIN:
			if (!pc_dbq_ready(req, &l->q, &rv))
				return (rv);
			res = l->q.result;
			if (PQntuples(res) != 1) {
				pc_http_error(req, 503, "unavailable",
				    "The service is temporarily unavailable.");
				return (KORE_RESULT_OK);
			}
			l->exists = !PQgetisnull(res, 0, 0);
			(void)kore_strlcpy(l->attempt, PQgetvalue(res, 0, 11),
			    sizeof(l->attempt));
			if (l->exists) {
				(void)kore_strlcpy(l->user_id,
				    PQgetvalue(res, 0, 0), sizeof(l->user_id));
				(void)kore_strlcpy(l->canon,
				    PQgetvalue(res, 0, 1), sizeof(l->canon));
				(void)kore_strlcpy(l->display_name,
				    PQgetvalue(res, 0, 2),
				    sizeof(l->display_name));
				(void)kore_strlcpy(l->role,
				    PQgetvalue(res, 0, 3), sizeof(l->role));
				(void)kore_strlcpy(l->hash,
				    PQgetvalue(res, 0, 4), sizeof(l->hash));
				l->enrolled = strcmp(PQgetvalue(res, 0, 5),
				    "enrolled") == 0;
				if (!PQgetisnull(res, 0, 6) &&
				    pc_bytea_decode(PQgetvalue(res, 0, 6), l->sealed,
				    sizeof(l->sealed), &n) == 0)
					l->sealed_len = n;
				l->disabled = PQgetvalue(res, 0, 7)[0] == 't';
			}
			if (PQgetvalue(res, 0, 9)[0] == 't') {
				/* Not about the account: say so. */
				until = strtoll(PQgetvalue(res, 0, 10),
				    NULL, 10) - (int64_t)time(NULL);
				(void)snprintf(l->retry_after,
				    sizeof(l->retry_after), "%" PRId64,
				    until > 1 ? until : 1);
				l->reason = "source_blocked";
				pc_login_fail_query(l);
				continue;
			}
			if (PQgetvalue(res, 0, 8)[0] == 't') {
				l->reason = "locked";
				pc_login_fail_query(l);
				continue;
			}
			if (pc_hashjob_start(req, &l->hj, l->exists ?
			    l->hash : NULL, l->password, l->password_len,
			    NULL, 0) != KORE_RESULT_OK) {
				pc_wipe(l->password, sizeof(l->password));
				return (KORE_RESULT_OK);
			}
			/* Kept (wiped at the end) in case a rehash is due. */
			l->step = PC_LOGIN_HASH;
			return (KORE_RESULT_RETRY);

		case PC_LOGIN_HASH:
			if (pc_hashjob_poll(req, &l->hj) == KORE_RESULT_RETRY)
				return (KORE_RESULT_RETRY);
			pc_login_decide(l);
			if (l->reason != NULL)
				pc_login_fail_query(l);
			else
				pc_login_succeed_query(l);
			continue;

		case PC_LOGIN_SUCCEED:
			if (!pc_dbq_ready(req, &l->q, &rv))
				return (rv);
			res = l->q.result;
			if (PQntuples(res) == 1 &&
			    strcmp(PQgetvalue(res, 0, 0), "ok") == 0) {
				pc_login_keep_session(l);
				prm.t = pc_policy.argon2_t;
				prm.m_kib = pc_policy.argon2_m_kib;
				prm.p = pc_policy.argon2_p;
				/* The session exists: a busy server skips the
				 * rehash (next login) rather than answer 429. */
				if (!pc_password_needs_rehash(l->hash, &prm) ||
				    !pc_hashjob_slot_free())
					return (pc_login_answer_ok(req, l));
				/* Both factors passed: now the slow rehash. */
				if (pc_hashjob_start(req, &l->hj, NULL, NULL,
				    0, l->password, l->password_len) !=
				    KORE_RESULT_OK)
					return (KORE_RESULT_OK);
				l->step = PC_LOGIN_REHASH;
				return (KORE_RESULT_RETRY);
			}
			/* Replay, or locked/disabled while we hashed. */
			l->reason = (PQntuples(res) == 1 &&
			    strcmp(PQgetvalue(res, 0, 0), "totp_replay") == 0) ?
			    "totp_replay" : (PQntuples(res) == 1 &&
			    strcmp(PQgetvalue(res, 0, 0), "disabled") == 0) ?
			    "disabled" : "locked";
			pc_login_fail_query(l);
			continue;

		case PC_LOGIN_REHASH:
			if (pc_hashjob_poll(req, &l->hj) == KORE_RESULT_RETRY)
				return (KORE_RESULT_RETRY);
			if (!l->hj.out.hashed)
				return (pc_login_answer_ok(req, l));
			(void)kore_strlcpy(l->new_hash, l->hj.out.new_hash,
			    sizeof(l->new_hash));
			pc_dbq_cleanup(&l->q);
			/* As the session the login just opened. */
			pc_dbq_init(&l->q, PC_DB_AUTH, "SELECT auth.rehashed("
			    "$1::bytea, $2, $3::inet)");
			pc_dbq_param(&l->q, l->tok, strlen(l->tok));
			pc_dbq_param(&l->q, l->new_hash, strlen(l->new_hash));
			pc_dbq_param(&l->q, l->source, strlen(l->source));
			l->step = PC_LOGIN_REHASHED;
			continue;

		case PC_LOGIN_REHASHED:
			if (!pc_dbq_ready(req, &l->q, &rv))
				return (rv);
			return (pc_login_answer_ok(req, l));

		case PC_LOGIN_FAIL:
			if (!pc_dbq_ready(req, &l->q, &rv))
				return (rv);
			pc_wipe(l->password, sizeof(l->password));
			/* One log line per decision; the reason stays here. */
			kore_log(LOG_NOTICE, "login: failure reason=%s "
			    "source=%s", l->reason, l->source);
			if (strcmp(l->reason, "source_blocked") == 0) {
				http_response_header(req, "retry-after",
				    l->retry_after);
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

/*
 * The session as the console needs it: who, until when, CSRF token.
 * The members of the /api/me body, written into an open object; login,
 * password change and re-authentication answer with them too, so the
 * console takes a new session's CSRF token from each the same way.
 */
void
pc_auth_me_members(struct pc_jsonw *w, const struct pc_session *s)
{
	char			csrf[PC_TOKEN_B64_LEN + 1], hours[16];
	int64_t			end;

	pc_token_csrf(s->token, csrf);
	(void)pc_req_in_hours(&end);
	(void)snprintf(hours, sizeof(hours), "%02d:%02d-%02d:%02d",
	    pc_policy.hours.start_min / 60, pc_policy.hours.start_min % 60,
	    pc_policy.hours.end_min / 60, pc_policy.hours.end_min % 60);

	pc_jsonw_object_open(w, "user");
	pc_jsonw_int(w, "id", s->user_id);
	pc_jsonw_string(w, "username", s->username);
	pc_jsonw_string(w, "display_name", s->display_name);
	pc_jsonw_string(w, "role", s->role);
	pc_jsonw_object_close(w);
	pc_jsonw_bool(w, "must_change_password", s->must_change_password);
	pc_jsonw_string(w, "csrf_token", csrf);
	pc_jsonw_int(w, "idle_expires_at", s->idle_expires_at);
	pc_jsonw_int(w, "absolute_expires_at", s->absolute_expires_at);
	pc_jsonw_int(w, "window_end", end);
	pc_jsonw_string(w, "hours", hours);
	pc_jsonw_string(w, "timezone", pc_policy.timezone);
	/* Above it a refund waits for a second operator (the dialog says
	 * so before it is sent). */
	pc_jsonw_int(w, "refund_approval_threshold",
	    pc_policy.refund_approval_threshold);
	pc_wipe(csrf, sizeof(csrf));
}

static void
pc_answer_me(struct http_request *req, struct pc_session *s)
{
	struct pc_jsonw		w;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_auth_me_members(&w, s);
	pc_jsonw_object_close(&w);
	(void)pc_http_jsonw(req, 200, &w);
}

int
pc_h_me(struct http_request *req)
{
	pc_answer_me(req, &pc_req_get(req)->s);
	return (KORE_RESULT_OK);
}

struct pc_logout {
	struct pc_dbq	q;
};

static void	pc_logout_free(void *);

static void
pc_logout_free(void *arg)
{
	struct pc_logout	*lo = arg;

	pc_dbq_cleanup(&lo->q);
}

int
pc_h_logout(struct http_request *req)
{
	struct pc_req		*r;
	struct pc_logout	*lo;
	char			cookie[160];
	static const char	body[] = "{\"status\":\"logged_out\"}";
	int			rv;

	r = pc_req_get(req);
	lo = pc_req_handler_state(req, sizeof(*lo), pc_logout_free);
	if (!lo->q.inited && lo->q.db == NULL) {
		pc_dbq_init(&lo->q, PC_DB_AUTH,
		    "SELECT auth.logout($1::bytea, $2::inet)");
		pc_dbq_param(&lo->q, r->tok, strlen(r->tok));
		pc_dbq_param(&lo->q, r->source, strlen(r->source));
	}

	if (!pc_dbq_ready(req, &lo->q, &rv))
		return (rv);

	(void)pc_cookie_format(NULL, 0, cookie, sizeof(cookie));
	http_response_header(req, "set-cookie", cookie);
	pc_http_json(req, 200, body, sizeof(body) - 1);
	return (KORE_RESULT_OK);
}
