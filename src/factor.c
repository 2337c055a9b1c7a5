/*
 * factor.c: the one place the login decision lives. Login (auth.c),
 * password change and re-authentication (selfsvc.c) decode the same
 * reserve row here, run the same reason chain and give the same failure
 * answers; first sign-in (enrol.c) shares the lock and block checks and
 * the failure query and answer.
 *
 * The reason chain, first match wins:
 *   source_blocked, locked   before any hash (no argon2 work)
 *   unknown_user             after a dummy hash: same time, same answer
 *   disabled, bad_password
 *   not_enrolled             no method of the table is the account's
 *   the method's own reason  its code did not prove it (bad_totp)
 * and after the database has the final word, totp_replay (its caller).
 * The account's method is checked whether or not the password matched,
 * so the time does not tell which factor failed (the first method the
 * account is enrolled in; an unknown or unenrolled account runs none,
 * as before the table). Second factors are methods in one table,
 * pc_factor_methods[], one file each (factor_totp.c): adding one
 * touches no other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "app.h"
#include "bytea.h"
#include "cidr.h"
#include "factor.h"
#include "http_util.h"
#include "request.h"
#include "srcblock.h"
#include "wipe.h"

/* Every second-factor method, in the order they are tried. */
static const struct pc_factor_method *const pc_factor_methods[] = {
	&pc_factor_totp,
};
#define PC_FACTOR_NMETHODS \
	(sizeof(pc_factor_methods) / sizeof(pc_factor_methods[0]))

static const char	*pc_factor_col(PGresult *, const char *);
static void		 pc_factor_copy(PGresult *, const char *, char *,
			    size_t);
static int		 pc_factor_source_exempt(const char *);
static void		 pc_factor_lockparams(struct pc_failq *);

const char pc_factor_denied_msg[] =
    "The username, password or one-time code is not correct.";

void
pc_factor_free(struct pc_factor *f)
{
	pc_hashjob_release(&f->hj);
	pc_wipe(&f->hj.out, sizeof(f->hj.out));
	pc_wipe(f->password, sizeof(f->password));
	pc_wipe(f->code, sizeof(f->code));
	pc_wipe(f->device, sizeof(f->device));
	pc_wipe(f->sealed, sizeof(f->sealed));
	pc_wipe(f->hash, sizeof(f->hash));
}

/*
 * The request's device cookie, if its MAC is right for the name claimed
 * and it has not expired: the attempt takes the trusted lane (hashjob.c)
 * and its reserve query asks the database whether the device is live
 * for that account (migration 024). A forged, expired or other name's
 * cookie is simply absent.
 */
void
pc_factor_device(struct http_request *req, struct pc_factor *f,
    const char *name)
{
	const char	*cookie;

	if (http_request_header(req, "cookie", &cookie) &&
	    pc_devcookie_verify(&pc_kek, cookie, name, (int64_t)time(NULL),
	    f->device) == 0)
		f->hj.trusted = 1;
}

/*
 * A body parser's verdict answered: 1 (parsed) to go on; -1 (a card
 * number in the name: nothing is recorded) and 0 (malformed, msg says
 * what to send) are answered here and give 0.
 */
int
pc_factor_body(struct http_request *req, int ok, const char *msg)
{
	switch (ok) {
	case 1:
		return (1);
	case -1:
		pc_req_card_refused(req);
		break;
	default:
		pc_http_error(req, 400, "invalid_request", msg);
		break;
	}
	return (0);
}

/*
 * The hashing slot first: a turned-away attempt costs the database
 * nothing. A source this worker knows to be blocked skips the queue
 * (srcblock.c): its reserve row answers it without a hash, so it
 * neither waits in front of others nor holds a slot; if the block has
 * ended after all, its hash takes a free slot or is refused at once
 * (pc_factor_hash()). An http_state_run() answer.
 */
int
pc_factor_slot(struct http_request *req, struct pc_factor *f)
{
	if (f->hj.wait_until == 0 && !f->hj.counted && !f->hj.trusted &&
	    pc_srcblock_blocked(f->source))
		return (HTTP_STATE_CONTINUE);
	switch (pc_hashjob_wait(req, &f->hj, f->source)) {
	case KORE_RESULT_RETRY:
		return (HTTP_STATE_RETRY);
	case KORE_RESULT_ERROR:
		pc_wipe(f->password, sizeof(f->password));
		return (HTTP_STATE_COMPLETE);
	}
	return (HTTP_STATE_CONTINUE);
}

