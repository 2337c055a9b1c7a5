/*
 * httperr.c: the JSON body of Kore's own error answers (see httperr.h).
 * One table: status, stable code, message. Codes and messages are
 * static ASCII without quotes or backslashes, so the body needs no
 * escaping; the unit test checks every row for that.
 */
#include <stdio.h>

#include "httperr.h"

struct pc_httperr {
	int		 status;
	const char	*code;
	const char	*message;
};

static const struct pc_httperr pc_httperr_table[] = {
	{ 400, "invalid_request", "Malformed request." },
	{ 403, "forbidden", "Not allowed." },
	{ 404, "not_found", "No such resource." },
	{ 405, "method_not_allowed", "This method is not allowed here." },
	{ 408, "request_timeout", "The request took too long to arrive." },
	{ 411, "length_required", "A body needs a Content-Length." },
	{ 413, "body_too_large", "The body is too large." },
	{ 414, "uri_too_long", "The request target is too long." },
	{ 421, "misdirected_request", "This server does not serve that host." },
	{ 431, "headers_too_large", "Too many or too large header fields." },
	{ 500, "internal", "Internal error." },
	{ 501, "not_implemented", "Transfer codings are not supported." },
	{ 503, "unavailable", "Busy; try again shortly." },
	{ 505, "version_not_supported", "Only HTTP/1.1 and HTTP/1.0." },
	{ 0, NULL, NULL }
};

static const struct pc_httperr *
pc_httperr_find(int status)
{
	const struct pc_httperr	*e;

	for (e = pc_httperr_table; e->code != NULL; e++) {
		if (e->status == status)
			return (e);
	}
	return (NULL);
}

const char *
pc_httperr_code(int status)
{
	const struct pc_httperr	*e;

	if ((e = pc_httperr_find(status)) != NULL)
		return (e->code);
	return (status >= 500 ? "unavailable" : "invalid_request");
}

size_t
pc_httperr_body(int status, char *buf, size_t len)
{
	const struct pc_httperr	*e;
	const char		*msg;
	int			 n;

	if (status < 400 || buf == NULL || len == 0)
		return (0);
	e = pc_httperr_find(status);
	msg = e != NULL ? e->message :
	    (status >= 500 ? "Server error." : "Request refused.");
	n = snprintf(buf, len, "{\"error\":\"%s\",\"message\":\"%s\"}",
	    pc_httperr_code(status), msg);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return (0);
	}
	return ((size_t)n);
}
