/*
 * planted_dberr.c: database errors recognised by their message text,
 * planted on purpose for the self-test of the database error check in
 * scripts/static-check (scripts/dberrcheck.py). It is never built (not
 * under src/); the check reads it with clang.
 *
 * The self-test passes only if the check reports exactly the lines that
 * carry a PLANTED comment: the comparisons on a message must be caught,
 * and the ones beside them on the SQLSTATE, or on text that is not a
 * message, must not be reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"

struct failure {
	char	text[256];
	char	state[6];
};

int	planted(PGconn *, PGresult *, struct kore_pgsql *, struct pc_dbq *,
	    const char *);

int
planted(PGconn *db, PGresult *res, struct kore_pgsql *sql,
    struct pc_dbq *q, const char *name)
{
	struct failure	 f;
	const char	*msg, *st, *other;
	char		 buf[256];
	char		*copy;
	int		 n = 0;

	/* The message straight from libpq or Kore. */
	n += strstr(PQresultErrorMessage(res), "duplicate key") != NULL; /* PLANTED */
	n += strcmp(PQerrorMessage(db), "no connection") == 0;	/* PLANTED */
	n += strncmp(sql->error, "ERROR:  permission", 18) == 0;	/* PLANTED */
	n += strcasecmp(q->sql.error, "deadlock") == 0;		/* PLANTED */
	n += strstr(q->error, "violates") != NULL;		/* PLANTED */
	n += strcmp(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),	/* PLANTED */
	    "division by zero") == 0;
	n += strstr((const char *)(sql->error), "timeout") != NULL; /* PLANTED */

	/* Through a ?: and a local variable. */
	n += strstr(sql->error ? sql->error : "", "unique") != NULL; /* PLANTED */
	msg = PQresultErrorMessage(res);
	n += strstr(msg, "unique") != NULL;			/* PLANTED */

	/* Through copies: a local array, a field, a duplicate. */
	(void)snprintf(buf, sizeof(buf), "%s", PQerrorMessage(db));
	n += strncmp(buf, "FATAL", 5) == 0;			/* PLANTED */
	(void)strlcpy(f.text, q->sql.error, sizeof(f.text));
	n += strcmp(f.text, "canceled") == 0;			/* PLANTED */
	copy = strdup(PQresultErrorMessage(res));
	n += strstr(copy, "serialization") != NULL;		/* PLANTED */
	free(copy);

	/* Fine: the SQLSTATE, our own text, a message only logged. */
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	n += st != NULL && strcmp(st, "23505") == 0;
	n += strncmp(q->sqlstate, "PC", 2) == 0;
	n += strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "40001") == 0;
	(void)strlcpy(f.state, "40P01", sizeof(f.state));
	n += strcmp(f.state, "40P01") == 0;
	other = name;
	n += strcmp(other, "admin") == 0;
	n += strstr(name, "error") != NULL;
	fprintf(stderr, "db: %s\n", sql->error ? sql->error : "?");
	return (n);
}
