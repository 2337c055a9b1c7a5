/*
 * cardguard.c: spot candidate card numbers in free text (pure, no Kore
 * headers; Unicode data from ICU).
 *
 * The text is read as UTF-8, one code point at a time (pc_utf8_seq());
 * a byte that does not start a valid sequence counts as one separator
 * (below), so invalid UTF-8 is never a way around the guard. Each code
 * point is folded and put in one of four classes:
 *
 *   digit      Numeric_Type=Decimal (general category Nd: every
 *              script's decimal digits, full-width and mathematical
 *              digits) with its value; otherwise, if the code point
 *              has an NFKC (compatibility) decomposition, each code
 *              point of it is classed instead, so U+2460 CIRCLED ONE is
 *              "1", U+2469 CIRCLED TEN is "10", U+2488 is "1." and
 *              superscripts are digits; otherwise Numeric_Type=Digit
 *              with a value 0..9 (U+2776 DINGBAT NEGATIVE CIRCLED DIGIT
 *              ONE, Ethiopic digits) is that digit.
 *   ignored    format characters (Cf: U+200B, U+2060, U+FEFF, soft
 *              hyphen), non-spacing and enclosing marks (Mn, Me) and
 *              every other Default_Ignorable_Code_Point: invisible, so
 *              they neither join nor split digits.
 *   breaking   letters (L*) and letter numbers (Nl): a digit run ends.
 *   separator  everything else: spaces of every kind (U+00A0, U+2007,
 *              U+3000), punctuation, symbols, controls (tab, LF, NUL),
 *              unassigned and private-use code points, invalid bytes.
 *
 * A run is a sequence of digits in which two neighbouring digits are
 * apart by at most CARDGUARD_GAP (3) separators, mixed as they come
 * ("4111 1111-1111.1111", "4111 / 1111", "4111,\t1111"); a fourth
 * separator in a row, or a letter, ends the run.
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
 * runs of 16 and 95% of runs of 19 (13 zeros pass Luhn too); since
 * separators now join numbers, a list of several numbers ("100, 200,
 * 300, 400, 500") is one run too. This is a guard, so it errs on the
 * side of flagging: text that is refused can be reworded, a card number
 * that is stored cannot be taken back.
 *
 * Why ICU and not a table: the digit classes change with every Unicode
 * version (Nd grows in most), glibc's iswdigit() knows only ASCII, and
 * ICU (libicu72, Debian 12) is kept up to date with Unicode. The
 * property lookups (u_charType, u_getIntPropertyValue,
 * u_hasBinaryProperty) use data compiled into libicuuc; the NFKC data
 * comes from the library-packaged libicudata, never from a file
 * (pc_cardguard_init() sets UDATA_NO_FILES and loads it in the parent,
 * before chroot and seccomp). Should it be missing anyway, the guard
 * fails closed: every text is a candidate.
 *
 * The scan is one pass with a 19-digit ring buffer and no allocation:
 * at each digit the windows that end there are checked.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <unicode/uchar.h>
#include <unicode/udata.h>
#include <unicode/unorm2.h>

#include "cardguard.h"
#include "utf8.h"

#define CARDGUARD_MIN		13
#define CARDGUARD_MAX		19
#define CARDGUARD_GAP		3
/* The longest NFKC decomposition of one code point is 18 (U+FDFA). */
#define CARDGUARD_DECOMP	32

enum cardguard_class {
	CARDGUARD_DIGIT,
	CARDGUARD_IGNORED,
	CARDGUARD_BREAK,
	CARDGUARD_SEP,
};

struct cardguard_scan {
	uint8_t		ring[CARDGUARD_MAX];
	size_t		head;	/* where the next digit goes */
	size_t		have;	/* digits of the current run in ring, <= 19 */
	unsigned int	gap;	/* separators since the run's last digit */
};

static enum cardguard_class	cardguard_class(UChar32, int *);
static int	cardguard_cp(struct cardguard_scan *, const UNormalizer2 *,
		    UChar32);
static int	cardguard_unit(struct cardguard_scan *, enum cardguard_class,
		    int);
static int	cardguard_luhn(const uint8_t *, size_t, size_t);

int
pc_cardguard_init(void)
{
	UErrorCode	err = U_ZERO_ERROR;

	/* The data linked into libicudata only: no file is ever opened. */
	udata_setFileAccess(UDATA_NO_FILES, &err);
	if (U_FAILURE(err))
		return (-1);
	if (unorm2_getNFKCInstance(&err) == NULL || U_FAILURE(err))
		return (-1);
	return (0);
}

