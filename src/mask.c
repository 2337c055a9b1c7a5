/*
 * mask.c: mask personal data for lists shown to people who do not need
 * it (pure, no Kore headers).
 *
 * A name keeps the first code point of each word and an email the first
 * code point of its local part and the whole domain; everything else
 * becomes "***", whatever its length, so the length of the name does not
 * show either.
 *
 * Output is valid UTF-8 whatever the input: an invalid byte (overlong
 * forms, surrogates, code points above U+10FFFF, truncated sequences; the
 * same rules as jsonw.c) is one U+FFFD. A kept code point that would not
 * display as itself -- a control character (C0, DEL, C1) or a bidi
 * control (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) that could
 * reorder the rest of the line -- is written as U+FFFD too, so masked
 * text never carries a NUL, a line break or an escape sequence into a
 * list or a log.
 *
 * Names are split on ASCII space and U+3000 (ideographic space) only;
 * runs of them, and leading and trailing ones, are dropped.
 *
 * Emails are split at the last '@' (a domain holds no '@', a quoted local
 * part may). No '@', or nothing before it, gives "***".
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "mask.h"
#include "utf8.h"

#define MASK_STARS		"***"
#define MASK_STARS_LEN		3
#define MASK_FFFD		"\xef\xbf\xbd"
#define MASK_FFFD_LEN		3

struct mask_out {
	char		*buf;
	size_t		 cap;
	size_t		 len;
	int		 full;
};

static size_t	mask_next(const unsigned char *, size_t, uint32_t *);
static size_t	mask_space(const unsigned char *, size_t);
static int	mask_shown(uint32_t);
static void	mask_put(struct mask_out *, const void *, size_t);
static size_t	mask_put_cp(struct mask_out *, const unsigned char *, size_t);
static int	mask_finish(struct mask_out *);
static int	mask_begin(struct mask_out *, const char *, size_t, char *,
		    size_t);

/* Checks the arguments and starts o writing into out; -1 when bad. */
static int
mask_begin(struct mask_out *o, const char *in, size_t len, char *out,
    size_t outlen)
{
	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (in == NULL && len != 0)
		return (-1);
	o->buf = out;
	o->cap = outlen;
	o->len = 0;
	o->full = 0;
	return (0);
}

int
pc_mask_name(const char *in, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	struct mask_out		 o;
	size_t			 i, n, words;
	uint32_t		 cp;

	if (mask_begin(&o, in, len, out, outlen) == -1)
		return (-1);

	words = 0;
	i = 0;
	while (i < len && !o.full) {
		if ((n = mask_space(p + i, len - i)) != 0) {
			i += n;
			continue;
		}

		/* A word: its first code point, then the stars. */
		if (words++ > 0)
			mask_put(&o, " ", 1);
		i += mask_put_cp(&o, p + i, len - i);
		mask_put(&o, MASK_STARS, MASK_STARS_LEN);

		/* Skip the rest of it, a code point at a time. */
		while (i < len && mask_space(p + i, len - i) == 0)
			i += mask_next(p + i, len - i, &cp);
	}

	return (mask_finish(&o));
}

int
pc_mask_email(const char *in, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	struct mask_out		 o;
	size_t			 at, i;

	if (mask_begin(&o, in, len, out, outlen) == -1)
		return (-1);

	/* The last '@': 0x40 is never part of a multi-byte sequence. */
	for (at = len; at > 0 && p[at - 1] != '@'; at--)
		;
	if (at <= 1) {
		/* No '@' (at == 0), or an empty local part (at == 1). */
		mask_put(&o, MASK_STARS, MASK_STARS_LEN);
		return (mask_finish(&o));
	}
	at--;		/* index of the '@' */

	(void)mask_put_cp(&o, p, at);
	mask_put(&o, MASK_STARS "@", MASK_STARS_LEN + 1);
	for (i = at + 1; i < len && !o.full; )
		i += mask_put_cp(&o, p + i, len - i);

	return (mask_finish(&o));
}

/*
 * The code point at s (len > 0) and its length; an invalid byte is one
 * U+FFFD of length 1.
 */
static size_t
mask_next(const unsigned char *s, size_t len, uint32_t *cpp)
{
	size_t	n;

	if (s[0] < 0x80) {
		*cpp = s[0];
		return (1);
	}
	if ((n = pc_utf8_seq(s, len, cpp)) == 0) {
		*cpp = 0xfffd;
		return (1);
	}
	return (n);
}

/* Length of the word separator at s (len > 0), or 0. */
static size_t
mask_space(const unsigned char *s, size_t len)
{
	if (s[0] == ' ')
		return (1);
	/* U+3000 is E3 80 80. */
	if (len >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return (3);
	return (0);
}

/* 1 if cp may be shown as itself. */
static int
mask_shown(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return (0);
	if (cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return (0);
	return (1);
}

/* Append n bytes; sticky "full" if they and a NUL do not fit. */
static void
mask_put(struct mask_out *o, const void *s, size_t n)
{
	if (o->full)
		return;
	if (o->cap - o->len <= n) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* Append the code point at s (len > 0), sanitised; returns its length. */
static size_t
mask_put_cp(struct mask_out *o, const unsigned char *s, size_t len)
{
	uint32_t	cp;
	size_t		n;

	n = mask_next(s, len, &cp);
	if (cp == 0xfffd || !mask_shown(cp))
		mask_put(o, MASK_FFFD, MASK_FFFD_LEN);
	else
		mask_put(o, s, n);
	return (n);
}

static int
mask_finish(struct mask_out *o)
{
	if (o->full || o->len > INT_MAX) {
		explicit_bzero(o->buf, o->cap);
		return (-1);
	}
	o->buf[o->len] = '\0';
	return ((int)o->len);
}