/*
 * The lockout and source parameters every reserve query ends with
 * (auth.login_reserve(), auth.own_factors_reserve(), migration 022).
 */
void
pc_factor_reserve_params(struct pc_dbq *q, struct pc_factor *f)
{
	pc_factor_lockparams(&f->fq);
	pc_factor_srcparams(&f->fq, f->source);
	pc_dbq_param(q, f->fq.thr, strlen(f->fq.thr));
	pc_dbq_param(q, f->fq.lock, strlen(f->fq.lock));
	pc_dbq_param(q, f->fq.lmax, strlen(f->fq.lmax));
	pc_dbq_param(q, f->fq.src, strlen(f->fq.src));
}

/* A column of the one row by name, NULL if absent or null. */
static const char *
pc_factor_col(PGresult *res, const char *name)
{
	int	c;

	if ((c = PQfnumber(res, name)) == -1 || PQgetisnull(res, 0, c))
		return (NULL);
	return (PQgetvalue(res, 0, c));
}

static void
pc_factor_copy(PGresult *res, const char *name, char *dst, size_t len)
{
	const char	*v;

	(void)kore_strlcpy(dst, (v = pc_factor_col(res, name)) != NULL ?
	    v : "", len);
}

/*
 * The reserve row, by column name: each caller's query returns the
 * columns it has (enrolment_check() has no hash and numbers no attempt).
 * 0 unless there is exactly one row.
 */
int
pc_factor_row(struct pc_factor *f, PGresult *res)
{
	const char	*v;
	size_t		n;
	int64_t		until;

	/* No lock or block column: nothing to decide on, fail closed. */
	if (PQntuples(res) != 1 || PQfnumber(res, "locked") == -1 ||
	    PQfnumber(res, "source_blocked") == -1)
		return (0);
	f->exists = pc_factor_col(res, "user_id") != NULL;
	f->counted = PQfnumber(res, "attempt") != -1;
	pc_factor_copy(res, "attempt", f->attempt, sizeof(f->attempt));
	pc_factor_copy(res, "device_id", f->device_id, sizeof(f->device_id));
	if (f->exists) {
		pc_factor_copy(res, "user_id", f->user_id, sizeof(f->user_id));
		pc_factor_copy(res, "username", f->canon, sizeof(f->canon));
		pc_factor_copy(res, "display_name", f->display_name,
		    sizeof(f->display_name));
		pc_factor_copy(res, "role", f->role, sizeof(f->role));
		pc_factor_copy(res, "password_hash", f->hash, sizeof(f->hash));
		pc_factor_copy(res, "totp_state", f->totp_state,
		    sizeof(f->totp_state));
		if ((v = pc_factor_col(res, "totp_secret")) != NULL &&
		    pc_bytea_decode(v, f->sealed, sizeof(f->sealed), &n) == 0)
			f->sealed_len = n;
		v = pc_factor_col(res, "disabled");
		f->disabled = v != NULL && v[0] == 't';
	}
	v = pc_factor_col(res, "locked");
	f->locked = v != NULL && v[0] == 't';
	v = pc_factor_col(res, "source_blocked");
	if ((f->source_blocked = v != NULL && v[0] == 't')) {
		v = pc_factor_col(res, "blocked_until");
		until = strtoll(v != NULL ? v : "0", NULL, 10);
		/* The next attempt from it skips the slot queue. */
		pc_srcblock_learn(f->source, until);
		until -= (int64_t)time(NULL);
		(void)snprintf(f->retry_after, sizeof(f->retry_after),
		    "%" PRId64, until > 1 ? until : 1);
	} else if (f->device_id[0] == '\0') {
		/* (A device's row says nothing of its source.) */
		pc_srcblock_learn(f->source, 0);
	}
	return (1);
}

