/*
 * approvals.c: the second person (migrations/016_approvals_and_enrolment.sql).
 *   GET  /api/approvals               what the caller may see: admins
 *                                     the account requests, operators
 *                                     the refunds, auditors everything
 *   POST /api/approvals/:id/approve   {"operation_sha256", "comment"?}
 *   POST /api/approvals/:id/reject    {"comment"?}
 *   POST /api/approvals/:id/withdraw  its requester takes it back
 * Deciding needs re-authentication. The approver names the SHA-256 of
 * the operation they were shown; approving executes exactly that, in
 * the same transaction as the decision and its records. An approval
 * that enrols answers with the approver's half of the enrolment code,
 * shown once. Every rule (who decides what, four eyes, expiry) is
 * checked inside PostgreSQL; a refused decision gets the SQLSTATE's
 * answer (dberr.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardguard.h"
#include "db.h"
#include "enrolcode.h"
#include "http_util.h"
#include "jsonw.h"
#include "request.h"
#include "routes.h"
#include "utf8.h"
#include "wipe.h"

#define PC_APPROVAL_COMMENT_MAX	1500	/* bytes */

enum pc_appr_kind {
	PC_APPR_LIST = 1,
	PC_APPR_APPROVE,
	PC_APPR_REJECT,
	PC_APPR_WITHDRAW,
};

struct pc_appr {
	int			queried;
	struct pc_dbq		q;
	char			id[24];
	char			sha[65];
	char			comment[PC_APPROVAL_COMMENT_MAX + 1];
	uint8_t			code[PC_ENROLCODE_LEN];
	char			code_param[PC_BYTEA_TEXT(PC_ENROLCODE_LEN)];
};

static void	pc_appr_free(void *);
static int	pc_appr(struct http_request *, enum pc_appr_kind);
static int	pc_appr_body(struct http_request *, struct pc_appr *, int);
static void	pc_appr_query(struct pc_appr *, struct pc_req *,
		    enum pc_appr_kind);
static int	pc_appr_answer(struct http_request *, struct pc_appr *,
		    enum pc_appr_kind);

static void
pc_appr_free(void *arg)
{
	struct pc_appr	*a = arg;

	pc_dbq_cleanup(&a->q);
	pc_wipe(a->code, sizeof(a->code));
	pc_wipe(a->code_param, sizeof(a->code_param));
}

/*
 * The decision's body: an optional comment (clean text, no card
 * numbers) and, to approve, the operation's SHA-256 as 64 lower-case
 * hex digits. 0 after answering 400.
 */
static int
pc_appr_body(struct http_request *req, struct pc_appr *a, int approve)
{
	struct pc_jsonin	json;
	const char		*c, *s;
	uint8_t			body[4096];
	size_t			len;
	int			ok;

	ok = pc_req_json(req, &json, body, sizeof(body));
	if (ok && approve) {
		ok = (s = pc_jsonin_string(&json, "operation_sha256",
		    &len)) != NULL && len == 64 &&
		    strspn(s, "0123456789abcdef") == 64;
		if (ok)
			(void)kore_strlcpy(a->sha, s, sizeof(a->sha));
	}
	/* Optional; present, it must be a string. */
	if (ok) {
		switch (pc_jsonin_string_opt(&json, "comment", &c, &len)) {
		case 1:
			ok = len < sizeof(a->comment) &&
			    kore_strlcpy(a->comment, c, sizeof(a->comment)) <
			    sizeof(a->comment) &&
			    pc_utf8_text(a->comment, strlen(a->comment), 1);
			break;
		case 0:
			break;
		default:
			ok = 0;
			break;
		}
	}
	pc_req_json_done(req, &json, body, sizeof(body));
	if (!ok) {
		pc_http_error(req, 400, "invalid_request", approve ?
		    "Send operation_sha256 (the operation you approve) and "
		    "an optional comment." : "Send an optional comment.");
		return (0);
	}
	return (pc_req_no_card(req, a->comment, strlen(a->comment)));
}

