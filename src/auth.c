/*
 * auth.c: POST /api/login, POST /api/logout, GET /api/me.
 *
 * Login checks both factors before any session exists, and every
 * credential failure gets the same answer; the decision is factor.c's,
 * shared with re-authentication. The steps (pc_login_steps[], run by
 * http_state_run()):
 *   PARSE     Origin, JSON body; outside the allowed hours: OUTSIDE
 *   OUTSIDE   auth.outside_hours() records it; 403
 *   SLOT      an argon2 slot, bounded per worker; an attempt with a
 *             valid device cookie for the name it claims waits in the
 *             trusted lane (factor.c, hashjob.c, migration 024)
 *   BEGIN     auth.login_reserve(): the account and the source's state
 *             (an unknown name's by its tag, nametag.c), the attempt
 *             counted before its hash so parallel ones check at most the
 *             lockout threshold's passwords; a locked account or blocked
 *             source costs no argon2 work; else argon2id in a Kore task
 *             (never on the event loop), a dummy hash for unknown users
 *   HASH      the factors decided (pc_factor_decide())
 *   SUCCEED   auth.login_succeeded() (consumes the TOTP step, opens the
 *             session; attempt_settled() ends the counted attempt;
 *             device_signed_in() records the device used, or issues
 *             the browser a new device cookie)
 *   REHASH    a new argon2id hash if the policy's parameters changed
 *   REHASHED  auth.rehashed(), then 200 with the session
 *   FAIL      auth.attempt_failed() (records, locks, blocks, alerts) in
 *             one transaction; 401 or 429
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include "app.h"
#include "auth.h"
#include "cardguard.h"
#include "db.h"
#include "factor.h"
#include "hashjob.h"
#include "http_util.h"
#include "jsonw.h"
#include "password.h"
#include "request.h"
#include "routes.h"
#include "wipe.h"

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
	PC_LOGIN_NSTEPS
};

struct pc_login {
	struct pc_dbq		q;
	struct pc_factor	f;
	char			username[PC_FACTOR_NAME_MAX + 1];
	char			nametag[PC_NAMETAG_MAX]; /* if outside hours */

	/* The session opened. */
	uint8_t			token[PC_TOKEN_LEN];
	char			tok[PC_BYTEA_TEXT(PC_TOKEN_LEN)];
	char			idle[16], abs_until[24];
	struct pc_session	sess;
	char			new_hash[PC_PASSWORD_HASH_MAX];

	/* The device: the cookie's secret as a parameter; a new one. */
	char			dev[PC_BYTEA_TEXT(PC_DEVCOOKIE_SECRET_LEN)];
	char			dev_alert[12];
	uint8_t			new_dev[PC_DEVCOOKIE_SECRET_LEN];
	char			new_devp[PC_BYTEA_TEXT(PC_DEVCOOKIE_SECRET_LEN)];
	int64_t			dev_until;	/* the new cookie's expiry */
	char			dev_expires[24];	/* the same, as text */
	int			dev_issued;
};

static void		 pc_login_free(void *);
static struct pc_login	*pc_login_state(struct http_request *);
static int		 pc_login_body(struct http_request *,
			    struct pc_login *);
static void		 pc_login_reserve_query(struct pc_login *);
static void		 pc_login_succeed_query(struct pc_login *);
static void		 pc_login_keep_session(struct pc_login *);
static void		 pc_login_device_cookie(struct http_request *,
			    struct pc_login *);
static int		 pc_login_failed(struct http_request *,
			    struct pc_login *);
static int		 pc_login_answer_ok(struct http_request *,
			    struct pc_login *);
static int		 pc_login_parse(struct http_request *);
static int		 pc_login_outside(struct http_request *);
static int		 pc_login_slot(struct http_request *);
static int		 pc_login_begin(struct http_request *);
static int		 pc_login_hash(struct http_request *);
static int		 pc_login_succeed(struct http_request *);
static int		 pc_login_rehash(struct http_request *);
static int		 pc_login_rehashed(struct http_request *);
static int		 pc_login_fail(struct http_request *);
static void		 pc_answer_me(struct http_request *,
			    struct pc_session *);

static struct http_state pc_login_steps[PC_LOGIN_NSTEPS] = {
	[PC_LOGIN_PARSE] =	KORE_HTTP_STATE(pc_login_parse),
	[PC_LOGIN_OUTSIDE] =	KORE_HTTP_STATE(pc_login_outside),
	[PC_LOGIN_SLOT] =	KORE_HTTP_STATE(pc_login_slot),
	[PC_LOGIN_BEGIN] =	KORE_HTTP_STATE(pc_login_begin),
	[PC_LOGIN_HASH] =	KORE_HTTP_STATE(pc_login_hash),
	[PC_LOGIN_SUCCEED] =	KORE_HTTP_STATE(pc_login_succeed),
	[PC_LOGIN_REHASH] =	KORE_HTTP_STATE(pc_login_rehash),
	[PC_LOGIN_REHASHED] =	KORE_HTTP_STATE(pc_login_rehashed),
	[PC_LOGIN_FAIL] =	KORE_HTTP_STATE(pc_login_fail),
};

