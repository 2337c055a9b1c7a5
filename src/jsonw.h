/*
 * jsonw.h: a small JSON writer that escapes everything (pure).
 *
 * Kore's JSON output does not escape; every answer payconsole writes goes
 * through here. Output is valid UTF-8: invalid input bytes become U+FFFD,
 * control characters, quotes, backslashes, '<', '>', '&', U+2028 and
 * U+2029 are written as \uXXXX or the short escapes.
 */
#ifndef PC_JSONW_H
#define PC_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct pc_jsonw {
	char		*buf;
	size_t		len;
	size_t		cap;
	int		oom;		/* sticky allocation failure */
	int		need_comma[32];
	int		depth;
};

void	pc_jsonw_init(struct pc_jsonw *w);
void	pc_jsonw_free(struct pc_jsonw *w);
/* Take the finished text (NUL-terminated); NULL on allocation failure. */
char	*pc_jsonw_finish(struct pc_jsonw *w, size_t *len);

void	pc_jsonw_object_open(struct pc_jsonw *w, const char *key);
void	pc_jsonw_object_close(struct pc_jsonw *w);
void	pc_jsonw_array_open(struct pc_jsonw *w, const char *key);
void	pc_jsonw_array_close(struct pc_jsonw *w);
/* key may be NULL inside arrays or at top level. */
void	pc_jsonw_string(struct pc_jsonw *w, const char *key, const char *s);
void	pc_jsonw_stringn(struct pc_jsonw *w, const char *key, const char *s,
	    size_t len);
void	pc_jsonw_int(struct pc_jsonw *w, const char *key, int64_t v);
void	pc_jsonw_bool(struct pc_jsonw *w, const char *key, int v);
void	pc_jsonw_null(struct pc_jsonw *w, const char *key);
/* Already-JSON text from PostgreSQL's jsonb output (never user input). */
void	pc_jsonw_raw(struct pc_jsonw *w, const char *key, const char *json);

/* Escape one string into buf as a JSON string literal (with quotes). */
int	pc_json_escape(const char *s, size_t len, char *out, size_t outlen);

#endif
