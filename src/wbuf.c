/*
 * wbuf.c: the growing output buffer of csvw.c and jsonw.c (pure, no
 * Kore headers). It doubles as needed and is never realloc'd: every old
 * copy is wiped before it is freed, as the text can carry personal data
 * or secrets. Each writer keeps its own sticky failure flag.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wbuf.h"

#define WBUF_INITIAL	256

static int	wbuf_reserve(char **, size_t, size_t *, size_t);

/*
 * Append s[0..n) to *buf (*len used of *cap), keeping room for a NUL
 * after it; n = 0 only makes that room. -1 when memory runs out (the
 * buffer is then as it was).
 */
int
pc_wbuf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (wbuf_reserve(buf, *len, cap, n) == -1)
		return (-1);
	if (n > 0) {
		memcpy(*buf + *len, s, n);
		*len += n;
	}
	return (0);
}

/* Wipe all cap bytes of buf and free it (NULL is fine). */
void
pc_wbuf_free(char *buf, size_t cap)
{
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
}

/* Make room for n more bytes and a NUL. */
static int
wbuf_reserve(char **buf, size_t len, size_t *cap, size_t n)
{
	char	*nbuf;
	size_t	 need, ncap;

	if (n > SIZE_MAX - 1 - len)
		return (-1);
	need = len + n + 1;
	if (need <= *cap)
		return (0);

	ncap = *cap ? *cap : WBUF_INITIAL;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return (-1);
		ncap *= 2;
	}
	if ((nbuf = malloc(ncap)) == NULL)
		return (-1);
	if (*buf != NULL) {
		memcpy(nbuf, *buf, len);
		pc_wbuf_free(*buf, *cap);
	}
	*buf = nbuf;
	*cap = ncap;
	return (0);
}