/* A blocked source or a locked account (or name): no argon2 work. */
int
pc_factor_barred(struct pc_factor *f)
{
	if (f->source_blocked)
		f->reason = "source_blocked";	/* not about the account */
	else if (f->locked)
		f->reason = "locked";
	else
		return (0);
	return (1);
}

/*
 * argon2id of the password against the account's hash, or a dummy hash
 * for an unknown user; with a new password, its hash too. KORE_RESULT_OK
 * once started; else answered (429) with the password wiped.
 */
int
pc_factor_hash(struct http_request *req, struct pc_factor *f,
    const char *new_password, size_t new_len)
{
	if (pc_hashjob_start(req, &f->hj, f->exists ? f->hash : NULL,
	    f->password, f->password_len, new_password, new_len) ==
	    KORE_RESULT_OK)
		return (KORE_RESULT_OK);
	pc_wipe(f->password, sizeof(f->password));
	return (KORE_RESULT_ERROR);
}

/* Both factors, evaluated for every attempt; the first failure wins. */
void
pc_factor_decide(struct pc_factor *f)
{
	const struct pc_factor_method	*m;
	size_t				i;
	int64_t				step;
	int				ok;

	m = NULL;
	ok = 0;
	step = 0;
	for (i = 0; f->exists && i < PC_FACTOR_NMETHODS; i++) {
		if (pc_factor_methods[i]->enrolled(f)) {
			m = pc_factor_methods[i];
			ok = m->verify(f, f->code, &step);
			break;
		}
	}
	pc_wipe(f->code, sizeof(f->code));

	if (!f->exists)
		f->reason = "unknown_user";
	else if (f->disabled)
		f->reason = "disabled";
	else if (!f->hj.out.match)
		f->reason = "bad_password";
	else if (m == NULL)
		f->reason = "not_enrolled";
	else if (!ok)
		f->reason = m->fail_reason;
	else
		f->reason = NULL;

	(void)snprintf(f->step_str, sizeof(f->step_str), "%" PRId64, step);
}

/* The policy's lockout threshold, length and cap, as query text. */
static void
pc_factor_lockparams(struct pc_failq *fq)
{
	(void)snprintf(fq->thr, sizeof(fq->thr), "%u",
	    pc_policy.lockout_threshold);
	(void)snprintf(fq->lock, sizeof(fq->lock), "%u",
	    pc_policy.lockout_seconds);
	(void)snprintf(fq->lmax, sizeof(fq->lmax), "%u",
	    pc_policy.lockout_max_seconds);
}

/*
 * What a failure costs its source, as query text and as the JSON an
 * attempt counted before its hash keeps until it ends (022's
 * attempts_open: an abandoned attempt still costs its source); a busy
 * refusal's charge sends the same numbers (srcblock.c).
 */
void
pc_factor_srcparams(struct pc_failq *fq, const char *source)
{
	fq->exempt = pc_factor_source_exempt(source);
	(void)snprintf(fq->sthr, sizeof(fq->sthr), "%u",
	    pc_policy.source_fail_threshold);
	(void)snprintf(fq->swin, sizeof(fq->swin), "%u",
	    pc_policy.source_fail_window);
	(void)snprintf(fq->sblk, sizeof(fq->sblk), "%u",
	    pc_policy.source_block_seconds);
	(void)snprintf(fq->src, sizeof(fq->src), "{\"threshold\":%u,"
	    "\"window\":%u,\"block\":%u,\"exempt\":%s}",
	    pc_policy.source_fail_threshold, pc_policy.source_fail_window,
	    pc_policy.source_block_seconds, fq->exempt ? "true" : "false");
}

/* Is source (text, as the request's) in the policy's source_fail_exempt? */
static int
pc_factor_source_exempt(const char *source)
{
	struct pc_cidr	one;

	if (pc_policy.source_fail_exempt_count == 0 ||
	    pc_cidr_parse(&one, source) == -1)
		return (0);
	return (pc_cidr_list_match(pc_policy.source_fail_exempt,
	    pc_policy.source_fail_exempt_count, one.family, one.addr));
}

