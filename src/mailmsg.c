/*
 * mailmsg.c: the mailed reports (pure). The daily digest and the weekly
 * summary go to several people at once, so that no one of them can
 * change what the others received: one message, every recipient in its
 * To header, handed to the MTA's sendmail -t. The text is plain (a
 * digest holds counts and event ids); headers are checked here so that
 * nothing from the policy or the database can add a header line.
 */
#include <stdio.h>
#include <string.h>

#include "mailmsg.h"
#include "wbuf.h"

/* RFC 5322 2.1.1: at most 998 bytes on a line. */
#define PC_MAILMSG_LINE_MAX	998

static int	pc_mailmsg_addr_ok(const char *, size_t);
static int	pc_mailmsg_header_ok(const char *);
static int	pc_mailmsg_body_ok(const char *);
static int	pc_mailmsg_put(char **, size_t *, size_t *, const char *);

/* local@domain from a deliberately small alphabet. */
static int
pc_mailmsg_addr_ok(const char *s, size_t n)
{
	size_t	i, at;
	int	c;

	if (n == 0 || n >= PC_MAILMSG_ADDR_MAX)
		return (0);
	at = n;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '@') {
			if (at != n)
				return (0);
			at = i;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-')
			continue;
		if (at == n && (c == '_' || c == '+'))
			continue;
		return (0);
	}
	/* Something on both sides; no dot at either end of the domain. */
	if (at == 0 || at == n || at + 1 == n || s[at + 1] == '.' ||
	    s[n - 1] == '.' || s[0] == '.' || s[at - 1] == '.')
		return (0);
	return (1);
}

int
pc_mailmsg_recipients(const char *list, char out[][PC_MAILMSG_ADDR_MAX],
    int max)
{
	const char	*p, *e;
	size_t		 n;
	int		 count;

	if (list == NULL || *list == '\0')
		return (-1);
	count = 0;
	for (p = list;; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (!pc_mailmsg_addr_ok(p, n) || count >= max ||
		    count >= PC_MAILMSG_MAX_RCPT)
			return (-1);
		if (out != NULL) {
			memcpy(out[count], p, n);
			out[count][n] = '\0';
		}
		count++;
		if (*e == '\0')
			break;
	}
	return (count);
}

int
pc_mailmsg_recipients_ok(const char *list)
{
	return (pc_mailmsg_recipients(list, NULL, PC_MAILMSG_MAX_RCPT) > 0);
}

/* A header value: printable ASCII and spaces, one line. */
static int
pc_mailmsg_header_ok(const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0' || strlen(s) > 200)
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (0);
	}
	return (1);
}

/* No CR, no NUL (strlen ends it), no line over the limit. */
static int
pc_mailmsg_body_ok(const char *s)
{
	size_t	run;

	if (s == NULL)
		return (0);
	for (run = 0; *s != '\0'; s++) {
		if (*s == '\r')
			return (0);
		run = *s == '\n' ? 0 : run + 1;
		if (run > PC_MAILMSG_LINE_MAX)
			return (0);
	}
	return (1);
}

static int
pc_mailmsg_put(char **buf, size_t *len, size_t *cap, const char *s)
{
	return (pc_wbuf_put(buf, len, cap, s, strlen(s)));
}

char *
pc_mailmsg_build(const struct pc_mailmsg *m, size_t *len, size_t *cap)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	char		*buf, date[64];
	int		 ok;

	*len = *cap = 0;
	buf = NULL;
	if (!pc_mailmsg_header_ok(m->from) ||
	    !pc_mailmsg_addr_ok(m->from, strlen(m->from)) ||
	    !pc_mailmsg_recipients_ok(m->to) ||
	    !pc_mailmsg_header_ok(m->subject) ||
	    !pc_mailmsg_header_ok(m->msgid) || strpbrk(m->msgid, "<> ") ||
	    !pc_mailmsg_body_ok(m->body) || gmtime_r(&m->date, &tm) == NULL)
		return (NULL);
	/* RFC 5322 3.3, in English whatever the locale. */
	(void)snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d "
	    "+0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);

	ok = pc_mailmsg_put(&buf, len, cap, "From: ") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, m->from) == 0 &&
	    pc_mailmsg_put(&buf, len, cap, "\nTo: ") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, m->to) == 0 &&
	    pc_mailmsg_put(&buf, len, cap, "\nSubject: ") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, m->subject) == 0 &&
	    pc_mailmsg_put(&buf, len, cap, "\nDate: ") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, date) == 0 &&
	    pc_mailmsg_put(&buf, len, cap, "\nMessage-ID: <") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, m->msgid) == 0 &&
	    pc_mailmsg_put(&buf, len, cap, ">\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n") == 0 &&
	    pc_mailmsg_put(&buf, len, cap, m->body) == 0 &&
	    pc_wbuf_put(&buf, len, cap, NULL, 0) == 0;
	if (!ok) {
		pc_mailmsg_free(buf, *cap);
		*len = *cap = 0;
		return (NULL);
	}
	buf[*len] = '\0';
	return (buf);
}

void
pc_mailmsg_free(char *buf, size_t cap)
{
	pc_wbuf_free(buf, cap);
}