static void
pc_login_free(void *arg)
{
	struct pc_login		*l = arg;

	pc_dbq_cleanup(&l->q);
	pc_factor_free(&l->f);
	pc_wipe(l->token, sizeof(l->token));
	pc_wipe(l->tok, sizeof(l->tok));
	pc_wipe(&l->sess, sizeof(l->sess));
	pc_wipe(l->new_hash, sizeof(l->new_hash));
	pc_wipe(l->dev, sizeof(l->dev));
	pc_wipe(l->new_dev, sizeof(l->new_dev));
	pc_wipe(l->new_devp, sizeof(l->new_devp));
}

/* The login's state block (pc_req_handler_state()), made on first use. */
static struct pc_login *
pc_login_state(struct http_request *req)
{
	struct pc_login		*l;

	l = pc_req_handler_state(req, sizeof(*l), pc_login_free);
	l->f.source = pc_req_get(req)->source;
	return (l);
}

/*
 * Strict shape: an object with string username, password and otp.
 * 1, 0 when malformed, -1 when the username holds a card number.
 */
static int
pc_login_body(struct http_request *req, struct pc_login *l)
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
			memcpy(l->f.password, p, len + 1);
			l->f.password_len = len;
		}
		/* A malformed code is a wrong code, not a bad request. */
		(void)kore_strlcpy(l->f.code, o, sizeof(l->f.code));
	}
	pc_req_json_done(req, &json, body, sizeof(body));
	if (ok != 1)
		pc_wipe(l->username, sizeof(l->username));
	return (ok);
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
	    "coalesce(extract(epoch FROM source_blocked_until)::bigint, 0) "
	    "AS blocked_until, attempt, device_id FROM auth.login_reserve("
	    "$1, $2::inet, $3, $4::int, $5::int, $6::int, $7::jsonb, "
	    "$8::bytea, $9::int)");
	pc_dbq_param(&l->q, l->username, strlen(l->username));
	pc_dbq_param(&l->q, l->f.source, strlen(l->f.source));
	pc_factor_tag(l->username, l->f.fq.tag);
	pc_dbq_param(&l->q, l->f.fq.tag, strlen(l->f.fq.tag));
	pc_factor_reserve_params(&l->q, &l->f);
	/* The database decides whether the device is live (024). */
	if (l->f.hj.trusted && pc_bytea_encode(l->f.device,
	    sizeof(l->f.device), l->dev, sizeof(l->dev)) == -1)
		fatal("device parameter buffer too small");
	pc_dbq_param(&l->q, l->f.hj.trusted ? l->dev : NULL, strlen(l->dev));
	(void)snprintf(l->dev_alert, sizeof(l->dev_alert), "%u",
	    pc_policy.device_sources_alert);
	pc_dbq_param(&l->q, l->dev_alert, strlen(l->dev_alert));
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

	/* An untrusted success gives the browser a new device. */
	if (l->f.device_id[0] == '\0') {
		if (pc_token_new(l->new_dev) == -1)
			fatal("RAND_bytes failed");
		if (pc_bytea_encode(l->new_dev, sizeof(l->new_dev),
		    l->new_devp, sizeof(l->new_devp)) == -1)
			fatal("device parameter buffer too small");
	}
	l->dev_until = now + (int64_t)pc_policy.device_cookie_days * 86400;
	(void)snprintf(l->dev_expires, sizeof(l->dev_expires), "%" PRId64,
	    l->dev_until);

	pc_dbq_cleanup(&l->q);
	/* The attempt ends with the session (attempt_settled() and
	 * device_signed_in() after login_succeeded(): they take the
	 * outcome). */
	pc_dbq_init(&l->q, PC_DB_AUTH,
	    "WITH s AS (SELECT * FROM auth.login_succeeded($1::bigint, "
	    "$2::inet, $3::bigint, $4::bytea, $5::int, "
	    "to_timestamp($6::bigint), $8::bigint)) "
	    "SELECT outcome, session_id, "
	    "extract(epoch FROM idle_expires_at)::bigint, "
	    "extract(epoch FROM absolute_expires_at)::bigint, "
	    "must_change_password, "
	    "auth.attempt_settled($1::bigint, $7::bigint, outcome = 'ok'), "
	    "CASE WHEN outcome = 'ok' THEN auth.device_signed_in($1::bigint, "
	    "$8::bigint, $9::bytea, to_timestamp($10::bigint), $2::inet) "
	    "END FROM s");
	pc_dbq_param(&l->q, l->f.user_id, strlen(l->f.user_id));
	pc_dbq_param(&l->q, l->f.source, strlen(l->f.source));
	pc_dbq_param(&l->q, l->f.step_str, strlen(l->f.step_str));
	pc_dbq_param(&l->q, l->tok, strlen(l->tok));
	pc_dbq_param(&l->q, l->idle, strlen(l->idle));
	pc_dbq_param(&l->q, l->abs_until, strlen(l->abs_until));
	pc_dbq_param(&l->q, l->f.attempt[0] != '\0' ? l->f.attempt : NULL,
	    strlen(l->f.attempt));
	pc_dbq_param(&l->q, l->f.device_id[0] != '\0' ? l->f.device_id :
	    NULL, strlen(l->f.device_id));
	pc_dbq_param(&l->q, l->f.device_id[0] == '\0' ? l->new_devp : NULL,
	    strlen(l->new_devp));
	pc_dbq_param(&l->q, l->dev_expires, strlen(l->dev_expires));
}

