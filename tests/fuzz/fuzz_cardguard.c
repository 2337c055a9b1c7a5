/*
 * fuzz_cardguard.c: pc_cardguard_find() against a plain reference.
 *
 * The reference follows the rules written in src/cardguard.c, the slow
 * way: split the text into runs of digits (ASCII or U+FF10..U+FF19)
 * joined by single separators (space, '-', U+3000, U+FF0D), then try
 * every window of 13..19 consecutive digits of every run with Luhn.
 * Property: both give the same answer, and putting the text between two
 * letters changes nothing.
 */
#include "cardguard.h"
#include "fuzz_util.h"

static int	ref_luhn(const uint8_t *, size_t);
static int	ref_find(const unsigned char *, size_t);

static int
ref_luhn(const uint8_t *d, size_t n)
{
	unsigned int	sum = 0, v;
	size_t		k;

	for (k = 0; k < n; k++) {
		v = d[n - 1 - k];
		if (k % 2 == 1)
			v = (v * 2 > 9) ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return (sum % 10 == 0);
}

static int
ref_run(const uint8_t *d, size_t n)
{
	size_t	start, w;

	for (start = 0; start < n; start++) {
		for (w = 13; w <= 19 && start + w <= n; w++) {
			if (ref_luhn(d + start, w))
				return (1);
		}
	}
	return (0);
}

static int
ref_find(const unsigned char *s, size_t len)
{
	uint8_t		*run;
	size_t		i, n, nd;
	int		prev_sep, found;

	if ((run = malloc(len + 1)) == NULL)
		abort();
	nd = 0;
	prev_sep = 0;
	found = 0;
	for (i = 0; i < len && !found; i += n) {
		if (s[i] >= '0' && s[i] <= '9') {
			run[nd++] = s[i] - '0';
			prev_sep = 0;
			n = 1;
			continue;
		}
		if (len - i >= 3 && s[i] == 0xef && s[i + 1] == 0xbc &&
		    s[i + 2] >= 0x90 && s[i + 2] <= 0x99) {
			run[nd++] = s[i + 2] - 0x90;
			prev_sep = 0;
			n = 3;
			continue;
		}
		n = 0;
		if (s[i] == ' ' || s[i] == '-')
			n = 1;
		else if (len - i >= 3 && ((s[i] == 0xe3 && s[i + 1] == 0x80 &&
		    s[i + 2] == 0x80) || (s[i] == 0xef && s[i + 1] == 0xbc &&
		    s[i + 2] == 0x8d)))
			n = 3;
		if (n != 0 && nd > 0 && !prev_sep) {
			prev_sep = 1;	/* may join two digits */
			continue;
		}
		/* Anything else, or a second separator: the run ends. */
		found = ref_run(run, nd);
		nd = 0;
		prev_sep = 0;
		if (n == 0)
			n = 1;
	}
	if (!found)
		found = ref_run(run, nd);
	free(run);
	return (found);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *framed;
	int	r;

	s = (char *)fz_dup(data, size);
	r = pc_cardguard_find(s, size);
	FZ_CHECK(r == 0 || r == 1);
	FZ_CHECK(r == ref_find(data, size));

	if ((framed = malloc(size + 2)) == NULL)
		abort();
	framed[0] = 'x';
	if (size > 0)
		memcpy(framed + 1, data, size);
	framed[size + 1] = 'x';
	FZ_CHECK(pc_cardguard_find(framed, size + 2) == r);

	free(framed);
	free(s);
	return (0);
}