/*
 * The failure query every caller shares, for f->reason. A trusted
 * attempt (a device vouched for it, 024) ends in auth.device_failed():
 * the device pays, not the account or the source. An attempt counted
 * before its hash (a login or re-authentication: f->attempt is its
 * number, "" when it was not counted) ends in auth.attempt_failed();
 * one whose row numbers none (first sign-in), in auth.login_failed(),
 * which counts now. Both record, lock, block and alert by the same steps
 * (migration 022). name is the typed name, used when no account matched.
 */
void
pc_factor_failq(struct pc_dbq *q, struct pc_factor *f, const char *name)
{
	struct pc_failq	*fq = &f->fq;
	const char	*user_id;

	pc_dbq_cleanup(q);
	pc_factor_lockparams(fq);
	if (f->device_id[0] != '\0') {
		pc_dbq_init(q, PC_DB_AUTH, "SELECT auth.device_failed("
		    "$1::bigint, $2::bigint, $3::inet, $4, $5::int, $6::int, "
		    "$7::int)");
		pc_dbq_param(q, f->device_id, strlen(f->device_id));
		pc_dbq_param(q, f->user_id, strlen(f->user_id));
		pc_dbq_param(q, f->source, strlen(f->source));
		pc_dbq_param(q, f->reason, strlen(f->reason));
		pc_dbq_param(q, fq->thr, strlen(fq->thr));
		pc_dbq_param(q, fq->lock, strlen(fq->lock));
		pc_dbq_param(q, fq->lmax, strlen(fq->lmax));
		return;
	}

	user_id = f->exists ? f->user_id : NULL;
	/* A name that matches no account is recorded as its tag only. */
	if (f->exists)
		name = f->canon;
	else {
		pc_factor_tag(name, fq->tag);
		name = fq->tag;
	}

	/* Unknown names lock too, so a fast answer reveals nothing. */
	if (f->counted) {
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
	pc_factor_srcparams(fq, f->source);

	pc_dbq_param(q, user_id, user_id != NULL ? strlen(user_id) : 0);
	pc_dbq_param(q, name, strlen(name));
	pc_dbq_param(q, f->source, strlen(f->source));
	pc_dbq_param(q, f->reason, strlen(f->reason));
	pc_dbq_param(q, fq->thr, strlen(fq->thr));
	pc_dbq_param(q, fq->lock, strlen(fq->lock));
	pc_dbq_param(q, fq->lmax, strlen(fq->lmax));
	pc_dbq_param(q, fq->sthr, strlen(fq->sthr));
	pc_dbq_param(q, fq->swin, strlen(fq->swin));
	pc_dbq_param(q, fq->sblk, strlen(fq->sblk));
	pc_dbq_param(q, fq->exempt ? "true" : "false", fq->exempt ? 4 : 5);
	if (f->counted)
		pc_dbq_param(q, f->attempt[0] != '\0' ? f->attempt : NULL,
		    strlen(f->attempt));
}

/*
 * The failure answer once the failure query is done: 429 with
 * Retry-After for a blocked source (not about the account), else the
 * same 401 for every reason. One log line per decision (what: "login",
 * "reauth", ...); the reason stays in the log. An http_state_run()
 * answer.
 */
int
pc_factor_answer_fail(struct http_request *req, struct pc_factor *f,
    const char *what, const char *msg)
{
	pc_wipe(f->password, sizeof(f->password));
	kore_log(LOG_NOTICE, "%s: failure reason=%s source=%s", what,
	    f->reason, f->source);
	if (strcmp(f->reason, "source_blocked") == 0) {
		http_response_header(req, "retry-after", f->retry_after);
		pc_http_error(req, 429, "rate_limited", "Too many failed "
		    "sign-ins from this address; try again later.");
		return (HTTP_STATE_COMPLETE);
	}
	pc_http_error(req, 401, "invalid_credentials", msg);
	return (HTTP_STATE_COMPLETE);
}

/*
 * A typed name's tag, as it is recorded and locked if it matches no
 * account (nametag.c); "unknown:-" if it cannot be made.
 */
void
pc_factor_tag(const char *name, char out[PC_NAMETAG_MAX])
{
	if (pc_nametag(&pc_kek, name, strlen(name), out) == -1)
		(void)snprintf(out, PC_NAMETAG_MAX, "unknown:-");
}
