/*
 * syslog5424.h: one audit event as an RFC 5424 syslog message, and the
 * RFC 5425 octet-counting frame for a TLS stream (pure).
 */
#ifndef PC_SYSLOG5424_H
#define PC_SYSLOG5424_H

#include <stddef.h>
#include <stdint.h>

/* Our structured-data id: the example enterprise number (RFC 5612). */
#define PC_SYSLOG5424_SDID	"pc@32473"
/* RFC 5424 field limits. */
#define PC_SYSLOG5424_HOST_MAX	255
#define PC_SYSLOG5424_APP_MAX	48
#define PC_SYSLOG5424_MSGID_MAX	32
/* "LEN SP": a decimal length of at most 9 digits and the space. */
#define PC_SYSLOG5424_FRAME_MAX	10

struct pc_syslog5424 {
	int		 facility;	/* 0..23 */
	int		 severity;	/* 0..7 */
	const char	*timestamp;	/* RFC 3339, NULL: "-" */
	const char	*hostname;
	const char	*app;
	int64_t		 procid;
	int64_t		 id;		/* the event's id */
	int64_t		 seq;		/* its place in the chain */
	const char	*type;		/* event type: MSGID and SD "type" */
	const char	*body;		/* the MSG, one line of JSON */
};

/*
 * "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [pc@32473 id= seq= type=] MSG"
 * into out with a NUL; the length, or -1 (out "") when it does not fit
 * or a number is out of range. Header fields keep printable US-ASCII
 * only (anything else becomes '_') and are cut to their RFC limits; SD
 * values have '"', '\' and ']' escaped (RFC 5424, 6.3.3).
 */
int	pc_syslog5424_format(const struct pc_syslog5424 *m, char *out,
	    size_t outlen);

/*
 * The "LEN SP" prefix for a message of len bytes (RFC 5425, 4.3) into
 * out with a NUL; its length, or -1.
 */
int	pc_syslog5424_frame(size_t len, char *out, size_t outlen);

/* The severity for an audit outcome: failure and denied warn. */
int	pc_syslog5424_severity(const char *outcome);

#endif
