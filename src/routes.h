/*
 * routes.h: the one table of routes and who may call each. kore.conf
 * sends every path to pc_dispatch; a path or method missing from the
 * table is refused, and a route listed without roles is refused to
 * everyone (default deny).
 */
#ifndef PC_ROUTES_H
#define PC_ROUTES_H

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "perm.h"

struct pc_route {
	int		method;		/* HTTP_METHOD_* */
	const char	*path;		/* literal segments and ":id" */
	uint8_t		roles;		/* PC_ROLE_* allowed */
	uint8_t		flags;		/* PC_RF_* */
	int		(*handler)(struct http_request *);
};

int	pc_dispatch(struct http_request *);

/* Handlers (one file per concern). */
int	pc_h_healthz(struct http_request *);
int	pc_h_asset(struct http_request *);
int	pc_h_hours(struct http_request *);
int	pc_h_reviews(struct http_request *);
int	pc_h_review_week(struct http_request *);
int	pc_h_review_signoff(struct http_request *);
int	pc_h_review_confirm(struct http_request *);
int	pc_h_review_accounts(struct http_request *);
int	pc_h_review_accounts_signoff(struct http_request *);
int	pc_h_review_accounts_confirm(struct http_request *);
int	pc_h_review_daily(struct http_request *);
int	pc_h_review_daily_signoff(struct http_request *);
int	pc_h_login(struct http_request *);
int	pc_h_logout(struct http_request *);
int	pc_h_me(struct http_request *);
int	pc_h_enrol_begin(struct http_request *);
int	pc_h_enrol_finish(struct http_request *);
int	pc_h_password(struct http_request *);
int	pc_h_reauth(struct http_request *);
int	pc_h_users_list(struct http_request *);
int	pc_h_users_create(struct http_request *);
int	pc_h_user_disable(struct http_request *);
int	pc_h_user_enable(struct http_request *);
int	pc_h_user_role(struct http_request *);
int	pc_h_user_password(struct http_request *);
int	pc_h_user_unlock(struct http_request *);
int	pc_h_user_revoke(struct http_request *);
int	pc_h_user_otp(struct http_request *);
int	pc_h_user_enrolment_revoke(struct http_request *);
int	pc_h_user_devices_revoke(struct http_request *);
int	pc_h_devices(struct http_request *);
int	pc_h_device_revoke(struct http_request *);
int	pc_h_approvals(struct http_request *);
int	pc_h_approval_approve(struct http_request *);
int	pc_h_approval_reject(struct http_request *);
int	pc_h_approval_withdraw(struct http_request *);
int	pc_h_txn_search(struct http_request *);
int	pc_h_txn_export(struct http_request *);
int	pc_h_txn_detail(struct http_request *);
int	pc_h_txn_capture(struct http_request *);
int	pc_h_txn_cancel(struct http_request *);
int	pc_h_txn_refund(struct http_request *);
int	pc_h_audit_events(struct http_request *);
int	pc_h_audit_verify(struct http_request *);
int	pc_h_alerts(struct http_request *);
int	pc_h_alert_ack(struct http_request *);
int	pc_h_inventory(struct http_request *);

#endif