/* Keep what login_succeeded() returned: the query slot is reused. */
static void
pc_login_keep_session(struct pc_login *l)
{
	PGresult	*res;

	res = l->q.result;
	memset(&l->sess, 0, sizeof(l->sess));
	l->sess.user_id = strtoll(l->f.user_id, NULL, 10);
	(void)kore_strlcpy(l->sess.username, l->f.canon,
	    sizeof(l->sess.username));
	(void)kore_strlcpy(l->sess.display_name, l->f.display_name,
	    sizeof(l->sess.display_name));
	(void)kore_strlcpy(l->sess.role, l->f.role, sizeof(l->sess.role));
	l->sess.session_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	l->sess.idle_expires_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	l->sess.absolute_expires_at = strtoll(PQgetvalue(res, 0, 3), NULL,
	    10);
	l->sess.must_change_password = PQgetvalue(res, 0, 4)[0] == 't';
	memcpy(l->sess.token, l->token, sizeof(l->sess.token));
	l->dev_issued = !PQgetisnull(res, 0, 6);
}

/* A new device's cookie, bound to the account's canonical name. */
static void
pc_login_device_cookie(struct http_request *req, struct pc_login *l)
{
	char		cookie[PC_DEVCOOKIE_HEADER_MAX];

	if (!l->dev_issued)
		return;
	if (pc_devcookie_format(&pc_kek, l->new_dev,
	    l->dev_until, (int64_t)time(NULL),
	    l->f.canon, cookie, sizeof(cookie)) == -1)
		fatal("device cookie buffer too small");
	http_response_header(req, "set-cookie", cookie);
	pc_wipe(cookie, sizeof(cookie));
	pc_wipe(l->new_dev, sizeof(l->new_dev));
}

/* The failure query for l->f.reason, then FAIL. */
static int
pc_login_failed(struct http_request *req, struct pc_login *l)
{
	pc_factor_failq(&l->q, &l->f, l->username);
	req->fsm_state = PC_LOGIN_FAIL;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_login_answer_ok(struct http_request *req, struct pc_login *l)
{
	pc_auth_session_cookie(req, l->token, l->sess.absolute_expires_at);
	pc_login_device_cookie(req, l);

	kore_log(LOG_NOTICE, "login: success user=%s source=%s", l->f.canon,
	    l->f.source);
	pc_answer_me(req, &l->sess);
	pc_wipe(&l->sess, sizeof(l->sess));
	pc_wipe(l->f.password, sizeof(l->f.password));
	return (HTTP_STATE_COMPLETE);
}

static int
pc_login_parse(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	const char		*origin;
	char			want[300];

	/* A browser always sends Origin; it must be ours. */
	if (http_request_header(req, "origin", &origin)) {
		(void)snprintf(want, sizeof(want), "https://%s", req->host);
		if (strcmp(origin, want) != 0) {
			pc_http_error(req, 403, "csrf_failed",
			    "The request did not come from this console.");
			return (HTTP_STATE_COMPLETE);
		}
	}
	if (!pc_factor_body(req, pc_login_body(req, l),
	    "Send username, password and otp as a JSON object."))
		return (HTTP_STATE_COMPLETE);
	pc_factor_device(req, &l->f, l->username);
	if (pc_req_in_hours(NULL)) {
		req->fsm_state = PC_LOGIN_SLOT;
		return (HTTP_STATE_CONTINUE);
	}
	pc_wipe(l->f.password, sizeof(l->f.password));
	pc_dbq_init(&l->q, PC_DB_AUTH,
	    "SELECT auth.outside_hours($1, $2::inet, $3)");
	pc_dbq_param(&l->q, l->username, strlen(l->username));
	pc_dbq_param(&l->q, l->f.source, strlen(l->f.source));
	pc_factor_tag(l->username, l->nametag);
	pc_dbq_param(&l->q, l->nametag, strlen(l->nametag));
	req->fsm_state = PC_LOGIN_OUTSIDE;
	return (HTTP_STATE_CONTINUE);
}

/* Recorded or not (a failed record is logged), the answer is 403. */
static int
pc_login_outside(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);

	if (pc_dbq_step(req, &l->q) == PC_DB_RETRY)
		return (HTTP_STATE_RETRY);
	kore_log(LOG_WARNING, "login: outside the allowed hours, source=%s",
	    l->f.source);
	pc_http_error(req, 403, "outside_hours",
	    "The console is closed at this hour.");
	return (HTTP_STATE_COMPLETE);
}