int
pc_cardguard_find(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct cardguard_scan	 sc;
	const UNormalizer2	*nfkc;
	UErrorCode		 err = U_ZERO_ERROR;
	uint32_t		 cp;
	size_t			 i, n;
	int			 hit;

	if (s == NULL)
		return (0);
	/* A cached singleton after the first call. */
	if ((nfkc = unorm2_getNFKCInstance(&err)) == NULL || U_FAILURE(err))
		return (1);

	sc.head = sc.have = 0;
	sc.gap = 0;
	for (i = 0; i < len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			cp = p[i];
		} else if ((n = pc_utf8_seq(p + i, len - i, &cp)) == 0) {
			/* Not UTF-8: one separator per byte. */
			n = 1;
			if (cardguard_unit(&sc, CARDGUARD_SEP, 0))
				return (1);
			continue;
		}
		if ((hit = cardguard_cp(&sc, nfkc, (UChar32)cp)) != 0)
			return (hit);
	}

	return (0);
}

/* Fold one code point (its NFKC decomposition, if any) into the scan. */
static int
cardguard_cp(struct cardguard_scan *sc, const UNormalizer2 *nfkc, UChar32 c)
{
	UChar			buf[CARDGUARD_DECOMP];
	UErrorCode		err = U_ZERO_ERROR;
	UChar32			d;
	enum cardguard_class	cl;
	int32_t			k, n;
	int			v;

	if (u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_DECIMAL &&
	    (n = unorm2_getDecomposition(nfkc, c, buf, CARDGUARD_DECOMP,
	    &err)) > 0 && U_SUCCESS(err)) {
		for (k = 0; k < n; ) {
			U16_NEXT(buf, k, n, d);
			cl = cardguard_class(d, &v);
			if (cardguard_unit(sc, cl, v))
				return (1);
		}
		return (0);
	}
	cl = cardguard_class(c, &v);
	return (cardguard_unit(sc, cl, v));
}

/* The class of c (already folded) and, for a digit, its value in *vp. */
static enum cardguard_class
cardguard_class(UChar32 c, int *vp)
{
	int8_t		gc;
	int32_t		nt;
	double		v;

	*vp = 0;
	nt = u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE);
	if (nt == U_NT_DECIMAL || nt == U_NT_DIGIT) {
		v = u_getNumericValue(c);
		if (v >= 0 && v <= 9 && v == (double)(int)v) {
			*vp = (int)v;
			return (CARDGUARD_DIGIT);
		}
	}
	gc = u_charType(c);
	if (gc == U_FORMAT_CHAR || gc == U_NON_SPACING_MARK ||
	    gc == U_ENCLOSING_MARK ||
	    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return (CARDGUARD_IGNORED);
	if (gc == U_UPPERCASE_LETTER || gc == U_LOWERCASE_LETTER ||
	    gc == U_TITLECASE_LETTER || gc == U_MODIFIER_LETTER ||
	    gc == U_OTHER_LETTER || gc == U_LETTER_NUMBER)
		return (CARDGUARD_BREAK);
	return (CARDGUARD_SEP);
}

/* One folded unit; 1 when a window ending at it passes Luhn. */
static int
cardguard_unit(struct cardguard_scan *sc, enum cardguard_class cl, int v)
{
	size_t	w;

	switch (cl) {
	case CARDGUARD_DIGIT:
		sc->ring[sc->head] = (uint8_t)v;
		sc->head = (sc->head + 1) % CARDGUARD_MAX;
		if (sc->have < CARDGUARD_MAX)
			sc->have++;
		sc->gap = 0;
		for (w = CARDGUARD_MIN; w <= sc->have; w++) {
			if (cardguard_luhn(sc->ring, sc->head, w))
				return (1);
		}
		break;
	case CARDGUARD_IGNORED:
		break;
	case CARDGUARD_SEP:
		/* Up to CARDGUARD_GAP separators join two digits. */
		if (sc->have > 0 && ++sc->gap > CARDGUARD_GAP) {
			sc->have = 0;
			sc->gap = 0;
		}
		break;
	case CARDGUARD_BREAK:
		sc->have = 0;
		sc->gap = 0;
		break;
	}
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
