/*
 * jsonw.c: a small JSON writer that escapes everything (pure).
 *
 * Output is valid UTF-8 and safe to embed in HTML: every invalid input
 * byte becomes \ufffd, and quotes, backslashes, control characters, DEL,
 * '<', '>', '&', U+2028 and U+2029 are escaped.
 *
 * Misuse (a key missing inside an object or given in an array, a close
 * that does not match, nesting deeper than 32, a second top-level value)
 * is sticky like an allocation failure: pc_jsonw_finish() returns NULL,
 * so a half-built answer is never sent. The oom field carries both:
 * JSONW_ERR_OOM or JSONW_ERR_MISUSE.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"
#include "wbuf.h"

#define JSONW_DEPTH_MAX		32

/* need_comma[] slots hold flags for each open container. */
#define JSONW_F_COMMA		0x01
#define JSONW_F_ARRAY		0x02

#define JSONW_ERR_OOM		1
#define JSONW_ERR_MISUSE	2

/* Longest escape: "\u00XX" or "\ufffd". */
#define JSONW_ESC_MAX		6

static void	jsonw_put(struct pc_jsonw *, const char *, size_t);
static void	jsonw_put_escaped(struct pc_jsonw *, const char *, size_t);
static int	jsonw_begin(struct pc_jsonw *, const char *);
static void	jsonw_open(struct pc_jsonw *, const char *, int);
static void	jsonw_close(struct pc_jsonw *, int);
static void	jsonw_misuse(struct pc_jsonw *);
static int	jsonw_ascii_safe(unsigned char);
static size_t	jsonw_escape_next(const unsigned char *, size_t, size_t *,
		    char *, const char **);

_Static_assert(sizeof(((struct pc_jsonw *)NULL)->need_comma) ==
    JSONW_DEPTH_MAX * sizeof(int), "need_comma[] is one slot per level");

void
pc_jsonw_init(struct pc_jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void
pc_jsonw_free(struct pc_jsonw *w)
{
	/* Answers can carry secrets (e.g. a TOTP enrolment URI). */
	pc_wbuf_free(w->buf, w->cap);
	pc_jsonw_init(w);
}

char *
pc_jsonw_finish(struct pc_jsonw *w, size_t *len)
{
	char	*ret;

	if (len != NULL)
		*len = 0;

	/* Only a whole document: no error, everything closed, not empty. */
	if (w->oom || w->depth != 0 || w->len == 0 ||
	    pc_wbuf_put(&w->buf, &w->len, &w->cap, "", 0) == -1) {
		pc_jsonw_free(w);
		return (NULL);
	}

	w->buf[w->len] = '\0';
	ret = w->buf;
	if (len != NULL)
		*len = w->len;
	pc_jsonw_init(w);

	return (ret);
}

void
pc_jsonw_object_open(struct pc_jsonw *w, const char *key)
{
	jsonw_open(w, key, 0);
}

void
pc_jsonw_object_close(struct pc_jsonw *w)
{
	jsonw_close(w, 0);
}

void
pc_jsonw_array_open(struct pc_jsonw *w, const char *key)
{
	jsonw_open(w, key, 1);
}

void
pc_jsonw_array_close(struct pc_jsonw *w)
{
	jsonw_close(w, 1);
}

void
pc_jsonw_string(struct pc_jsonw *w, const char *key, const char *s)
{
	if (s == NULL) {
		pc_jsonw_null(w, key);
		return;
	}
	pc_jsonw_stringn(w, key, s, strlen(s));
}

void
pc_jsonw_stringn(struct pc_jsonw *w, const char *key, const char *s,
    size_t len)
{
	if (s == NULL) {
		pc_jsonw_null(w, key);
		return;
	}
	if (jsonw_begin(w, key) == -1)
		return;
	jsonw_put_escaped(w, s, len);
}

void
pc_jsonw_int(struct pc_jsonw *w, const char *key, int64_t v)
{
	char	buf[32];
	int	n;

	if (jsonw_begin(w, key) == -1)
		return;
	n = snprintf(buf, sizeof(buf), "%" PRId64, v);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		jsonw_misuse(w);
		return;
	}
	jsonw_put(w, buf, (size_t)n);
}

void
pc_jsonw_bool(struct pc_jsonw *w, const char *key, int v)
{
	if (jsonw_begin(w, key) == -1)
		return;
	if (v)
		jsonw_put(w, "true", 4);
	else
		jsonw_put(w, "false", 5);
}

/*
 * A value that is already JSON. Only for text produced by PostgreSQL's
 * jsonb output, which is well formed and escaped; never for user input.
 */
void
pc_jsonw_raw(struct pc_jsonw *w, const char *key, const char *json)
{
	if (json == NULL || json[0] == '\0') {
		jsonw_misuse(w);
		return;
	}
	if (jsonw_begin(w, key) == -1)
		return;
	jsonw_put(w, json, strlen(json));
}

void
pc_jsonw_null(struct pc_jsonw *w, const char *key)
{
	if (jsonw_begin(w, key) == -1)
		return;
	jsonw_put(w, "null", 4);
}

