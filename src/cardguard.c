/*
 * cardguard.c: spot candidate card numbers in free text (pure, no Kore
 * headers).
 *
 * A digit is an ASCII digit or a full-width digit (U+FF10..U+FF19, as
 * pasted from Japanese forms). A run is a sequence of digits in which
 * two neighbouring digits may be separated by one separator: an ASCII
 * space or hyphen ("4111 1111-1111 1111") or, like the digits, their
 * full-width forms (U+3000 ideographic space, U+FF0D full-width
 * hyphen-minus). Separators may be mixed within a run. Anything else
 * ends the run: two separators in a row, a separator before the first
 * digit or after the last one, any other byte (letters, punctuation,
 * tabs, invalid UTF-8).
 *
 * The text holds a candidate if any window of 13 to 19 consecutive
 * digits of any run, at any start offset, passes the Luhn check.
 *
 * Every window is tested on purpose, not only runs that are 13..19
 * digits long: a PAN written next to other digits joins them into one
 * longer run ("2 4111 1111 1111 1111" for a quantity, "4111 1111 1111
 * 1111 123" with the CVV, a 25-digit reference that embeds a number),
 * and only the windows find it. The price is false positives on long
 * digit runs: about 10% of runs of 13 random digits are flagged, 65% of
 * runs of 16 and 95% of runs of 19 (13 zeros pass Luhn too). This is a
 * guard, so it errs on the side of flagging.
 *
 * The scan is one pass with a 19-digit ring buffer and no allocation:
 * at each digit the windows that end there are checked.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "cardguard.h"

#define CARDGUARD_MIN		13
#define CARDGUARD_MAX		19

static int	cardguard_digit(const unsigned char *, size_t, size_t *);
static size_t	cardguard_sep(const unsigned char *, size_t);
static int	cardguard_luhn(const uint8_t *, size_t, size_t);

int
pc_cardguard_find(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint8_t			 ring[CARDGUARD_MAX];
	size_t			 i, n, head, have, w;
	int			 d, sep;

	if (s == NULL)
		return (0);

	head = 0;	/* where the next digit goes */
	have = 0;	/* digits of the current run in ring, at most 19 */
	sep = 0;	/* the last byte was a separator inside a run */

	for (i = 0; i < len; i += n) {
		if ((d = cardguard_digit(p + i, len - i, &n)) != -1) {
			ring[head] = (uint8_t)d;
			head = (head + 1) % CARDGUARD_MAX;
			if (have < CARDGUARD_MAX)
				have++;
			sep = 0;
			for (w = CARDGUARD_MIN; w <= have; w++) {
				if (cardguard_luhn(ring, head, w))
					return (1);
			}
			continue;
		}

		if ((n = cardguard_sep(p + i, len - i)) != 0 && have > 0 &&
		    !sep) {
			sep = 1;
			continue;
		}
		/* Anything else, or a second separator, ends the run. */
		if (n == 0)
			n = 1;
		have = 0;
		sep = 0;
	}

	return (0);
}

/* The digit at s (0..9) and its length in *np, or -1. */
static int
cardguard_digit(const unsigned char *s, size_t len, size_t *np)
{
	if (s[0] >= '0' && s[0] <= '9') {
		*np = 1;
		return (s[0] - '0');
	}
	/* U+FF10..U+FF19 is EF BC 90..EF BC 99. */
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc &&
	    s[2] >= 0x90 && s[2] <= 0x99) {
		*np = 3;
		return (s[2] - 0x90);
	}
	return (-1);
}

/* Length of the separator at s, or 0. */
static size_t
cardguard_sep(const unsigned char *s, size_t len)
{
	if (s[0] == ' ' || s[0] == '-')
		return (1);
	if (len < 3)
		return (0);
	/* U+3000 is E3 80 80, U+FF0D is EF BC 8D. */
	if ((s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) ||
	    (s[0] == 0xef && s[1] == 0xbc && s[2] == 0x8d))
		return (3);
	return (0);
}

/* Luhn check of the last w digits written to ring before head. */
static int
cardguard_luhn(const uint8_t *ring, size_t head, size_t w)
{
	size_t		k, idx;
	unsigned int	sum, d;

	sum = 0;
	idx = head;
	for (k = 0; k < w; k++) {
		idx = (idx + CARDGUARD_MAX - 1) % CARDGUARD_MAX;
		d = ring[idx];
		/* From the right, every second digit is doubled. */
		if (k & 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}

	return (sum % 10 == 0);
}
