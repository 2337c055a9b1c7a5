/*
 * routes.h: the one table of routes and the permission each needs.
 * kore.conf sends every path to pc_dispatch; a path or method missing
 * from the table is refused (default deny).
 */
#ifndef PC_ROUTES_H
#define PC_ROUTES_H

#include "app.h"

/* Who may call a route. */
enum pc_perm {
	PC_PERM_PUBLIC = 0,	/* no session (still behind the allowlist) */
	PC_PERM_SESSION,	/* any signed-in user */
};

struct pc_route {
	int		method;		/* HTTP_METHOD_* */
	const char	*path;		/* exact path */
	enum pc_perm	perm;
	int		(*handler)(struct http_request *);
};

int	pc_dispatch(struct http_request *);

/* Handlers (one file per concern). */
int	pc_h_healthz(struct http_request *);
int	pc_h_login(struct http_request *);
int	pc_h_logout(struct http_request *);
int	pc_h_me(struct http_request *);
int	pc_h_asset(struct http_request *);

#endif
