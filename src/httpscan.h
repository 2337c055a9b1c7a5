/*
 * httpscan.h: the byte-level check of a request head (pure, no Kore
 * headers; Kore's http.c calls it through src/kore/08-strict-head.patch).
 *
 * Kore splits the head on every CR and LF, skips empty pieces and reads
 * lines as C strings, so a NUL, a bare CR or LF, a doubled space or an
 * empty name each made its view differ from a proxy's (request
 * smuggling). The head is checked here, as bytes, before any line is
 * read as a header.
 */
#ifndef PC_HTTPSCAN_H
#define PC_HTTPSCAN_H

#include <stddef.h>

#define PC_HTTPSCAN_OK		0
#define PC_HTTPSCAN_BAD		1	/* answer 400 and close */
#define PC_HTTPSCAN_TOO_MANY	2	/* answer 431 and close */

/* Header field lines allowed after the request line. */
#define PC_HTTPSCAN_FIELDS_MAX	63

/* Longest method we know (Kore's are at most 7 bytes). */
#define PC_HTTPSCAN_METHOD_MAX	16

/*
 * Check buf[0..len), a request head from the request line up to and
 * including the empty line that ends it. RFC 9112 2.2, 3, 5 and RFC 9110
 * 5.5, strictly:
 *   - one optional empty line (CRLF) before the request line;
 *   - every line ends in CRLF; no other CR or LF anywhere;
 *   - request line: METHOD SP target SP HTTP/d.d, single spaces, the
 *     method upper-case letters, the target visible ASCII;
 *   - field line: a token name, ':' at once, a value of HTAB, SP and
 *     visible ASCII only (no NUL, no other control byte, no byte >=
 *     0x80, which Kore refused later anyway: one rule, here); no line
 *     folding; at most PC_HTTPSCAN_FIELDS_MAX of them.
 * Returns PC_HTTPSCAN_OK, _BAD or _TOO_MANY (a bad byte anywhere wins
 * over the count); *why, when not NULL, names the first problem (static
 * text, safe to log).
 */
int	pc_httpscan_head(const unsigned char *buf, size_t len,
	    const char **why);

/*
 * 1 if a Connection field value lists the "close" option (RFC 9110
 * 7.6.1: a comma-separated list of case-insensitive tokens), else 0.
 */
int	pc_httpscan_conn_close(const char *value);

#endif