int
pc_json_escape(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[JSONW_ESC_MAX];
	const char		*chunk;
	size_t			 off, n, o;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (s == NULL && len != 0)
		return (-1);

	/* outlen >= 1 holds the opening quote; the rest is checked. */
	o = 0;
	out[o++] = '"';

	off = 0;
	while (off < len) {
		n = jsonw_escape_next(p, len, &off, esc, &chunk);
		if (outlen - o < n)
			goto toolong;
		memcpy(out + o, chunk, n);
		o += n;
	}

	if (outlen - o < 2 || o + 1 > INT_MAX)
		goto toolong;
	out[o++] = '"';
	out[o] = '\0';

	return ((int)o);

toolong:
	explicit_bzero(out, outlen);
	return (-1);
}

static void
jsonw_put(struct pc_jsonw *w, const char *s, size_t n)
{
	if (!w->oom && pc_wbuf_put(&w->buf, &w->len, &w->cap, s, n) == -1)
		w->oom = JSONW_ERR_OOM;
}

static void
jsonw_put_escaped(struct pc_jsonw *w, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[JSONW_ESC_MAX];
	const char		*chunk;
	size_t			 off, n;

	jsonw_put(w, "\"", 1);
	off = 0;
	while (off < len && !w->oom) {
		n = jsonw_escape_next(p, len, &off, esc, &chunk);
		jsonw_put(w, chunk, n);
	}
	jsonw_put(w, "\"", 1);
}

static void
jsonw_misuse(struct pc_jsonw *w)
{
	if (!w->oom)
		w->oom = JSONW_ERR_MISUSE;
}

/* Comma and key before a value; -1 if nothing may be written. */
static int
jsonw_begin(struct pc_jsonw *w, const char *key)
{
	int	*f;

	if (w->oom)
		return (-1);

	if (w->depth == 0) {
		/* One top-level value, without a key. */
		if (w->len != 0 || key != NULL) {
			jsonw_misuse(w);
			return (-1);
		}
		return (0);
	}

	f = &w->need_comma[w->depth - 1];
	if ((*f & JSONW_F_ARRAY) ? key != NULL : key == NULL) {
		jsonw_misuse(w);
		return (-1);
	}
	if (*f & JSONW_F_COMMA)
		jsonw_put(w, ",", 1);
	*f |= JSONW_F_COMMA;

	if (key != NULL) {
		jsonw_put_escaped(w, key, strlen(key));
		jsonw_put(w, ":", 1);
	}

	return (w->oom ? -1 : 0);
}

static void
jsonw_open(struct pc_jsonw *w, const char *key, int array)
{
	if (w->depth >= JSONW_DEPTH_MAX) {
		jsonw_misuse(w);
		return;
	}
	if (jsonw_begin(w, key) == -1)
		return;
	jsonw_put(w, array ? "[" : "{", 1);
	w->need_comma[w->depth] = array ? JSONW_F_ARRAY : 0;
	w->depth++;
}

static void
jsonw_close(struct pc_jsonw *w, int array)
{
	if (w->oom)
		return;
	if (w->depth == 0 ||
	    !!(w->need_comma[w->depth - 1] & JSONW_F_ARRAY) != !!array) {
		jsonw_misuse(w);
		return;
	}
	jsonw_put(w, array ? "]" : "}", 1);
	w->depth--;
}

static int
jsonw_ascii_safe(unsigned char c)
{
	if (c < 0x20 || c >= 0x7f)
		return (0);
	switch (c) {
	case '"':
	case '\\':
	case '<':
	case '>':
	case '&':
		return (0);
	}
	return (1);
}

/*
 * The next piece of output for s at *off: either a run of bytes that can
 * be copied as they are (pointing into s) or one escape written to esc.
 * Returns its length and advances *off.
 */
static size_t
jsonw_escape_next(const unsigned char *s, size_t len, size_t *off,
    char *esc, const char **chunk)
{
	static const char	hex[] = "0123456789abcdef";
	/* The characters with a short escape, and their letters. */
	static const char	shortc[] = "\"\\\n\r\t\b\f";
	static const char	letters[] = "\"\\nrtbf";
	const char		*p;
	size_t			i = *off, run, n;
	uint32_t		cp;
	unsigned char		c;

	for (run = 0; i + run < len; run += n) {
		c = s[i + run];
		if (c < 0x80) {
			if (!jsonw_ascii_safe(c))
				break;
			n = 1;
			continue;
		}
		n = pc_utf8_seq(s + i + run, len - i - run, &cp);
		if (n == 0 || cp == 0x2028 || cp == 0x2029)
			break;
	}
	if (run > 0) {
		*chunk = (const char *)s + i;
		*off = i + run;
		return (run);
	}

	*chunk = esc;
	c = s[i];
	if (c >= 0x80) {
		n = pc_utf8_seq(s + i, len - i, &cp);
		if (n == 0) {
			/* One replacement for each byte that is not UTF-8. */
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): esc is counted, never a C string */
			memcpy(esc, "\\ufffd", 6);
			*off = i + 1;
		} else {
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): esc is counted, never a C string */
			memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			*off = i + n;
		}
		return (6);
	}

	*off = i + 1;
	esc[0] = '\\';
	if (c != '\0' && (p = strchr(shortc, c)) != NULL) {
		esc[1] = letters[p - shortc];
		return (2);
	}

	/* Other controls, DEL, '<', '>', '&'. */
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 0x0f];
	return (6);
}
