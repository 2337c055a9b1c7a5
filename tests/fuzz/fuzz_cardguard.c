/*
 * fuzz_cardguard.c: pc_cardguard_find() against a plain reference.
 *
 * The reference follows the rules written in src/cardguard.c, the slow
 * way and by other means: decode the text with fuzz_util.h's decoder
 * (each byte of an ill-formed sequence becomes U+FFFD), normalise the
 * whole of it with ICU's NFKC (the guard decomposes one code point at a
 * time), class each code point (digit: Numeric_Type Decimal or Digit
 * with a value 0..9; ignored: Cf, Mn, Me, Default_Ignorable_Code_Point;
 * letter: L*, Nl; separator: the rest), split into runs on a letter or
 * on a fourth separator in a row, then try every window of 13..19
 * consecutive digits of every run with Luhn.
 *
 * Properties: both give the same answer; putting the text between two
 * letters changes nothing; writing its ASCII digits as Arabic-Indic or
 * mathematical bold digits, and its spaces as NBSP, changes nothing.
 */
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "cardguard.h"
#include "fuzz_util.h"

#define REF_GAP		3

static int	ref_luhn(const uint8_t *, size_t);
static int	ref_run(const uint8_t *, size_t);
static int	ref_kind(UChar32);
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

/* 0..9 a digit, -1 ignored, -2 letter, -3 separator. */
static int
ref_kind(UChar32 c)
{
	int32_t	nt;
	double	v;

	nt = u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE);
	v = u_getNumericValue(c);
	if ((nt == U_NT_DECIMAL || nt == U_NT_DIGIT) && v >= 0 && v <= 9 &&
	    v == (int)v)
		return ((int)v);
	if ((U_GET_GC_MASK(c) & (U_GC_CF_MASK | U_GC_MN_MASK |
	    U_GC_ME_MASK)) != 0 ||
	    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return (-1);
	if ((U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_NL_MASK)) != 0)
		return (-2);
	return (-3);
}

static int
ref_find(const unsigned char *s, size_t len)
{
	const UNormalizer2	*nfkc;
	UErrorCode		 err = U_ZERO_ERROR;
	UChar			*u16, *norm;
	uint8_t			*run;
	uint32_t		 cp;
	size_t			 i, n, nd, gap;
	int32_t			 o, k, nlen;
	UChar32			 c;
	int			 kind, found;

	/* At most two UTF-16 units a byte; NFKC grows one by at most 18. */
	if ((u16 = malloc((2 * len + 1) * sizeof(UChar))) == NULL ||
	    (norm = malloc((36 * len + 1) * sizeof(UChar))) == NULL ||
	    (run = malloc(18 * len + 1)) == NULL)
		abort();
	for (i = 0, o = 0; i < len; i += n) {
		if ((n = fz_utf8(s + i, len - i, &cp)) == 0) {
			n = 1;
			cp = 0xfffd;
		}
		U16_APPEND_UNSAFE(u16, o, (UChar32)cp);
	}
	nfkc = unorm2_getNFKCInstance(&err);
	nlen = unorm2_normalize(nfkc, u16, o, norm, (int32_t)(36 * len + 1),
	    &err);
	FZ_CHECK(U_SUCCESS(err));

	nd = gap = 0;
	found = 0;
	for (k = 0; k < nlen && !found; ) {
		U16_NEXT(norm, k, nlen, c);
		kind = ref_kind(c);
		if (kind >= 0) {
			run[nd++] = (uint8_t)kind;
			gap = 0;
			continue;
		}
		if (kind == -1)
			continue;
		if (kind == -3 && nd > 0 && ++gap <= REF_GAP)
			continue;
		/* A letter, or one separator too many: the run ends. */
		found = ref_run(run, nd);
		nd = gap = 0;
	}
	if (!found)
		found = ref_run(run, nd);
	free(run);
	free(norm);
	free(u16);
	return (found);
}

/* The text with ASCII digits as zero + value, spaces as U+00A0. */
static int
recoded(const uint8_t *data, size_t size, uint32_t zero)
{
	struct fz_buf	b;
	size_t		i;
	int		r;

	fz_init(&b);
	for (i = 0; i < size; i++) {
		if (data[i] >= '0' && data[i] <= '9')
			fz_put_cp(&b, zero + (uint32_t)(data[i] - '0'));
		else if (data[i] == ' ')
			fz_put_cp(&b, 0xa0);
		else
			fz_put(&b, data + i, 1);
	}
	r = pc_cardguard_find((const char *)b.p, b.len);
	free(b.p);
	return (r);
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

	/*
	 * Other digits and spaces change nothing. (A digit byte inside a
	 * multi-byte sequence cannot be: ASCII never is a continuation.)
	 */
	FZ_CHECK(recoded(data, size, 0x660) == r);
	FZ_CHECK(recoded(data, size, 0x1d7ce) == r);

	free(framed);
	free(s);
	return (0);
}
