/*
 * utf8.c: strict UTF-8 decoding (RFC 3629), shared by the JSON and CSV
 * writers, the masking code and the query-string parser, so that what
 * one accepts the others accept too.
 *
 * The decoding itself is ICU's U8_NEXT(), a header-only macro (nothing
 * to link): it refuses overlong forms, surrogates, code points above
 * U+10FFFF, stray continuation bytes and cut-short sequences, checked
 * against glibc's mbrtowc() over every sequence of up to 3 bytes and a
 * sweep of 4-byte ones in test_utf8.c.
 */
#include <unicode/utf8.h>

#include "utf8.h"

size_t
pc_utf8_seq(const unsigned char *s, size_t len, uint32_t *cpp)
{
	int32_t		i, n;
	UChar32		cp;

	if (s[0] < 0x80)
		return (0);
	/* No sequence is longer than 4 bytes; keeps len in int32_t. */
	n = (int32_t)(len < 4 ? len : 4);
	i = 0;
	U8_NEXT(s, i, n, cp);
	if (cp < 0)
		return (0);
	*cpp = (uint32_t)cp;
	return ((size_t)i);
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
