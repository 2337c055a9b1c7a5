/*
 * handlers.c: liveness, the public hours notice and static assets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "assets.h"
#include "db.h"
#include "http_util.h"
#include "jsonw.h"
#include "request.h"
#include "routes.h"

struct pc_healthz {
	struct pc_dbq	q;
};

static void	pc_healthz_free(void *);

static void
pc_healthz_free(void *arg)
{
	struct pc_healthz	*h = arg;

	pc_dbq_cleanup(&h->q);
}

/*
 * GET /healthz: 200 when the process and the database answer, 503 when
 * the database does not. No versions, no internals.
 */
int
pc_h_healthz(struct http_request *req)
{
	struct pc_healthz	*h;
	static const char	ok[] = "{\"status\":\"ok\",\"database\":\"ok\"}";
	static const char	down[] =
	    "{\"status\":\"unavailable\",\"database\":\"unreachable\"}";

	h = pc_req_handler_state(req, sizeof(*h), pc_healthz_free);
	if (h->q.db == NULL)
		pc_dbq_init(&h->q, PC_DB_AUTH, "SELECT 1");

	switch (pc_dbq_step(req, &h->q)) {
	case PC_DB_RETRY:
		return (KORE_RESULT_RETRY);
	case PC_DB_DONE:
		pc_http_json(req, 200, ok, sizeof(ok) - 1);
		break;
	case PC_DB_ERROR:
	default:
		pc_http_json(req, 503, down, sizeof(down) - 1);
		break;
	}

	return (KORE_RESULT_OK);
}

/*
 * GET /api/hours: the allowed hours and timezone, for the login page.
 * Public: the same facts a refused login tells anyone on the allowlist.
 */
int
pc_h_hours(struct http_request *req)
{
	struct pc_jsonw		w;
	char			hours[16];
	int64_t			end;
	int			open;

	open = pc_req_in_hours(&end);
	(void)snprintf(hours, sizeof(hours), "%02d:%02d-%02d:%02d",
	    pc_policy.hours.start_min / 60, pc_policy.hours.start_min % 60,
	    pc_policy.hours.end_min / 60, pc_policy.hours.end_min % 60);

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "hours", hours);
	pc_jsonw_string(&w, "timezone", pc_policy.timezone);
	pc_jsonw_bool(&w, "open", open);
	pc_jsonw_int(&w, "window_end", open ? end : 0);
	pc_jsonw_object_close(&w);
	return (pc_http_jsonw(req, 200, &w));
}

int
pc_h_asset(struct http_request *req)
{
	size_t		i;
	const char	*path;

	/* The console is one page; "/" is its entry. */
	path = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
	for (i = 0; pc_assets[i].path != NULL; i++) {
		if (strcmp(pc_assets[i].path, path) == 0)
			break;
	}
	if (pc_assets[i].path == NULL) {
		pc_http_error(req, 404, "not_found", "No such resource.");
		return (KORE_RESULT_OK);
	}

	http_response_header(req, "content-type", pc_assets[i].mime);
	http_response_header(req, "etag", pc_assets[i].etag);
	http_response(req, 200, pc_assets[i].data, pc_assets[i].len);

	return (KORE_RESULT_OK);
}
