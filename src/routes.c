/*
 * routes.c: dispatch. First match on (method, path) wins (HEAD is served
 * where GET is); a known path with another method gets 405, anything
 * else 404. Before a handler that
 * needs a session runs, the session is checked (request.c) and then the
 * route's roles and flags (perm.c): 403 forbidden, 403
 * password_change_required or 403 reauth_required. A body that is not
 * declared JSON is refused first (415, request.c).
 */
#include <string.h>
#include <time.h>

#include "app.h"
#include "assets.h"
#include "http_util.h"
#include "request.h"
#include "routes.h"

#define ANY	PC_ROLES_ANY
#define ADMIN	PC_ROLE_ADMIN
#define OPER	PC_ROLE_OPERATOR
#define AUDIT	PC_ROLE_AUDITOR
#define MCOK	PC_RF_MUSTCHANGE_OK
#define REAUTH	PC_RF_REAUTH
#define PUBLIC	PC_RF_PUBLIC
#define GET	HTTP_METHOD_GET
#define POST	HTTP_METHOD_POST

static const struct pc_route pc_routes[] = {
	{ GET,	"/healthz",			0, PUBLIC, pc_h_healthz },
	{ GET,	"/api/hours",			0, PUBLIC, pc_h_hours },
	{ POST,	"/api/login",			0, PUBLIC, pc_h_login },
	{ POST,	"/api/enrolment/begin",		0, PUBLIC, pc_h_enrol_begin },
	{ POST,	"/api/enrolment/finish",	0, PUBLIC, pc_h_enrol_finish },
	{ GET,	"/api/me",			ANY, MCOK, pc_h_me },
	{ POST,	"/api/logout",			ANY, MCOK, pc_h_logout },
	{ POST,	"/api/password",		ANY, MCOK, pc_h_password },
	{ POST,	"/api/reauth",			ANY, 0, pc_h_reauth },
	{ GET,	"/api/users",			ADMIN | AUDIT, 0,
	    pc_h_users_list },
	{ POST,	"/api/users",			ADMIN, REAUTH,
	    pc_h_users_create },
	{ POST,	"/api/users/:id/disable",	ADMIN, 0, pc_h_user_disable },
	{ POST,	"/api/users/:id/enable",	ADMIN, REAUTH,
	    pc_h_user_enable },
	{ POST,	"/api/users/:id/role",		ADMIN, REAUTH, pc_h_user_role },
	{ POST,	"/api/users/:id/password",	ADMIN, REAUTH,
	    pc_h_user_password },
	{ POST,	"/api/users/:id/unlock",	ADMIN, 0, pc_h_user_unlock },
	{ POST,	"/api/users/:id/sessions/revoke", ADMIN, 0,
	    pc_h_user_revoke },
	{ POST,	"/api/users/:id/otp",		ADMIN, REAUTH, pc_h_user_otp },
	{ POST,	"/api/users/:id/enrolment/revoke", ADMIN, 0,
	    pc_h_user_enrolment_revoke },
	{ POST,	"/api/users/:id/devices/revoke", ADMIN, 0,
	    pc_h_user_devices_revoke },
	{ GET,	"/api/devices",			ANY, 0, pc_h_devices },
	{ POST,	"/api/devices/:id/revoke",	ANY, 0, pc_h_device_revoke },
	{ GET,	"/api/approvals",		ANY, 0, pc_h_approvals },
	{ POST,	"/api/approvals/:id/approve",	ANY, REAUTH,
	    pc_h_approval_approve },
	{ POST,	"/api/approvals/:id/reject",	ANY, REAUTH,
	    pc_h_approval_reject },
	{ POST,	"/api/approvals/:id/withdraw",	ADMIN | OPER, 0,
	    pc_h_approval_withdraw },
	{ GET,	"/api/transactions",		OPER | AUDIT, 0,
	    pc_h_txn_search },
	{ GET,	"/api/transactions/export",	OPER | AUDIT, 0,
	    pc_h_txn_export },
	{ GET,	"/api/transactions/:id",	OPER | AUDIT, 0,
	    pc_h_txn_detail },
	{ POST,	"/api/transactions/:id/capture", OPER, 0, pc_h_txn_capture },
	{ POST,	"/api/transactions/:id/cancel",	OPER, 0, pc_h_txn_cancel },
	{ POST,	"/api/transactions/:id/refunds", OPER, 0, pc_h_txn_refund },
	{ GET,	"/api/audit/events",		AUDIT, 0, pc_h_audit_events },
	{ GET,	"/api/audit/verify",		AUDIT, 0, pc_h_audit_verify },
	{ GET,	"/api/alerts",			ADMIN | AUDIT, 0, pc_h_alerts },
	{ POST,	"/api/alerts/:id/ack",		ADMIN | AUDIT, 0,
	    pc_h_alert_ack },
	{ GET,	"/api/inventory",		ADMIN | AUDIT, 0,
	    pc_h_inventory },
	{ GET,	"/api/reviews",			ADMIN | AUDIT, 0, pc_h_reviews },
	{ GET,	"/api/reviews/:week",		ADMIN | AUDIT, 0,
	    pc_h_review_week },
	{ POST,	"/api/reviews/:week/signoff",	AUDIT, 0,
	    pc_h_review_signoff },
	{ POST,	"/api/reviews/:week/confirm",	ADMIN | AUDIT, 0,
	    pc_h_review_confirm },
	{ GET,	"/api/reviews/accounts/:half",	ADMIN | AUDIT, 0,
	    pc_h_review_accounts },
	{ POST,	"/api/reviews/accounts/:half/signoff", AUDIT, 0,
	    pc_h_review_accounts_signoff },
	{ POST,	"/api/reviews/accounts/:half/confirm", ADMIN | AUDIT, 0,
	    pc_h_review_accounts_confirm },
	{ GET,	"/api/reviews/daily/:day",	ADMIN | AUDIT, 0,
	    pc_h_review_daily },
	{ POST,	"/api/reviews/daily/:day/signoff", AUDIT, 0,
	    pc_h_review_daily_signoff },
};

