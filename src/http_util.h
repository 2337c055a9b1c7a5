/*
 * http_util.h: every answer goes through these (http_util.c).
 */
#ifndef PC_HTTP_UTIL_H
#define PC_HTTP_UTIL_H

#include <stddef.h>

#include <kore/kore.h>
#include <kore/http.h>

struct pc_jsonw;

void	pc_http_security_headers(void);
void	pc_http_json(struct http_request *, int, const char *, size_t);
int	pc_http_jsonw(struct http_request *, int, struct pc_jsonw *);
void	pc_http_error(struct http_request *, int, const char *, const char *);
void	pc_http_error_reason(struct http_request *, int, const char *,
	    const char *, const char *);

#endif
