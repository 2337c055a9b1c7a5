/*
 * reviews.c: the weekly access review and the half-year account review.
 *   GET  /api/reviews                   recent weeks and their sign-off state
 *   GET  /api/reviews/:week[?format=csv] the figures of one ISO week
 *   POST /api/reviews/:week/signoff     an auditor signs a finished week off
 *   POST /api/reviews/:week/confirm     a second person confirms it
 *   GET  /api/reviews/accounts/:half    every account and its privilege
 *                                       history in a half-year (7.2.4)
 *   POST /api/reviews/accounts/:half/signoff, /confirm   the same two steps
 *   GET  /api/reviews/daily/:day        a day's digest (10.4.1), per
 *                                       category with its events
 *   POST /api/reviews/daily/:day/signoff   an auditor marks it reviewed
 * The figures and the two-person rule live in migrations/011_reviews.sql
 * (027 for half-years, 030 for days); here the period name is checked
 * (perm.c), the
 * answer written, and every view recorded before it leaves, as for the
 * rest of the trail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "csvw.h"
#include "db.h"
#include "http_util.h"
#include "request.h"
#include "routes.h"

enum pc_review_kind {
	PC_REVIEW_LIST = 1,
	PC_REVIEW_WEEK,
	PC_REVIEW_SIGNOFF,
	PC_REVIEW_CONFIRM,
	PC_REVIEW_ACCOUNTS,
	PC_REVIEW_DAILY,
};

/* What a period name names. */
enum pc_review_period {
	PC_PERIOD_WEEK = 0,
	PC_PERIOD_HALF,
	PC_PERIOD_DAY,
};

struct pc_review {
	enum pc_review_kind	kind;
	enum pc_review_period	period;
	int			csv;
	struct pc_dbq		q;
	struct pc_dbq		rec;
	char			week[16];
	char			comment[512];
	char			details[64];
	char			*out;
	size_t			out_len;
};

/* The sign-off functions' verdicts other than "ok", and their answers. */
static const struct {
	const char	*code;
	int		status;
	const char	*msg;
} pc_review_refusals[] = {
	{ "week_not_finished", 409,
	    "A week can be signed off only once it has ended." },
	{ "period_not_finished", 409,
	    "A period can be signed off only once it has ended." },
	{ "already_signed_off", 409,
	    "This period has already been signed off." },
	{ "not_signed_off", 409, "An auditor must sign this week off first." },
	{ "already_confirmed", 409, "This week has already been confirmed." },
	{ "same_person", 409,
	    "The confirmation must come from a different person." },
	{ "signer_administered_by_you", 409, "You created or changed the "
	    "signer's account: another person must confirm." },
	{ "review_changed", 409, "The figures changed after the sign-off: the "
	    "week must be reviewed again." },
	{ "digest_not_ready", 409, "This day's digest has not been made "
	    "yet: it is made 5 minutes after the day ends." },
	{ "self_forbidden", 403, "The digest lists an action of yours: "
	    "another auditor must review this day." },
};

static void	pc_review_free(void *);
static struct pc_review	*pc_review_get(struct http_request *);
static int	pc_review_render(struct http_request *, struct pc_review *);
static int	pc_review_verdict(struct http_request *, struct pc_review *,
		    const char *);
static int	pc_review_csv(struct http_request *, struct pc_review *);
static int	pc_review_period(struct http_request *, struct pc_review *);
static int	pc_review(struct http_request *, enum pc_review_kind,
		    enum pc_review_period);

static int	pc_review_step_prepare(struct http_request *);
static int	pc_review_step_query(struct http_request *);
static int	pc_review_step_render(struct http_request *);
static int	pc_review_step_record(struct http_request *);
static int	pc_review_step_answer(struct http_request *);

/* One request: its query, the answer, the view recorded, the answer sent. */
enum pc_review_step {
	PC_REVIEW_S_PREPARE = 0,
	PC_REVIEW_S_QUERY,
	PC_REVIEW_S_RENDER,
	PC_REVIEW_S_RECORD,
	PC_REVIEW_S_ANSWER,
};

