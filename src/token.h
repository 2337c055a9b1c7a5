/*
 * token.h: session tokens, their cookie and the CSRF token (pure).
 *
 * A session token is 256 random bits, sent to the browser base64url
 * encoded in the cookie __Host-pc_session and stored only as its SHA-256.
 * The CSRF token is derived from the session token (SHA-256 with a
 * domain label), so it needs no storage and cannot be turned back into
 * the session token.
 */
#ifndef PC_TOKEN_H
#define PC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define PC_TOKEN_LEN		32
#define PC_TOKEN_B64_LEN	43	/* base64url, no padding */
#define PC_TOKEN_COOKIE		"__Host-pc_session"

int	pc_token_new(uint8_t tok[PC_TOKEN_LEN]);
/* out must hold PC_TOKEN_B64_LEN + 1 bytes. */
void	pc_token_encode(const uint8_t tok[PC_TOKEN_LEN], char *out);
/* Exactly 43 base64url characters, canonical; 0 or -1. */
int	pc_token_decode(const char *s, size_t len, uint8_t tok[PC_TOKEN_LEN]);
void	pc_token_hash(const uint8_t tok[PC_TOKEN_LEN], uint8_t out[32]);
/* "\\x" + 64 hex digits + NUL: the bytea literal PostgreSQL reads. */
void	pc_token_hash_hex(const uint8_t tok[PC_TOKEN_LEN], char out[67]);
/* out must hold PC_TOKEN_B64_LEN + 1 bytes. */
void	pc_token_csrf(const uint8_t tok[PC_TOKEN_LEN], char *out);
/* Constant-time comparison of a presented CSRF token; 1 if equal. */
int	pc_token_csrf_ok(const uint8_t tok[PC_TOKEN_LEN], const char *given,
	    size_t len);

/*
 * Find the session cookie in a Cookie header. Exactly one cookie of that
 * name must be present (a second one is refused: it could only have been
 * planted). Returns 0 with the token decoded, -1 otherwise.
 */
int	pc_cookie_session(const char *header, uint8_t tok[PC_TOKEN_LEN]);

/*
 * The value of the one cookie called name in a Cookie header (not
 * NUL-terminated: *len bytes). -1 when it is absent or sent twice.
 */
int	pc_cookie_find(const char *header, const char *name,
	    const char **value, size_t *len);

/*
 * The Set-Cookie value: __Host- prefix, Path=/, Secure, HttpOnly,
 * SameSite=Strict, Max-Age, no Domain. tok NULL clears the cookie.
 */
int	pc_cookie_format(const uint8_t *tok, long max_age, char *out,
	    size_t len);

#endif
