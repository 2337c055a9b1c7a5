/*
 * qr.c: QR codes for TOTP enrolment (pure, no Kore headers).
 *
 * libqrencode builds the symbol; this file draws it, either as a small
 * SVG document or as half-block characters for a terminal. The matrix
 * encodes the secret, so it is wiped before it is freed.
 *
 * The drawing stays ours because libqrencode (4.1) exports no renderer:
 * its SVG and UTF-8 writers live in the qrencode command (qrenc.c), not
 * in the library (nm -D lists only QRcode_, QRinput_, QRspec_... coding
 * functions), and running the command would put the secret on a pipe.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "password.h"
#include "qr.h"
#include "wipe.h"

#define QR_UPPER	"\xe2\x96\x80"	/* U+2580 upper half block */
#define QR_LOWER	"\xe2\x96\x84"	/* U+2584 lower half block */
#define QR_FULL		"\xe2\x96\x88"	/* U+2588 full block */
#define QR_SGR_ON	"\033[97;40m"
#define QR_SGR_OFF	"\033[0m"

struct qr_buf {
	char	*p;
	size_t	 len;
	size_t	 off;
	int	 err;
};

static QRcode	*qr_encode(const char *);
static void	 qr_free(QRcode *);
static int	 qr_dark(const QRcode *, int, int);
static void	 qr_put(struct qr_buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

int
pc_qr_svg(const char *text, char *out, size_t outlen)
{
	struct qr_buf	 b;
	QRcode		*qr;
	int		 size, x, y, run;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (outlen > INT_MAX)
		outlen = INT_MAX;
	if ((qr = qr_encode(text)) == NULL)
		return (-1);

	b.p = out;
	b.len = outlen;
	b.off = 0;
	b.err = 0;
	size = qr->width + 2 * PC_QR_QUIET;

	qr_put(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n",
	    size, size);
	qr_put(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
	    size, size);
	qr_put(&b, "<path fill=\"#000000\" d=\"");
	/* One subpath per horizontal run of dark modules. */
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x += run) {
			for (run = 0; x + run < qr->width &&
			    qr_dark(qr, x + run, y); run++)
				;
			if (run == 0) {
				run = 1;
				continue;
			}
			qr_put(&b, "M%d %dh%dv1h-%dz", x + PC_QR_QUIET,
			    y + PC_QR_QUIET, run, run);
		}
	}
	qr_put(&b, "\"/>\n</svg>\n");
	qr_free(qr);

	if (b.err) {
		pc_wipe(out, outlen);
		out[0] = '\0';
		return (-1);
	}
	return ((int)b.off);
}

int
pc_qr_terminal(const char *text, FILE *fp)
{
	QRcode		*qr;
	const char	*glyph;
	int		 size, x, y, top, bottom, tty;

	if (fp == NULL)
		return (-1);
	if ((qr = qr_encode(text)) == NULL)
		return (-1);

	tty = isatty(fileno(fp));
	size = qr->width + 2 * PC_QR_QUIET;

	/* Rows y and y + 1 on one line; ink marks light modules. */
	for (y = -PC_QR_QUIET; y < qr->width + PC_QR_QUIET; y += 2) {
		if (tty)
			fputs(QR_SGR_ON, fp);
		for (x = -PC_QR_QUIET; x < qr->width + PC_QR_QUIET; x++) {
			top = !qr_dark(qr, x, y);
			/* Below the last quiet row is no module: no ink. */
			bottom = y + 1 < size - PC_QR_QUIET &&
			    !qr_dark(qr, x, y + 1);
			if (top && bottom)
				glyph = QR_FULL;
			else if (top)
				glyph = QR_UPPER;
			else if (bottom)
				glyph = QR_LOWER;
			else
				glyph = " ";
			fputs(glyph, fp);
		}
		if (tty)
			fputs(QR_SGR_OFF, fp);
		fputc('\n', fp);
	}
	qr_free(qr);

	if (fflush(fp) != 0 || ferror(fp))
		return (-1);
	return (0);
}

/* Level M, 8-bit mode for anything not alphanumeric, case kept. */
static QRcode *
qr_encode(const char *text)
{
	QRcode	*qr;

	if (text == NULL || text[0] == '\0')
		return (NULL);
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return (NULL);
	if (qr->width < 21 || qr->width > 177 || qr->data == NULL) {
		qr_free(qr);
		return (NULL);
	}
	return (qr);
}

static void
qr_free(QRcode *qr)
{
	if (qr == NULL)
		return;
	if (qr->data != NULL)
		pc_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

/* Module (x, y) of the symbol; outside it (the quiet zone) is light. */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return (0);
	return (qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1);
}

static void
qr_put(struct qr_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->off) {
		b->err = 1;
		return;
	}
	b->off += (size_t)n;
}