static struct http_state pc_review_states[] = {
	[PC_REVIEW_S_PREPARE] = KORE_HTTP_STATE(pc_review_step_prepare),
	[PC_REVIEW_S_QUERY] = KORE_HTTP_STATE(pc_review_step_query),
	[PC_REVIEW_S_RENDER] = KORE_HTTP_STATE(pc_review_step_render),
	[PC_REVIEW_S_RECORD] = KORE_HTTP_STATE(pc_review_step_record),
	[PC_REVIEW_S_ANSWER] = KORE_HTTP_STATE(pc_review_step_answer),
};

#define PC_REVIEW_NSTATES	\
	(sizeof(pc_review_states) / sizeof(pc_review_states[0]))

static void
pc_review_free(void *arg)
{
	struct pc_review	*v = arg;

	pc_dbq_cleanup(&v->q);
	pc_dbq_cleanup(&v->rec);
	free(v->out);
	v->out = NULL;
}

static struct pc_review *
pc_review_get(struct http_request *req)
{
	return (pc_req_handler_state(req, sizeof(struct pc_review),
	    pc_review_free));
}

/* The period's name in v->week; 0 when it names none (answered 400). */
static int
pc_review_period(struct http_request *req, struct pc_review *v)
{
	int64_t		id;

	id = pc_req_get(req)->path_id;
	if (v->period == PC_PERIOD_WEEK) {
		/* perm.c only matches a week that exists: 2026-W47 is 202647. */
		(void)snprintf(v->week, sizeof(v->week), "%04d-W%02d",
		    (int)(id / 100), (int)(id % 100));
		return (1);
	}
	/* perm.c matches any segment; 2026-H1 is 20261, anything else 0. */
	if (id <= 0) {
		pc_http_error(req, 400, "invalid_period",
		    v->period == PC_PERIOD_HALF ?
		    "Name a half-year as YYYY-H1 or YYYY-H2." :
		    "Name a day that exists as YYYY-MM-DD.");
		return (0);
	}
	if (v->period == PC_PERIOD_HALF) {
		(void)snprintf(v->week, sizeof(v->week), "%04d-H%d",
		    (int)(id / 10), (int)(id % 10));
	} else {
		/* 2026-11-28 is 20261128. */
		(void)snprintf(v->week, sizeof(v->week), "%04d-%02d-%02d",
		    (int)(id / 10000), (int)(id / 100 % 100), (int)(id % 100));
	}
	return (1);
}

