/*
 * csvw.c: a CSV writer (RFC 4180) that neutralises spreadsheet formula
 * injection (pure, no Kore headers).
 *
 * Every text field is enclosed in double quotes with inner quotes
 * doubled, so commas, quotes, CR and LF stay inside the field. A field
 * whose first character is '=', '+', '-', '@', TAB or CR, or one of the
 * full-width forms U+FF1D '＝', U+FF0B '＋', U+FF0D '－', U+FF20 '＠', is
 * written with a single quote in front of it inside the quotes, so that
 * spreadsheets show it as text (OWASP, CSV injection). The first
 * character is taken after NUL bytes are dropped: "\0=1+1" is "=1+1" in
 * the file and is neutralised as such.
 *
 * Integers are written bare: a negative one keeps its '-', it is a number
 * and the spreadsheet is meant to read it as one.
 *
 * Output is valid UTF-8: each input byte that is not part of a valid
 * sequence (the rules of jsonw.c) becomes U+FFFD; NUL bytes are dropped.
 *
 * Allocation failure is sticky: pc_csvw_finish() then returns NULL, so a
 * truncated export is never handed out. Buffers are wiped before they are
 * freed, as exports carry personal data.
 *
 * No library: Debian's libcsv (libcsv-dev, not linked) would replace only
 * the quote doubling (csv_write() into a caller's fixed buffer); the
 * formula guard, the UTF-8 repair, the NUL rule and the wiped growable
 * buffer, most of this file, would stay ours, for a new package.
 */

#include <sys/types.h>

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvw.h"
#include "utf8.h"
#include "wbuf.h"

#define CSVW_FFFD		"\xef\xbf\xbd"
#define CSVW_FFFD_LEN		3

static void	csvw_put(struct pc_csvw *, const char *, size_t);
static void	csvw_sep(struct pc_csvw *);
static int	csvw_formula(const unsigned char *, size_t);

void
pc_csvw_init(struct pc_csvw *w)
{
	memset(w, 0, sizeof(*w));
}

void
pc_csvw_free(struct pc_csvw *w)
{
	pc_wbuf_free(w->buf, w->cap);
	pc_csvw_init(w);
}

char *
pc_csvw_finish(struct pc_csvw *w, size_t *len)
{
	char	*ret;

	if (len != NULL)
		*len = 0;

	/* A put of nothing also gives an empty document its buffer. */
	if (w->oom || pc_wbuf_put(&w->buf, &w->len, &w->cap, "", 0) == -1) {
		pc_csvw_free(w);
		return (NULL);
	}

	w->buf[w->len] = '\0';
	ret = w->buf;
	if (len != NULL)
		*len = w->len;
	pc_csvw_init(w);

	return (ret);
}

void
pc_csvw_field(struct pc_csvw *w, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, run, n;
	uint32_t		 cp;

	if (s == NULL)
		len = 0;

	csvw_sep(w);
	csvw_put(w, "\"", 1);

	/* The first character that will be written: NULs are dropped. */
	for (i = 0; i < len && p[i] == '\0'; i++)
		;
	if (i < len && csvw_formula(p + i, len - i))
		csvw_put(w, "'", 1);

	while (i < len && !w->oom) {
		/* Copy a run of bytes that need nothing. */
		for (run = 0; i + run < len; run += n) {
			if (p[i + run] < 0x80) {
				if (p[i + run] == '"' || p[i + run] == '\0')
					break;
				n = 1;
				continue;
			}
			if ((n = pc_utf8_seq(p + i + run, len - i - run,
			    &cp)) == 0)
				break;
		}
		if (run > 0) {
			csvw_put(w, s + i, run);
			i += run;
			continue;
		}

		/* One byte that does. */
		if (p[i] == '"')
			csvw_put(w, "\"\"", 2);
		else if (p[i] != '\0')
			csvw_put(w, CSVW_FFFD, CSVW_FFFD_LEN);
		i++;
	}

	csvw_put(w, "\"", 1);
}

void
pc_csvw_int(struct pc_csvw *w, int64_t v)
{
	char	buf[32];
	int	n;

	csvw_sep(w);
	n = snprintf(buf, sizeof(buf), "%" PRId64, v);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		w->oom = 1;
		return;
	}
	csvw_put(w, buf, (size_t)n);
}

void
pc_csvw_endrow(struct pc_csvw *w)
{
	csvw_put(w, "\r\n", 2);
	w->fields = 0;
}

static void
csvw_put(struct pc_csvw *w, const char *s, size_t n)
{
	if (!w->oom && pc_wbuf_put(&w->buf, &w->len, &w->cap, s, n) == -1)
		w->oom = 1;
}

/* The comma before every field but the first of a row. */
static void
csvw_sep(struct pc_csvw *w)
{
	if (w->fields > 0)
		csvw_put(w, ",", 1);
	if (w->fields < INT_MAX)
		w->fields++;
}

/* 1 if a field starting at s (len > 0) would be read as a formula. */
static int
csvw_formula(const unsigned char *s, size_t len)
{
	switch (s[0]) {
	case '=':
	case '+':
	case '-':
	case '@':
	case '\t':
	case '\r':
		return (1);
	}

	/* U+FF1D, U+FF0B, U+FF0D, U+FF20: EF BC 9D, 8B, 8D, A0. */
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbc) {
		switch (s[2]) {
		case 0x9d:
		case 0x8b:
		case 0x8d:
		case 0xa0:
			return (1);
		}
	}

	return (0);
}

