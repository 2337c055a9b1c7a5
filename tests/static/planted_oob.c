/*
 * planted_oob.c: a deliberate memory error, planted for the self-test of
 * scripts/sanitize-check. It is never part of payconsole (not under
 * src/); the script builds and runs it on its own.
 *
 *   planted_oob        copies a 16-byte name into a 16-byte heap buffer
 *                      with an off-by-one length check, so the NUL lands
 *                      one byte past the end: AddressSanitizer must stop
 *                      it with "heap-buffer-overflow ... WRITE of size 1".
 *   planted_oob ub     overflows a signed int: UndefinedBehaviorSanitizer
 *                      must stop it ("signed integer overflow") when
 *                      UBSAN_OPTIONS has halt_on_error=1, which is what
 *                      makes UBSan findings fail the unit tests.
 *
 * Without a sanitizer both runs print something and exit 0, so only the
 * sanitizer can make them fail.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t	copy_name(char *, size_t, const char *);

/* The bug: "n > dstlen" should be "n >= dstlen". */
static size_t
copy_name(char *dst, size_t dstlen, const char *src)
{
	size_t	n;

	n = strlen(src);
	if (n > dstlen)
		n = dstlen;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return (n);
}

int
main(int argc, char *argv[])
{
	char		*buf;
	volatile int	 v;

	if (argc > 1 && strcmp(argv[1], "ub") == 0) {
		v = INT_MAX;
		v = v + argc;
		printf("%d\n", v);
		return (0);
	}

	if ((buf = malloc(16)) == NULL)
		return (1);
	/* Sixteen bytes: fits the check, not the NUL after it. */
	(void)copy_name(buf, 16, argc > 5 ? argv[5] : "Yamada Taro-san!");
	printf("%s\n", buf);
	free(buf);
	return (0);
}
