/*
 * cursor.c: the keyset cursor (see cursor.h).
 *
 * Reading: bound the length; decode; take off exactly the padding's
 * bytes; parse the two numbers strictly; encode them again and compare
 * with what was given, so only the canonical form is ever accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cursor.h"

static int	pc_cursor_number(const char *, size_t, int64_t *);

/* 1*19 digits, no leading zero (but "0"), within int64: 0, else -1. */
static int
pc_cursor_number(const char *s, size_t n, int64_t *out)
{
	char		buf[20];
	long long	v;
	size_t		i;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, NULL, 10);
	if (errno != 0)
		return (-1);
	*out = (int64_t)v;
	return (0);
}

int
pc_cursor_encode(int64_t us, int64_t id, char out[PC_CURSOR_MAX])
{
	char	text[48];
	int	n;

	out[0] = '\0';
	if (us < 0 || id < 0)
		return (-1);
	n = snprintf(text, sizeof(text), "%lld.%lld", (long long)us,
	    (long long)id);
	if (n <= 0 || (size_t)n >= sizeof(text))
		return (-1);
	(void)EVP_EncodeBlock((unsigned char *)out,
	    (const unsigned char *)text, n);
	return (0);
}

int
pc_cursor_decode(const char *text, int64_t *us, int64_t *id)
{
	unsigned char	raw[PC_CURSOR_MAX];
	char		again[PC_CURSOR_MAX];
	const char	*dot;
	size_t		len, pad;
	int		n;

	*us = *id = 0;
	if (text == NULL || (len = strlen(text)) == 0 ||
	    len >= PC_CURSOR_MAX || len % 4 != 0)
		return (-1);
	pad = (text[len - 1] == '=') + (len > 1 && text[len - 2] == '=');
	n = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len);
	if (n < 0 || (size_t)n < pad + 3)
		return (-1);
	n -= (int)pad;
	if (memchr(raw, '\0', (size_t)n) != NULL ||
	    (dot = memchr(raw, '.', (size_t)n)) == NULL ||
	    pc_cursor_number((const char *)raw,
	    (size_t)(dot - (const char *)raw), us) == -1 ||
	    pc_cursor_number(dot + 1,
	    (size_t)n - (size_t)(dot - (const char *)raw) - 1, id) == -1 ||
	    pc_cursor_encode(*us, *id, again) == -1 ||
	    strcmp(again, text) != 0) {
		*us = *id = 0;
		return (-1);
	}
	return (0);
}
