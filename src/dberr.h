/*
 * dberr.h: what a refusal from PostgreSQL means to the client (pure).
 *
 * The database functions refuse with a SQLSTATE (class PC for our own,
 * see migrations/015 and 016); this is the one table that turns each
 * into an HTTP status, a stable error code and a message. PostgreSQL's
 * message text, which changes with lc_messages, is never looked at.
 * Anything not in the table is a failure of the service: 503.
 */
#ifndef PC_DBERR_H
#define PC_DBERR_H

struct pc_dberr {
	const char	*sqlstate;
	int		status;
	const char	*code;
	const char	*message;
};

/* The entry for a SQLSTATE (NULL or unknown: the 503 entry). */
const struct pc_dberr	*pc_dberr_lookup(const char *sqlstate);

#endif
