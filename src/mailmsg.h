/*
 * mailmsg.h: the reports payconsole-admin mails (pure): the recipient
 * list of the policy and the RFC 5322 message handed to sendmail -t.
 */
#ifndef PC_MAILMSG_H
#define PC_MAILMSG_H

#include <stddef.h>
#include <time.h>

#define PC_MAILMSG_MAX_RCPT	16
#define PC_MAILMSG_ADDR_MAX	128

/*
 * A comma-separated list of 1 to PC_MAILMSG_MAX_RCPT plain addresses,
 * local@domain, without blanks, quotes, comments or display names: 1
 * when acceptable (the policy's check), else 0.
 */
int	pc_mailmsg_recipients_ok(const char *list);

/*
 * Split an acceptable list into out[] (at most max); the count, or -1
 * when the list is not acceptable.
 */
int	pc_mailmsg_recipients(const char *list,
	    char out[][PC_MAILMSG_ADDR_MAX], int max);

struct pc_mailmsg {
	const char	*from;		/* an address */
	const char	*to;		/* an acceptable list */
	const char	*subject;	/* printable ASCII */
	const char	*msgid;		/* printable ASCII, no <> */
	time_t		 date;
	const char	*body;		/* UTF-8 text, LF line ends */
};

/*
 * The whole message, headers and body, NUL-terminated, with LF line
 * ends as sendmail reads them; NULL when a field is not acceptable (a
 * header that could carry a line break, a body line over 998 bytes or
 * with a CR or NUL). Free with pc_mailmsg_free().
 */
char	*pc_mailmsg_build(const struct pc_mailmsg *, size_t *len,
	    size_t *cap);
void	pc_mailmsg_free(char *, size_t cap);

#endif