/* The request's query; COMPLETE when the request is answered already. */
static int
pc_review_step_prepare(struct http_request *req)
{
	struct pc_review	*v;
	struct pc_req		*r;
	const char		*db;

	r = pc_req_get(req);
	v = pc_review_get(req);
	if (!pc_review_period(req, v))
		return (HTTP_STATE_COMPLETE);
	db = strcmp(r->s.role, "auditor") == 0 ? PC_DB_AUDITOR : PC_DB_AUTH;

	switch (v->kind) {
	case PC_REVIEW_LIST:
		if (req->query_string != NULL && req->query_string[0] != '\0')
			goto bad;
		pc_dbq_init(&v->q, db, "SELECT audit.review_list($1)::text");
		pc_dbq_param(&v->q, pc_policy.timezone,
		    strlen(pc_policy.timezone));
		return (pc_req_step(req, PC_REVIEW_S_QUERY));
	case PC_REVIEW_WEEK:
		if (req->query_string != NULL &&
		    req->query_string[0] != '\0') {
			if (strcmp(req->query_string, "format=csv") == 0)
				v->csv = 1;
			else if (strcmp(req->query_string, "format=json") != 0)
				goto bad;
		}
		if (v->csv) {
			pc_dbq_init(&v->q, db, "SELECT section, item, metric, "
			    "value, extract(epoch FROM at)::bigint, actor, "
			    "target FROM audit.review_rows($1, $2)");
		} else {
			pc_dbq_init(&v->q, db,
			    "SELECT audit.review_json($1, $2)::text");
		}
		pc_dbq_param(&v->q, v->week, strlen(v->week));
		pc_dbq_param(&v->q, pc_policy.timezone,
		    strlen(pc_policy.timezone));
		return (pc_req_step(req, PC_REVIEW_S_QUERY));
	case PC_REVIEW_ACCOUNTS:
	case PC_REVIEW_DAILY:
		if (req->query_string != NULL &&
		    req->query_string[0] != '\0' &&
		    strcmp(req->query_string, "format=json") != 0)
			goto bad;
		/* A day not made yet is shown with the policy's threshold. */
		(void)snprintf(v->details, sizeof(v->details), "%u",
		    (unsigned int)pc_policy.refund_approval_threshold);
		pc_dbq_init(&v->q, db, v->kind == PC_REVIEW_DAILY ?
		    "SELECT audit.digest_json($1, $2, $3::bigint)::text" :
		    "SELECT audit.account_review_json($1, $2)::text "
		    "WHERE $3::bigint IS NOT NULL");
		pc_dbq_param(&v->q, v->week, strlen(v->week));
		pc_dbq_param(&v->q, pc_policy.timezone,
		    strlen(pc_policy.timezone));
		pc_dbq_param(&v->q, v->details, strlen(v->details));
		return (pc_req_step(req, PC_REVIEW_S_QUERY));
	case PC_REVIEW_SIGNOFF:
	case PC_REVIEW_CONFIRM:
		if (!pc_req_body_text(req, "comment", v->comment,
		    sizeof(v->comment), 501))
			return (HTTP_STATE_COMPLETE);
		pc_dbq_init(&v->q, PC_DB_AUTH, v->kind == PC_REVIEW_SIGNOFF ?
		    "SELECT audit.review_signoff($1::bytea, $2::inet, $3, "
		    "$4, $5)" :
		    "SELECT audit.review_confirm($1::bytea, $2::inet, $3, "
		    "$4, $5)");
		pc_dbq_param(&v->q, r->tok, strlen(r->tok));
		pc_dbq_param(&v->q, r->source, strlen(r->source));
		pc_dbq_param(&v->q, v->week, strlen(v->week));
		pc_dbq_param(&v->q, pc_policy.timezone,
		    strlen(pc_policy.timezone));
		pc_dbq_param(&v->q, v->comment, strlen(v->comment));
		return (pc_req_step(req, PC_REVIEW_S_QUERY));
	}

bad:
	pc_http_error(req, 400, "invalid_request",
	    "A parameter is not acceptable.");
	return (HTTP_STATE_COMPLETE);
}

/* Flat rows, one per figure: section,item,metric,value,at,actor,target. */
static int
pc_review_csv(struct http_request *req, struct pc_review *v)
{
	static const char *const head[] = { "section", "item", "metric",
	    "value", "at", "actor", "target" };
	struct pc_csvw	c;
	PGresult	*res;
	size_t		i;
	int		row, col;

	res = v->q.result;
	pc_csvw_init(&c);
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		pc_csvw_field(&c, head[i], strlen(head[i]));
	pc_csvw_endrow(&c);
	for (row = 0; row < PQntuples(res); row++) {
		for (col = 0; col < 7; col++) {
			pc_csvw_field(&c, PQgetvalue(res, row, col),
			    (size_t)PQgetlength(res, row, col));
		}
		pc_csvw_endrow(&c);
	}
	if ((v->out = pc_csvw_finish(&c, &v->out_len)) == NULL) {
		pc_csvw_free(&c);
		pc_http_error(req, 500, "internal", "Internal error.");
		return (0);
	}
	return (1);
}

/* The answer, held in v->out until the view is recorded. */
static int
pc_review_render(struct http_request *req, struct pc_review *v)
{
	PGresult	*res;
	const char	*s;

	res = v->q.result;
	if (v->kind == PC_REVIEW_WEEK && v->csv)
		return (pc_review_csv(req, v));

	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (0);
	}
	s = PQgetvalue(res, 0, 0);
	if (v->kind == PC_REVIEW_SIGNOFF || v->kind == PC_REVIEW_CONFIRM)
		return (pc_review_verdict(req, v, s));

	v->out_len = (size_t)PQgetlength(res, 0, 0);
	if ((v->out = malloc(v->out_len + 1)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (0);
	}
	memcpy(v->out, s, v->out_len + 1);
	return (1);
}

