/*
 * fuzz_httpscan.c: pc_httpscan_head() and pc_httpscan_conn_close() on
 * arbitrary bytes.
 *
 * Properties of an accepted head, checked here without the scanner's
 * code: only HTAB, CR, LF and visible ASCII;
 * every CR is followed by LF and every LF preceded by CR; it ends with
 * the empty line; the request line holds exactly two spaces; at most
 * PC_HTTPSCAN_FIELDS_MAX field lines; no line starts with SP or HTAB.
 * The answer is one of the three results, with a reason. A "close"
 * found in a Connection value is there, in any case.
 */
#include <strings.h>

#include "httpscan.h"
#include "fuzz_util.h"

static void
fz_accepted(const uint8_t *d, size_t n)
{
	size_t	i, lines, spaces, start;

	FZ_CHECK(n >= 4 && memcmp(d + n - 4, "\r\n\r\n", 4) == 0);
	start = (d[0] == '\r') ? 2 : 0;
	lines = 0;
	spaces = 0;
	for (i = start; i < n; i++) {
		FZ_CHECK(d[i] != '\0' && d[i] < 0x7f);
		FZ_CHECK(d[i] >= 0x20 || d[i] == '\t' || d[i] == '\r' ||
		    d[i] == '\n');
		if (d[i] == '\r')
			FZ_CHECK(i + 1 < n && d[i + 1] == '\n');
		if (d[i] == '\n') {
			FZ_CHECK(i > 0 && d[i - 1] == '\r');
			lines++;
			if (i + 1 < n)
				FZ_CHECK(d[i + 1] != ' ' && d[i + 1] != '\t');
		}
		if (lines == 0 && d[i] == ' ')
			spaces++;
	}
	FZ_CHECK(spaces == 2);
	/* Request line, field lines, the empty line. */
	FZ_CHECK(lines >= 2 && lines - 2 <= PC_HTTPSCAN_FIELDS_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why = NULL;
	char		*s;
	int		 r;

	r = pc_httpscan_head(data, size, &why);
	FZ_CHECK(why != NULL);
	FZ_CHECK(r == PC_HTTPSCAN_OK || r == PC_HTTPSCAN_BAD ||
	    r == PC_HTTPSCAN_TOO_MANY);
	if (r == PC_HTTPSCAN_OK)
		fz_accepted(data, size);

	s = fz_cstr(data, size);
	if (pc_httpscan_conn_close(s))
		FZ_CHECK(strcasestr(s, "close") != NULL);
	free(s);
	return (0);
}
