/*
 * reviews.c: the weekly access review.
 *   GET  /api/reviews                   recent weeks and their sign-off state
 *   GET  /api/reviews/:week[?format=csv] the figures of one ISO week
 *   POST /api/reviews/:week/signoff     an auditor signs a finished week off
 *   POST /api/reviews/:week/confirm     a second person confirms it
 * The figures and the two-person rule live in migrations/011_reviews.sql;
 * here the week name is checked (perm.c), the answer written, and every
 * view recorded before it leaves, as for the rest of the trail.
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
};

struct pc_review {
	int			step;
	int			csv;
	struct pc_dbq		q;
	struct pc_dbq		rec;
	char			week[16];
	char			comment[512];
	char			details[64];
	char			*out;
	size_t			out_len;
};

static void	pc_review_free(void *);
static int	pc_review_prepare(struct http_request *, struct pc_review *,
		    enum pc_review_kind);
static int	pc_review_render(struct http_request *, struct pc_review *,
		    enum pc_review_kind);
static int	pc_review_csv(struct http_request *, struct pc_review *);
static int	pc_review(struct http_request *, enum pc_review_kind);

static void
pc_review_free(void *arg)
{
	struct pc_review	*v = arg;

	pc_dbq_cleanup(&v->q);
	pc_dbq_cleanup(&v->rec);
	free(v->out);
	v->out = NULL;
}

static int
pc_review_prepare(struct http_request *req, struct pc_review *v,
    enum pc_review_kind kind)
{
	struct pc_req	*r;
	const char	*db;

	r = pc_req_get(req);
	/* perm.c only matches a week that exists: 2026-W47 is 202647. */
	(void)snprintf(v->week, sizeof(v->week), "%04d-W%02d",
	    (int)(r->path_id / 100), (int)(r->path_id % 100));
	db = strcmp(r->s.role, "auditor") == 0 ? PC_DB_AUDITOR : PC_DB_AUTH;

	switch (kind) {
	case PC_REVIEW_LIST:
		if (req->query_string != NULL && req->query_string[0] != '\0')
			goto bad;
		pc_dbq_init(&v->q, db, "SELECT audit.review_list($1)::text");
		pc_dbq_param(&v->q, pc_policy.timezone,
		    strlen(pc_policy.timezone));
		return (1);
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
		return (1);
	case PC_REVIEW_SIGNOFF:
	case PC_REVIEW_CONFIRM:
		if (!pc_req_body_text(req, "comment", v->comment,
		    sizeof(v->comment), 501))
			return (0);
		pc_dbq_init(&v->q, PC_DB_AUTH, kind == PC_REVIEW_SIGNOFF ?
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
		return (1);
	}

bad:
	pc_http_error(req, 400, "invalid_request",
	    "A parameter is not acceptable.");
	return (0);
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
pc_review_render(struct http_request *req, struct pc_review *v,
    enum pc_review_kind kind)
{
	PGresult	*res;
	const char	*s, *code, *msg;

	res = v->q.result;
	if (kind == PC_REVIEW_WEEK && v->csv)
		return (pc_review_csv(req, v));

	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (0);
	}
	s = PQgetvalue(res, 0, 0);
	if (kind == PC_REVIEW_LIST || kind == PC_REVIEW_WEEK) {
		v->out_len = (size_t)PQgetlength(res, 0, 0);
		if ((v->out = malloc(v->out_len + 1)) == NULL) {
			pc_http_error(req, 500, "internal", "Internal error.");
			return (0);
		}
		memcpy(v->out, s, v->out_len + 1);
		return (1);
	}

	/* Sign-off and confirmation: the function's verdict. */
	if (strcmp(s, "ok") == 0) {
		(void)snprintf(v->details, sizeof(v->details),
		    "{\"week\":\"%s\",\"status\":\"%s\"}", v->week,
		    kind == PC_REVIEW_SIGNOFF ? "signed_off" : "confirmed");
		pc_http_json(req, 201, v->details, strlen(v->details));
		return (0);
	}
	if (strcmp(s, "week_not_finished") == 0) {
		code = s;
		msg = "A week can be signed off only once it has ended.";
	} else if (strcmp(s, "already_signed_off") == 0) {
		code = s;
		msg = "This week has already been signed off.";
	} else if (strcmp(s, "not_signed_off") == 0) {
		code = s;
		msg = "An auditor must sign this week off first.";
	} else if (strcmp(s, "already_confirmed") == 0) {
		code = s;
		msg = "This week has already been confirmed.";
	} else if (strcmp(s, "same_person") == 0) {
		code = s;
		msg = "The confirmation must come from a different person.";
	} else if (strcmp(s, "signer_administered_by_you") == 0) {
		code = s;
		msg = "You created or changed the signer's account: another "
		    "person must confirm.";
	} else if (strcmp(s, "review_changed") == 0) {
		code = s;
		msg = "The figures changed after the sign-off: the week must "
		    "be reviewed again.";
	} else {
		code = "unavailable";
		msg = "The service is temporarily unavailable.";
	}
	pc_http_error(req, strcmp(code, "unavailable") == 0 ? 503 : 409, code,
	    msg);
	return (0);
}

static int
pc_review(struct http_request *req, enum pc_review_kind kind)
{
	struct pc_req		*r;
	struct pc_review	*v;
	const char		*ev, *target;
	int			rv;

	r = pc_req_get(req);
	v = pc_req_handler_state(req, sizeof(*v), pc_review_free);

	for (;;) {
		switch (v->step) {
		case 0:
			if (!pc_review_prepare(req, v, kind))
				return (KORE_RESULT_OK);
			v->step = 1;
			continue;
		case 1:
			if (!pc_dbq_ready(req, &v->q, &rv))
				return (rv);
			/* Sign-off and confirmation audit themselves. */
			if (!pc_review_render(req, v, kind))
				return (KORE_RESULT_OK);
			ev = kind == PC_REVIEW_LIST ? "reviews.viewed" :
			    "review.viewed";
			target = kind == PC_REVIEW_LIST ? "reviews" : v->week;
			(void)snprintf(v->details, sizeof(v->details),
			    "{\"format\":\"%s\"}", v->csv ? "csv" : "json");
			pc_req_record(&v->rec, r, PC_DB_AUTH, ev, target,
			    "success", v->details, strlen(v->details), "");
			v->step = 2;
			continue;
		case 2:
			if (!pc_dbq_ready(req, &v->rec, &rv))
				return (rv);
			break;
		}
		break;
	}

	if (v->csv) {
		http_response_header(req, "content-type",
		    "text/csv; charset=utf-8");
		http_response_header(req, "content-disposition",
		    "attachment; filename=\"access-review.csv\"");
		http_response(req, 200, v->out, v->out_len);
	} else {
		pc_http_json(req, 200, v->out, v->out_len);
	}
	return (KORE_RESULT_OK);
}

int
pc_h_reviews(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_LIST));
}

int
pc_h_review_week(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_WEEK));
}

int
pc_h_review_signoff(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_SIGNOFF));
}

int
pc_h_review_confirm(struct http_request *req)
{
	return (pc_review(req, PC_REVIEW_CONFIRM));
}
