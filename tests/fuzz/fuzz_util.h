/*
 * fuzz_util.h: what the libFuzzer targets in tests/fuzz share.
 *
 * FZ_CHECK() turns a broken property into a crash, so libFuzzer keeps
 * the input and scripts/fuzz fails. The UTF-8 decoder here is written
 * from Unicode's table of well-formed byte sequences (Table 3-7), not
 * copied from src/, so that it can judge the code under test.
 */
#ifndef PC_FUZZ_UTIL_H
#define PC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: property broken: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* A NUL-terminated heap copy of exactly size + 1 bytes (ASan sees past it). */
static inline char *
fz_cstr(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return (s);
}

/* A heap copy of exactly size bytes (at least one allocated). */
static inline uint8_t *
fz_dup(const uint8_t *data, size_t size)
{
	uint8_t	*p;

	if ((p = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	return (p);
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4) and its code
 * point, or 0 if the bytes at s are not one (Unicode Table 3-7).
 */
static inline size_t
fz_utf8(const unsigned char *s, size_t len, uint32_t *cpp)
{
	unsigned char	c, lo = 0x80, hi = 0xbf;
	size_t		n, k;
	uint32_t	cp;

	if (len == 0)
		return (0);
	c = s[0];
	if (c < 0x80) {
		*cpp = c;
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return (0);
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (len < n)
		return (0);
	cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
	for (k = 1; k < n; k++) {
		if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xbf))
			return (0);
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	*cpp = cp;
	return (n);
}

static inline int
fz_utf8_valid(const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i, n;
	uint32_t		 cp;

	for (i = 0; i < len; i += n) {
		if ((n = fz_utf8(s + i, len - i, &cp)) == 0)
			return (0);
	}
	return (1);
}

/* A growing byte buffer for reference outputs. */
struct fz_buf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* An empty buffer, allocated: p is always a NUL-terminated string. */
static inline void
fz_init(struct fz_buf *b)
{
	b->cap = 64;
	b->len = 0;
	if ((b->p = malloc(b->cap)) == NULL)
		abort();
	b->p[0] = '\0';
}

static inline void
fz_put(struct fz_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
fz_put_cp(struct fz_buf *b, uint32_t cp)
{
	unsigned char	u[4];

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		fz_put(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		fz_put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		fz_put(b, u, 3);
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		fz_put(b, u, 4);
	}
}

#endif
