/*
 * httperr.h: the JSON body of the answers Kore writes itself (pure, no
 * Kore headers; called from src/kore/08-strict-head.patch).
 *
 * Malformed heads, oversized bodies, timeouts and the like are answered
 * by Kore before the application runs. They carry the same error shape
 * as every other answer, {"error": code, "message": text}, so a client
 * (or a monitor) never meets an empty or HTML error body.
 */
#ifndef PC_HTTPERR_H
#define PC_HTTPERR_H

#include <stddef.h>

/* The stable code for an HTTP error status (>= 400). */
const char	*pc_httperr_code(int status);

/*
 * Write the body for status into buf[0..len), NUL-terminated. Returns
 * its length, or 0 if status is below 400 or buf is too small.
 */
size_t		 pc_httperr_body(int status, char *buf, size_t len);

#endif
