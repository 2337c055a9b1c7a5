/*
 * routes.c: dispatch. First match on (method, path) wins; a known path
 * with another method gets 405, anything else 404. Both answers are JSON
 * and carry the security headers like every other.
 */
#include <string.h>

#include "assets.h"
#include "routes.h"

static const struct pc_route pc_routes[] = {
	{ HTTP_METHOD_GET,	"/healthz",	PC_PERM_PUBLIC,	pc_h_healthz },
	{ HTTP_METHOD_POST,	"/api/login",	PC_PERM_PUBLIC,	pc_h_login },
	{ HTTP_METHOD_POST,	"/api/logout",	PC_PERM_SESSION, pc_h_logout },
	{ HTTP_METHOD_GET,	"/api/me",	PC_PERM_SESSION, pc_h_me },
};

int		pc_dispatch(struct http_request *);
static int	pc_dispatch_route(struct http_request *,
		    const struct pc_route *);

/* Sessions first: a handler behind PC_PERM_SESSION never runs without. */
static int
pc_dispatch_route(struct http_request *req, const struct pc_route *rt)
{
	int	ret;

	(void)pc_req_get(req);
	if (rt->perm != PC_PERM_PUBLIC) {
		ret = pc_req_session(req, rt->method != HTTP_METHOD_GET &&
		    rt->method != HTTP_METHOD_HEAD);
		if (ret == KORE_RESULT_RETRY)
			return (KORE_RESULT_RETRY);
		if (ret != KORE_RESULT_OK)
			return (KORE_RESULT_OK);
	}
	return (rt->handler(req));
}

int
pc_dispatch(struct http_request *req)
{
	size_t		i;
	int		path_known;

	path_known = 0;
	for (i = 0; i < sizeof(pc_routes) / sizeof(pc_routes[0]); i++) {
		if (strcmp(pc_routes[i].path, req->path) != 0)
			continue;
		path_known = 1;
		if (pc_routes[i].method == req->method)
			return (pc_dispatch_route(req, &pc_routes[i]));
	}

	if (!path_known && req->method == HTTP_METHOD_GET) {
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