static void
pc_appr_query(struct pc_appr *a, struct pc_req *r, enum pc_appr_kind kind)
{
	const char	*db;

	/* Refunds are decided through pc_payments, accounts through
	 * pc_auth; the database refuses the other way round. */
	db = strcmp(r->s.role, "operator") == 0 ? PC_DB_PAYMENTS : PC_DB_AUTH;
	switch (kind) {
	case PC_APPR_LIST:
		pc_dbq_init(&a->q, pc_req_db(r),
		    "SELECT approvals.list($1::bytea)::text");
		pc_dbq_param(&a->q, r->tok, strlen(r->tok));
		return;
	case PC_APPR_APPROVE:
		/* The approver's half: used only if the request enrols. */
		if (pc_enrolcode_new(a->code) == -1 ||
		    pc_bytea_encode(a->code, sizeof(a->code), a->code_param,
		    sizeof(a->code_param)) == -1)
			fatal("cannot make an enrolment code");
		pc_dbq_init(&a->q, db, "SELECT outcome, approval::text, "
		    "result::text, issues_code FROM approvals.approve("
		    "$1::bytea, $2::inet, $3::bigint, $4, $5, $6::bytea)");
		break;
	case PC_APPR_REJECT:
		pc_dbq_init(&a->q, db, "SELECT outcome, approval::text "
		    "FROM approvals.reject($1::bytea, $2::inet, $3::bigint, $4)");
		break;
	case PC_APPR_WITHDRAW:
		pc_dbq_init(&a->q, db, "SELECT 'withdrawn', "
		    "approvals.withdraw($1::bytea, $2::inet, $3::bigint)::text");
		pc_dbq_param(&a->q, r->tok, strlen(r->tok));
		pc_dbq_param(&a->q, r->source, strlen(r->source));
		pc_dbq_param(&a->q, a->id, strlen(a->id));
		return;
	}
	pc_dbq_param(&a->q, r->tok, strlen(r->tok));
	pc_dbq_param(&a->q, r->source, strlen(r->source));
	pc_dbq_param(&a->q, a->id, strlen(a->id));
	if (kind == PC_APPR_APPROVE)
		pc_dbq_param(&a->q, a->sha, strlen(a->sha));
	pc_dbq_param(&a->q, a->comment[0] != '\0' ? a->comment : NULL,
	    strlen(a->comment));
	if (kind == PC_APPR_APPROVE)
		pc_dbq_param(&a->q, a->code_param, strlen(a->code_param));
}

static int
pc_appr_answer(struct http_request *req, struct pc_appr *a,
    enum pc_appr_kind kind)
{
	struct pc_jsonw		w;
	PGresult		*res;
	char			code[PC_ENROLCODE_TEXT];

	res = a->q.result;
	if (PQntuples(res) != 1) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (KORE_RESULT_OK);
	}
	if (kind == PC_APPR_LIST) {
		pc_http_json(req, 200, PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0));
		return (KORE_RESULT_OK);
	}
	/* It ran out before anyone decided: recorded, nothing done. */
	if (strcmp(PQgetvalue(res, 0, 0), "expired") == 0) {
		pc_http_error(req, 409, "approval_expired",
		    "This request has expired.");
		return (KORE_RESULT_OK);
	}

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_raw(&w, "approval", PQgetvalue(res, 0, 1));
	if (kind == PC_APPR_APPROVE) {
		pc_jsonw_raw(&w, "result", PQgetvalue(res, 0, 2));
		if (PQgetvalue(res, 0, 3)[0] == 't') {
			pc_enrolcode_format(a->code, code);
			pc_jsonw_string(&w, "enrolment_code", code);
			pc_jsonw_int(&w, "enrolment_code_part", 2);
			pc_wipe(code, sizeof(code));
		}
	}
	pc_jsonw_object_close(&w);
	return (pc_http_jsonw(req, 200, &w));
}

static int
pc_appr(struct http_request *req, enum pc_appr_kind kind)
{
	struct pc_req		*r;
	struct pc_appr		*a;
	int			rv;

	r = pc_req_get(req);
	a = pc_req_handler_state(req, sizeof(*a), pc_appr_free);

	if (!a->queried) {
		(void)snprintf(a->id, sizeof(a->id), "%lld",
		    (long long)r->path_id);
		if (kind == PC_APPR_LIST && req->query_string != NULL &&
		    req->query_string[0] != '\0') {
			pc_http_error(req, 400, "invalid_request",
			    "This list takes no parameters.");
			return (KORE_RESULT_OK);
		}
		if ((kind == PC_APPR_APPROVE || kind == PC_APPR_REJECT) &&
		    !pc_appr_body(req, a, kind == PC_APPR_APPROVE))
			return (KORE_RESULT_OK);
		pc_appr_query(a, r, kind);
		a->queried = 1;
	}

	if (!pc_dbq_ready(req, &a->q, &rv))
		return (rv);
	return (pc_appr_answer(req, a, kind));
}

int
pc_h_approvals(struct http_request *req)
{
	return (pc_appr(req, PC_APPR_LIST));
}

int
pc_h_approval_approve(struct http_request *req)
{
	return (pc_appr(req, PC_APPR_APPROVE));
}

int
pc_h_approval_reject(struct http_request *req)
{
	return (pc_appr(req, PC_APPR_REJECT));
}

int
pc_h_approval_withdraw(struct http_request *req)
{
	return (pc_appr(req, PC_APPR_WITHDRAW));
}
