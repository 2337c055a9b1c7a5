/*
 * jsonin.h: request bodies as JSON, strictly (pure; jansson underneath).
 *
 * RFC 8259 in full (every \u escape, surrogate pairs), and nothing more:
 * one object and nothing after it, valid UTF-8 only, no lone surrogate,
 * no \u0000, no leading zeros, no member name twice, at most
 * PC_JSONIN_MAX_LEN bytes and PC_JSONIN_MAX_DEPTH nested containers.
 * Every buffer the parser frees, the tree included, is wiped first.
 */
#ifndef PC_JSONIN_H
#define PC_JSONIN_H

#include <stddef.h>
#include <stdint.h>

/* The largest body any route reads (approvals; most read 2048). */
#define PC_JSONIN_MAX_LEN	4096

/* Objects and arrays inside each other, the body's own object counted:
 * the figure Kore's parser enforced before (KORE_JSON_DEPTH_MAX). */
#define PC_JSONIN_MAX_DEPTH	10

enum pc_jsonin_result {
	PC_JSONIN_OK = 0,
	PC_JSONIN_EMPTY,	/* no bytes */
	PC_JSONIN_TOO_LARGE,	/* more than PC_JSONIN_MAX_LEN */
	PC_JSONIN_ENCODING,	/* not UTF-8 */
	PC_JSONIN_SYNTAX,	/* not one RFC 8259 value, or refused */
	PC_JSONIN_DEPTH,	/* nested deeper than PC_JSONIN_MAX_DEPTH */
	PC_JSONIN_NOT_OBJECT,	/* a value, but not an object */
};

struct json_t;

struct pc_jsonin {
	struct json_t	*root;		/* an object, or NULL */
};

enum pc_jsonin_result	pc_jsonin_parse(struct pc_jsonin *, const void *,
			    size_t);
void			pc_jsonin_free(struct pc_jsonin *);

/*
 * Members of the body's object. pc_jsonin_string() gives a string's
 * bytes (NUL-terminated; no NUL inside) and length, or NULL when the
 * member is missing or not a string. pc_jsonin_string_opt() tells the
 * two apart: 1 a string, 0 absent, -1 anything else. pc_jsonin_int()
 * is 1 for an integer (no fraction, no exponent) in [min, max].
 * pc_jsonin_bool() is 1 for true or false. pc_jsonin_has() is 1 when
 * the member is present, whatever its type.
 */
const char	*pc_jsonin_string(const struct pc_jsonin *, const char *,
		    size_t *);
int		 pc_jsonin_string_opt(const struct pc_jsonin *, const char *,
		    const char **, size_t *);
int		 pc_jsonin_int(const struct pc_jsonin *, const char *, int64_t,
		    int64_t, int64_t *);
int		 pc_jsonin_bool(const struct pc_jsonin *, const char *, int *);
int		 pc_jsonin_has(const struct pc_jsonin *, const char *);

/*
 * 1 if a Content-Type header value names JSON: "application/json",
 * optionally with "; charset=utf-8" (either quoted), case-insensitive,
 * spaces and tabs around the parts allowed. Anything else is 0.
 */
int		 pc_jsonin_media_type(const char *);

#endif
