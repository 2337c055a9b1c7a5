/*
 * http_util.c: answers. Every response carries the security headers (set
 * once as Kore's header block, so Kore's own error answers carry them
 * too); every error is JSON {"error": code, "message": text} with a
 * stable code, and never carries internals.
 */
#include <string.h>

#include "http_util.h"
#include "jsonw.h"
#include "wipe.h"

/* OWASP ASVS 14.4; HSTS one year. No server banner. */
static const char pc_http_headers[] =
    "strict-transport-security: max-age=31536000; includeSubDomains\r\n"
    "content-security-policy: default-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
    "x-content-type-options: nosniff\r\n"
    "referrer-policy: no-referrer\r\n"
    "x-frame-options: DENY\r\n"
    "cross-origin-opener-policy: same-origin\r\n"
    "cross-origin-resource-policy: same-origin\r\n"
    "permissions-policy: camera=(), microphone=(), geolocation=()\r\n"
    "cache-control: no-store\r\n";

void
pc_http_security_headers(void)
{
	http_server_headers(pc_http_headers);
}

void
pc_http_json(struct http_request *req, int status, const char *body,
    size_t len)
{
	http_response_header(req, "content-type",
	    "application/json; charset=utf-8");
	http_response(req, status, body, len);
}

void
pc_http_error(struct http_request *req, int status, const char *code,
    const char *message)
{
	pc_http_error_reason(req, status, code, message, NULL);
}

/*
 * Finish w and answer with it (500 if it cannot be finished). The text
 * is wiped before it is freed: answers carry codes, URIs and personal
 * data. Returns KORE_RESULT_OK for the handler to return.
 */
int
pc_http_jsonw(struct http_request *req, int status, struct pc_jsonw *w)
{
	char	*out;
	size_t	len;

	if ((out = pc_jsonw_finish(w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_http_json(req, status, out, len);
	pc_wipe(out, len);
	free(out);
	return (KORE_RESULT_OK);
}

/* An error with a machine-readable reason (e.g. which password rule). */
void
pc_http_error_reason(struct http_request *req, int status, const char *code,
    const char *message, const char *reason)
{
	struct pc_jsonw		w;
	char			*out;
	size_t			len;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "error", code);
	pc_jsonw_string(&w, "message", message);
	if (reason != NULL)
		pc_jsonw_string(&w, "reason", reason);
	pc_jsonw_object_close(&w);

	if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
		http_response(req, 500, NULL, 0);
		return;
	}

	pc_http_json(req, status, out, len);
	free(out);
}