static int	pc_dispatch_route(struct http_request *,
		    const struct pc_route *, int64_t);
static int	pc_routes_method_ok(int, int);

/*
 * A request's method serves a route's: the same, or HEAD where GET is
 * (RFC 9110 9.3.2: the same answer without its content, which Kore
 * leaves out).
 */
static int
pc_routes_method_ok(int route, int method)
{
	return (route == method ||
	    (route == HTTP_METHOD_GET && method == HTTP_METHOD_HEAD));
}

/* Sessions first: a handler behind a role never runs without one. */
static int
pc_dispatch_route(struct http_request *req, const struct pc_route *rt,
    int64_t id)
{
	struct pc_req	*r;
	int		ret;

	r = pc_req_get(req);
	r->path_id = id;
	if (!pc_req_media_type(req))
		return (KORE_RESULT_OK);
	if (rt->flags & PC_RF_PUBLIC)
		return (rt->handler(req));

	ret = pc_req_session(req, rt->method != HTTP_METHOD_GET &&
	    rt->method != HTTP_METHOD_HEAD);
	if (ret == KORE_RESULT_RETRY)
		return (KORE_RESULT_RETRY);
	if (ret != KORE_RESULT_OK)
		return (KORE_RESULT_OK);

	switch (pc_perm_decide(rt->roles, rt->flags, pc_perm_role(r->s.role),
	    r->s.must_change_password, r->s.reauth_at, (int64_t)time(NULL))) {
	case PC_PERM_ALLOW:
		return (rt->handler(req));
	case PC_PERM_PASSWORD_CHANGE:
		pc_http_error(req, 403, "password_change_required",
		    "Change your password first.");
		break;
	case PC_PERM_REAUTH:
		pc_http_error(req, 403, "reauth_required",
		    "Confirm your password and one-time code first.");
		break;
	case PC_PERM_FORBIDDEN:
	default:
		pc_http_error(req, 403, "forbidden",
		    "Your role does not allow this.");
		break;
	}
	return (KORE_RESULT_OK);
}

int
pc_dispatch(struct http_request *req)
{
	size_t		i;
	int		path_known;
	int64_t		id;

	/*
	 * One Host rule, with TLS SNI or without (Kore refuses an SNI
	 * that differs from Host): only the names the policy lists.
	 */
	if (!pc_policy_host_ok(&pc_policy, req->host)) {
		pc_http_error(req, 421, "misdirected_request",
		    "This server does not serve that host.");
		return (KORE_RESULT_OK);
	}

	path_known = 0;
	for (i = 0; i < sizeof(pc_routes) / sizeof(pc_routes[0]); i++) {
		if (!pc_perm_path_match(pc_routes[i].path, req->path, &id))
			continue;
		path_known = 1;
		if (pc_routes_method_ok(pc_routes[i].method, req->method))
			return (pc_dispatch_route(req, &pc_routes[i], id));
	}

	if (!path_known && pc_routes_method_ok(HTTP_METHOD_GET, req->method)) {
		if (strcmp(req->path, "/") == 0)
			return (pc_h_asset(req));
		for (i = 0; pc_assets[i].path != NULL; i++) {
			if (strcmp(pc_assets[i].path, req->path) == 0)
				return (pc_h_asset(req));
		}
	}

	if (path_known) {
		pc_http_error(req, 405, "method_not_allowed",
		    "This method is not allowed here.");
	} else {
		pc_http_error(req, 404, "not_found", "No such resource.");
	}

	return (KORE_RESULT_OK);
}
