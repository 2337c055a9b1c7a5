/*
 * httpscan.c: the byte-level check of a request head (see httpscan.h).
 *
 * Steps: skip one leading CRLF; cut the head into CRLF-ended lines
 * (a CR or LF anywhere else refuses it); check the request line; check
 * each field line; count them.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "httpscan.h"

static int	pc_httpscan_tchar(unsigned char);
static int	pc_httpscan_line(const unsigned char *, size_t, size_t *,
		    size_t *);
static int	pc_httpscan_request_line(const unsigned char *, size_t,
		    const char **);
static int	pc_httpscan_field_line(const unsigned char *, size_t,
		    const char **);

/* RFC 9110 5.6.2 tchar. */
static int
pc_httpscan_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * The line that starts at *off: its length without the CRLF in *n, *off
 * moved past the CRLF. 0 if no CRLF ends it or a lone CR or LF is in it.
 */
static int
pc_httpscan_line(const unsigned char *buf, size_t len, size_t *off,
    size_t *n)
{
	size_t	i;

	for (i = *off; i < len; i++) {
		if (buf[i] == '\n')
			return (0);
		if (buf[i] != '\r')
			continue;
		if (i + 1 >= len || buf[i + 1] != '\n')
			return (0);
		*n = i - *off;
		*off = i + 2;
		return (1);
	}
	return (0);
}

static int
pc_httpscan_request_line(const unsigned char *p, size_t n, const char **why)
{
	size_t	i, m;

	for (m = 0; m < n && p[m] >= 'A' && p[m] <= 'Z'; m++)
		;
	if (m == 0 || m > PC_HTTPSCAN_METHOD_MAX || m == n || p[m] != ' ') {
		*why = "method";
		return (0);
	}
	for (i = m + 1; i < n && p[i] > 0x20 && p[i] < 0x7f; i++)
		;
	if (i == m + 1 || i == n || p[i] != ' ') {
		*why = "request target";
		return (0);
	}
	i++;
	if (n - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' ||
	    p[i + 7] < '0' || p[i + 7] > '9') {
		*why = "protocol version";
		return (0);
	}
	return (1);
}

static int
pc_httpscan_field_line(const unsigned char *p, size_t n, const char **why)
{
	size_t	i;

	for (i = 0; i < n && pc_httpscan_tchar(p[i]); i++)
		;
	if (i == 0 || i == n || p[i] != ':') {
		/* Also a folded line: it starts with SP or HTAB. */
		*why = i == 0 ? "field name empty or folded" : "field name";
		return (0);
	}
	for (i++; i < n; i++) {
		if (p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f))
			continue;
		*why = p[i] == '\0' ? "NUL in field value" : p[i] > 0x7f ?
		    "non-ASCII byte in field value" :
		    "control byte in field value";
		return (0);
	}
	return (1);
}

int
pc_httpscan_head(const unsigned char *buf, size_t len, const char **why)
{
	const char	*dummy;
	size_t		off, start, n, fields;

	if (why == NULL)
		why = &dummy;
	*why = "ok";
	if (buf == NULL) {
		*why = "no head";
		return (PC_HTTPSCAN_BAD);
	}

	off = 0;
	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
		off = 2;

	start = off;
	if (!pc_httpscan_line(buf, len, &off, &n)) {
		*why = "line ending";
		return (PC_HTTPSCAN_BAD);
	}
	if (!pc_httpscan_request_line(buf + start, n, why))
		return (PC_HTTPSCAN_BAD);

	fields = 0;
	for (;;) {
		start = off;
		if (!pc_httpscan_line(buf, len, &off, &n)) {
			*why = "line ending";
			return (PC_HTTPSCAN_BAD);
		}
		if (n == 0)
			break;
		if (!pc_httpscan_field_line(buf + start, n, why))
			return (PC_HTTPSCAN_BAD);
		fields++;
	}
	if (off != len) {
		*why = "bytes after the head";
		return (PC_HTTPSCAN_BAD);
	}
	if (fields > PC_HTTPSCAN_FIELDS_MAX) {
		*why = "too many field lines";
		return (PC_HTTPSCAN_TOO_MANY);
	}
	return (PC_HTTPSCAN_OK);
}

int
pc_httpscan_conn_close(const char *value)
{
	const char	*p;
	size_t		n;

	if (value == NULL)
		return (0);
	for (p = value; *p != '\0';) {
		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 5 && strncasecmp(p, "close", 5) == 0)
			return (1);
		p += n;
	}
	return (0);
}
