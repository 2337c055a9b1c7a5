/*
 * syslog5424.c: one audit event as an RFC 5424 syslog message (pure, no
 * Kore headers), for the SIEM stream (src/siem.c).
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
 *       [pc@32473 id="ID" seq="SEQ" type="TYPE"] MSG
 *
 * MSGID is the event type cut to 32 characters (RFC 5424's limit; our
 * types may be 64), so the whole type travels in the SD parameter. MSG
 * is the event as one line of JSON without a BOM (MSG-ANY): jsonw.c
 * escapes every control character, so a message never holds a line
 * break. The RFC 5425 frame counts octets, so the body may hold any
 * byte a datagram or a stream can carry.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "syslog5424.h"

struct pc_syslog5424_out {
	char		*buf;
	size_t		 cap;
	size_t		 len;
	int		 full;
};

static void	pc_syslog5424_put(struct pc_syslog5424_out *, const char *,
		    size_t);
static void	pc_syslog5424_field(struct pc_syslog5424_out *, const char *,
		    size_t);
static void	pc_syslog5424_param(struct pc_syslog5424_out *, const char *,
		    const char *);

static void
pc_syslog5424_put(struct pc_syslog5424_out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* A header field: PRINTUSASCII, at most max, NILVALUE when empty. */
static void
pc_syslog5424_field(struct pc_syslog5424_out *o, const char *s, size_t max)
{
	size_t	i;
	char	c;

	pc_syslog5424_put(o, " ", 1);
	if (s == NULL || *s == '\0') {
		pc_syslog5424_put(o, "-", 1);
		return;
	}
	for (i = 0; i < max && s[i] != '\0'; i++) {
		c = s[i];
		if ((unsigned char)c < 33 || (unsigned char)c > 126)
			c = '_';
		pc_syslog5424_put(o, &c, 1);
	}
}

/* ' name="value"' with '"', '\' and ']' escaped (RFC 5424, 6.3.3). */
static void
pc_syslog5424_param(struct pc_syslog5424_out *o, const char *name,
    const char *v)
{
	pc_syslog5424_put(o, " ", 1);
	pc_syslog5424_put(o, name, strlen(name));
	pc_syslog5424_put(o, "=\"", 2);
	for (; v != NULL && *v != '\0'; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			pc_syslog5424_put(o, "\\", 1);
		pc_syslog5424_put(o, v, 1);
	}
	pc_syslog5424_put(o, "\"", 1);
}

int
pc_syslog5424_format(const struct pc_syslog5424 *m, char *out, size_t outlen)
{
	struct pc_syslog5424_out	o;
	char				num[32];

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (m == NULL || m->facility < 0 || m->facility > 23 ||
	    m->severity < 0 || m->severity > 7 || m->procid < 0 ||
	    m->id < 0 || m->seq < 0)
		return (-1);
	o.buf = out;
	o.cap = outlen;
	o.len = 0;
	o.full = 0;
	(void)snprintf(num, sizeof(num), "<%d>1",
	    m->facility * 8 + m->severity);
	pc_syslog5424_put(&o, num, strlen(num));
	pc_syslog5424_field(&o, m->timestamp, 32);
	pc_syslog5424_field(&o, m->hostname, PC_SYSLOG5424_HOST_MAX);
	pc_syslog5424_field(&o, m->app, PC_SYSLOG5424_APP_MAX);
	(void)snprintf(num, sizeof(num), "%" PRId64, m->procid);
	pc_syslog5424_field(&o, num, 128);
	pc_syslog5424_field(&o, m->type, PC_SYSLOG5424_MSGID_MAX);
	pc_syslog5424_put(&o, " [" PC_SYSLOG5424_SDID,
	    strlen(" [" PC_SYSLOG5424_SDID));
	(void)snprintf(num, sizeof(num), "%" PRId64, m->id);
	pc_syslog5424_param(&o, "id", num);
	(void)snprintf(num, sizeof(num), "%" PRId64, m->seq);
	pc_syslog5424_param(&o, "seq", num);
	pc_syslog5424_param(&o, "type", m->type);
	pc_syslog5424_put(&o, "]", 1);
	if (m->body != NULL && *m->body != '\0') {
		pc_syslog5424_put(&o, " ", 1);
		pc_syslog5424_put(&o, m->body, strlen(m->body));
	}
	if (o.full) {
		out[0] = '\0';
		return (-1);
	}
	return ((int)o.len);
}

int
pc_syslog5424_frame(size_t len, char *out, size_t outlen)
{
	int	n;

	if (out == NULL || outlen == 0 || len == 0 || len > 999999999)
		return (-1);
	n = snprintf(out, outlen, "%zu ", len);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return (-1);
	}
	return (n);
}

int
pc_syslog5424_severity(const char *outcome)
{
	/* 4 warning, 6 informational. */
	if (outcome != NULL && (strcmp(outcome, "failure") == 0 ||
	    strcmp(outcome, "denied") == 0))
		return (4);
	return (6);
}
