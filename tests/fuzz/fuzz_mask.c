/*
 * fuzz_mask.c: pc_mask_name() and pc_mask_email() against references
 * written from the rules in src/mask.c.
 *
 * Input: one byte that picks a small output size, then the text.
 *
 * Properties: with room enough the output is exactly the reference
 * (name: per word, its first code point then "***", words joined by one
 * space; email: the first code point of the local part, "***@", the
 * domain), valid UTF-8 with no control (C0, DEL, C1) or bidi control
 * characters, its length the return value. With a small buffer the
 * answer is the same text or -1 with the buffer wiped.
 */
#include "mask.h"
#include "fuzz_util.h"

typedef int	(*mask_fn)(const char *, size_t, char *, size_t);

/* The code point to show for the one at s: itself, or U+FFFD. */
static size_t
ref_cp(const unsigned char *s, size_t len, uint32_t *shown)
{
	uint32_t	cp;
	size_t		n;

	if ((n = fz_utf8(s, len, &cp)) == 0) {
		*shown = 0xfffd;
		return (1);
	}
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		cp = 0xfffd;
	*shown = cp;
	return (n);
}

/* Is the code point at s a word separator (' ' or U+3000)? *n: its length. */
static int
ref_space(const unsigned char *s, size_t len, size_t *n)
{
	uint32_t	cp;

	if ((*n = fz_utf8(s, len, &cp)) == 0) {
		*n = 1;
		return (0);
	}
	return (cp == ' ' || cp == 0x3000);
}

static void
ref_name(const unsigned char *s, size_t len, struct fz_buf *b)
{
	size_t		i, n, words = 0;
	uint32_t	cp;

	for (i = 0; i < len; ) {
		if (ref_space(s + i, len - i, &n)) {
			i += n;
			continue;
		}
		if (words++ > 0)
			fz_put(b, " ", 1);
		i += ref_cp(s + i, len - i, &cp);
		fz_put_cp(b, cp);
		fz_put(b, "***", 3);
		while (i < len && !ref_space(s + i, len - i, &n))
			i += n;
	}
}

static void
ref_email(const unsigned char *s, size_t len, struct fz_buf *b)
{
	size_t		at, i;
	uint32_t	cp;

	for (at = len; at > 0 && s[at - 1] != '@'; at--)
		;
	if (at <= 1) {
		fz_put(b, "***", 3);
		return;
	}
	at--;
	(void)ref_cp(s, at, &cp);
	fz_put_cp(b, cp);
	fz_put(b, "***@", 4);
	for (i = at + 1; i < len; ) {
		i += ref_cp(s + i, len - i, &cp);
		fz_put_cp(b, cp);
	}
}

static void
check_shown(const char *out, size_t len)
{
	const unsigned char	*p = (const unsigned char *)out;
	size_t			 i, n;
	uint32_t		 cp;

	FZ_CHECK(strlen(out) == len);
	for (i = 0; i < len; i += n) {
		n = fz_utf8(p + i, len - i, &cp);
		FZ_CHECK(n != 0);
		FZ_CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f));
		FZ_CHECK(cp != 0x200e && cp != 0x200f &&
		    !(cp >= 0x202a && cp <= 0x202e) &&
		    !(cp >= 0x2066 && cp <= 0x2069));
	}
}

static void
one(mask_fn fn, void (*ref)(const unsigned char *, size_t, struct fz_buf *),
    const char *in, size_t len, size_t small)
{
	struct fz_buf	want;
	char		*out, *tiny;
	size_t		big, i;
	int		r;

	big = 4 * len + 16;
	if ((out = malloc(big)) == NULL || (tiny = malloc(small)) == NULL)
		abort();
	fz_init(&want);
	ref((const unsigned char *)in, len, &want);

	r = fn(in, len, out, big);
	FZ_CHECK(r >= 0);
	FZ_CHECK((size_t)r == want.len && memcmp(out, want.p, want.len) == 0);
	check_shown(out, (size_t)r);

	r = fn(in, len, tiny, small);
	if (r >= 0) {
		FZ_CHECK((size_t)r < small && (size_t)r == want.len);
		FZ_CHECK(memcmp(tiny, want.p, want.len + 1) == 0);
	} else {
		FZ_CHECK(r == -1 && want.len + 1 > small);
		for (i = 0; i < small; i++)
			FZ_CHECK(tiny[i] == '\0');
	}

	free(want.p);
	free(tiny);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*in;
	size_t	 small;

	if (size < 1)
		return (0);
	small = 1 + data[0] % 48;
	in = (char *)fz_dup(data + 1, size - 1);
	one(pc_mask_name, ref_name, in, size - 1, small);
	one(pc_mask_email, ref_email, in, size - 1, small);
	free(in);
	return (0);
}