static int
pc_login_slot(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	int			rv;

	if ((rv = pc_factor_slot(req, &l->f)) != HTTP_STATE_CONTINUE)
		return (rv);
	pc_login_reserve_query(l);
	req->fsm_state = PC_LOGIN_BEGIN;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_login_begin(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &l->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	if (!pc_factor_row(&l->f, l->q.result)) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (HTTP_STATE_COMPLETE);
	}
	if (pc_factor_barred(&l->f))
		return (pc_login_failed(req, l));
	/* The password stays (wiped at the end) in case a rehash is due. */
	if (pc_factor_hash(req, &l->f, NULL, 0) != KORE_RESULT_OK)
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = PC_LOGIN_HASH;
	return (HTTP_STATE_RETRY);
}

static int
pc_login_hash(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);

	if (pc_hashjob_poll(req, &l->f.hj) == KORE_RESULT_RETRY)
		return (HTTP_STATE_RETRY);
	pc_factor_decide(&l->f);
	if (l->f.reason != NULL)
		return (pc_login_failed(req, l));
	pc_login_succeed_query(l);
	req->fsm_state = PC_LOGIN_SUCCEED;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_login_succeed(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	struct pc_argon2_params	prm;
	const char		*outcome;
	int			rv;

	if ((rv = pc_dbq_state(req, &l->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	outcome = PQntuples(l->q.result) == 1 ?
	    PQgetvalue(l->q.result, 0, 0) : "";
	if (strcmp(outcome, "ok") != 0) {
		/* Replay, or locked/disabled while we hashed. */
		l->f.reason = strcmp(outcome, "totp_replay") == 0 ?
		    "totp_replay" : strcmp(outcome, "disabled") == 0 ?
		    "disabled" : "locked";
		return (pc_login_failed(req, l));
	}
	pc_login_keep_session(l);
	prm.t = pc_policy.argon2_t;
	prm.m_kib = pc_policy.argon2_m_kib;
	prm.p = pc_policy.argon2_p;
	/* The session exists: a busy server skips the rehash (next
	 * login) rather than answer 429. */
	if (!pc_password_needs_rehash(l->f.hash, &prm) ||
	    !pc_hashjob_slot_free())
		return (pc_login_answer_ok(req, l));
	/* Both factors passed: now the slow rehash. */
	if (pc_hashjob_start(req, &l->f.hj, NULL, NULL, 0, l->f.password,
	    l->f.password_len) != KORE_RESULT_OK)
		return (HTTP_STATE_COMPLETE);
	req->fsm_state = PC_LOGIN_REHASH;
	return (HTTP_STATE_RETRY);
}

static int
pc_login_rehash(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);

	if (pc_hashjob_poll(req, &l->f.hj) == KORE_RESULT_RETRY)
		return (HTTP_STATE_RETRY);
	if (!l->f.hj.out.hashed)
		return (pc_login_answer_ok(req, l));
	(void)kore_strlcpy(l->new_hash, l->f.hj.out.new_hash,
	    sizeof(l->new_hash));
	pc_dbq_cleanup(&l->q);
	/* As the session the login just opened. */
	pc_dbq_init(&l->q, PC_DB_AUTH, "SELECT auth.rehashed("
	    "$1::bytea, $2, $3::inet)");
	pc_dbq_param(&l->q, l->tok, strlen(l->tok));
	pc_dbq_param(&l->q, l->new_hash, strlen(l->new_hash));
	pc_dbq_param(&l->q, l->f.source, strlen(l->f.source));
	req->fsm_state = PC_LOGIN_REHASHED;
	return (HTTP_STATE_CONTINUE);
}

static int
pc_login_rehashed(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &l->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	return (pc_login_answer_ok(req, l));
}

static int
pc_login_fail(struct http_request *req)
{
	struct pc_login		*l = pc_login_state(req);
	int			rv;

	if ((rv = pc_dbq_state(req, &l->q)) != HTTP_STATE_CONTINUE)
		return (rv);
	return (pc_factor_answer_fail(req, &l->f, "login",
	    pc_factor_denied_msg));
}

int
pc_h_login(struct http_request *req)
{
	return (http_state_run(pc_login_steps, PC_LOGIN_NSTEPS, req));
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