/* Sign-off and confirmation: the function's verdict, answered; 0. */
static int
pc_review_verdict(struct http_request *req, struct pc_review *v,
    const char *s)
{
	size_t	i;

	if (strcmp(s, "ok") == 0) {
		(void)snprintf(v->details, sizeof(v->details),
		    "{\"%s\":\"%s\",\"status\":\"%s\"}",
		    v->period == PC_PERIOD_WEEK ? "week" :
		    v->period == PC_PERIOD_HALF ? "period" : "day", v->week,
		    v->kind == PC_REVIEW_SIGNOFF ? "signed_off" : "confirmed");
		pc_http_json(req, 201, v->details, strlen(v->details));
		return (0);
	}
	for (i = 0; i < sizeof(pc_review_refusals) /
	    sizeof(pc_review_refusals[0]); i++) {
		if (strcmp(s, pc_review_refusals[i].code) == 0) {
			pc_http_error(req, pc_review_refusals[i].status,
			    pc_review_refusals[i].code,
			    pc_review_refusals[i].msg);
			return (0);
		}
	}
	pc_http_error(req, 503, "unavailable",
	    "The service is temporarily unavailable.");
	return (0);
}

static int
pc_review_step_query(struct http_request *req)
{
	return (pc_req_wait(req, &pc_review_get(req)->q, PC_REVIEW_S_RENDER));
}

/* Sign-off and confirmation audit themselves and are answered here. */
static int
pc_review_step_render(struct http_request *req)
{
	struct pc_review	*v;
	const char		*ev, *target;

	v = pc_review_get(req);
	if (!pc_review_render(req, v))
		return (HTTP_STATE_COMPLETE);
	ev = v->kind == PC_REVIEW_LIST ? "reviews.viewed" : "review.viewed";
	target = v->kind == PC_REVIEW_LIST ? "reviews" : v->week;
	(void)snprintf(v->details, sizeof(v->details),
	    "{\"format\":\"%s\"}", v->csv ? "csv" : "json");
	pc_req_record(&v->rec, pc_req_get(req), PC_DB_AUTH, ev, target,
	    "success", v->details, strlen(v->details), "");
	return (pc_req_step(req, PC_REVIEW_S_RECORD));
}

static int
pc_review_step_record(struct http_request *req)
{
	return (pc_req_wait(req, &pc_review_get(req)->rec,
	    PC_REVIEW_S_ANSWER));
}

static int
pc_review_step_answer(struct http_request *req)
{
	struct pc_review	*v;

	v = pc_review_get(req);
	if (v->csv) {
		http_response_header(req, "content-type",
		    "text/csv; charset=utf-8");
		http_response_header(req, "content-disposition",
		    "attachment; filename=\"access-review.csv\"");
		http_response(req, 200, v->out, v->out_len);
	} else {
		pc_http_json(req, 200, v->out, v->out_len);
	}
	return (HTTP_STATE_COMPLETE);
}

static int
pc_review(struct http_request *req, enum pc_review_kind kind,
    enum pc_review_period period)
{
	struct pc_review	*v;

	v = pc_review_get(req);
	v->kind = kind;
	v->period = period;
	return (http_state_run(pc_review_states, PC_REVIEW_NSTATES, req));
}

int
pc_h_reviews(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_LIST, PC_PERIOD_WEEK));
}

int
pc_h_review_week(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_WEEK, PC_PERIOD_WEEK));
}

int
pc_h_review_signoff(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_SIGNOFF, PC_PERIOD_WEEK));
}

int
pc_h_review_confirm(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_CONFIRM, PC_PERIOD_WEEK));
}

int
pc_h_review_accounts(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_ACCOUNTS, PC_PERIOD_HALF));
}

int
pc_h_review_accounts_signoff(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_SIGNOFF, PC_PERIOD_HALF));
}

int
pc_h_review_accounts_confirm(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_CONFIRM, PC_PERIOD_HALF));
}

int
pc_h_review_daily(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_DAILY, PC_PERIOD_DAY));
}

int
pc_h_review_daily_signoff(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_SIGNOFF, PC_PERIOD_DAY));
}
