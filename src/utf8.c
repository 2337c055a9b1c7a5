/*
 * utf8.c: strict UTF-8 decoding (RFC 3629), shared by the JSON and CSV
 * writers, the masking code and the query-string parser, so that what
 * one accepts the others accept too.
 */
#include "utf8.h"

size_t
pc_utf8_seq(const unsigned char *s, size_t len, uint32_t *cpp)
{
	uint32_t	cp, min;
	size_t		n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return (0);
	}

	if (len < n)
		return (0);
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);

	*cpp = cp;
	return (n);
}

int
pc_utf8_valid(const void *s, size_t len)
{
	const unsigned char	*p = s;
	size_t			i, n;
	uint32_t		cp;

	for (i = 0; i < len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			continue;
		}
		if ((n = pc_utf8_seq(p + i, len - i, &cp)) == 0)
			return (0);
	}
	return (1);
}

int
pc_utf8_text(const void *s, size_t len, int lines)
{
	const unsigned char	*p = s;
	size_t			i, n;
	uint32_t		cp;

	for (i = 0; i < len; i += n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && !(lines && (p[i] == '\n' ||
			    p[i] == '\t'))) || p[i] == 0x7f)
				return (0);
			n = 1;
			continue;
		}
		if ((n = pc_utf8_seq(p + i, len - i, &cp)) == 0 ||
		    (cp >= 0x80 && cp <= 0x9f))
			return (0);
	}
	return (1);
}
