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
};

int	pc_dispatch(struct http_request *);

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
			return (pc_routes[i].handler(req));
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
