/*
 * planted_sql.c: query texts built at run time, planted on purpose for
 * the self-test of the SQL check in scripts/static-check. It is never
 * built (not under src/); the check reads it with clang.
 *
 * The self-test passes only if the check reports exactly the lines that
 * carry a PLANTED comment: the violations must be caught, and the calls
 * beside them whose text is fixed at compile time (string literals,
 * macros, const arrays, ?: of literals, wrappers called with literals)
 * must not be reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"

#define Q_USERS		"SELECT id FROM auth.users WHERE username = $1"

static const char	q_count[] = "SELECT count(*) FROM auth.users";
static const char *const q_tx[] = { "BEGIN", "COMMIT" };
static char		q_writable[64] = "SELECT 1";

struct job {
	const char	*query;
	char		 text[64];
	int		 n;
};

void	planted(PGconn *, struct kore_pgsql *, const char *, int);

/* A wrapper: its parameter is the query, so its callers are checked. */
static PGresult *
run(PGconn *db, const char *sql)
{
	return (PQexec(db, sql));
}

/* A wrapper of the wrapper. */
static PGresult *
run_logged(PGconn *db, const char *sql)
{
	fprintf(stderr, "running a query\n");
	return (run(db, sql));
}

/*
 * A wrapper that may swap its parameter for another one: scratch becomes
 * a query argument too, and its callers are checked for it.
 */
static PGresult *
run_default(PGconn *db, const char *sql, char *scratch)
{
	if (sql == NULL)
		sql = scratch;
	return (PQexec(db, sql));
}

/* A wrapper that may swap its parameter for a text it builds. */
static PGresult *
run_or_count(PGconn *db, const char *sql, const char *table)
{
	char	q[128];

	if (sql == NULL) {
		(void)snprintf(q, sizeof(q), "SELECT count(*) FROM %s", table);
		sql = q;
	}
	return (PQexec(db, sql));				/* PLANTED */
}

/*
 * Its parameter name reaches run_logged() below, so planted() is a query
 * function too, and nothing here calls it to check what it is given.
 */
void
planted(PGconn *db, struct kore_pgsql *ks, const char *name, int flag)	/* PLANTED */
{
	char		 q[256], buf[256];
	const char	*p, *s;
	struct job	 j1, j2;
	struct pc_dbq	 dq;
	PGresult	*(*exec)(PGconn *, const char *);

	/* The classic: a name pasted into the SQL text. */
	(void)snprintf(q, sizeof(q),
	    "SELECT * FROM auth.users WHERE username = '%s'", name);
	PQclear(PQexec(db, q));					/* PLANTED */

	/* Fixed at compile time: fine. */
	PQclear(PQexec(db, "SELECT 1"));
	PQclear(PQexec(db, Q_USERS));
	PQclear(PQexec(db, q_count));
	PQclear(PQexec(db, flag ? "BEGIN" : "ROLLBACK"));
	PQclear(PQexec(db, q_tx[flag != 0]));
	PQclear(PQexecParams(db, "SELECT " "$1::int", 1, NULL, q_tx,
	    NULL, NULL, 0));

	/* Built with string functions. */
	(void)strcpy(buf, "SELECT ");
	PQclear(PQexecParams(db, strcat(buf, name), 0, NULL, NULL,	/* PLANTED */
	    NULL, NULL, 0));
	PQclear(PQprepare(db, "stmt", buf, 0, NULL));		/* PLANTED */
	(void)PQsendQuery(db, q);				/* PLANTED */
	(void)PQsendQueryParams(db, getenv("QUERY"), 0, NULL,	/* PLANTED */
	    NULL, NULL, NULL, 0);

	/* A global that is writable is not a constant. */
	(void)kore_pgsql_query(ks, q_writable);			/* PLANTED */
	(void)kore_pgsql_query_params(ks, "SELECT $1", 0, 1, name, 0, 0);

	/* A local pointer: every value it can hold counts. */
	s = "SELECT 2";
	if (flag)
		s = "SELECT 3";
	PQclear(PQexec(db, s));
	p = "SELECT 4";
	if (flag > 1)
		p = q;
	PQclear(PQexec(db, p));					/* PLANTED */

	/* Through the wrappers. */
	PQclear(run(db, "SELECT 5"));
	PQclear(run(db, q));					/* PLANTED */
	PQclear(run_logged(db, Q_USERS));
	PQclear(run_logged(db, name));	/* reported at planted() */
	PQclear(run_default(db, "SELECT 6", buf));		/* PLANTED */
	PQclear(run_default(db, NULL, q_writable));		/* PLANTED */
	PQclear(run_default(db, NULL, "SELECT 9"));
	PQclear(run_or_count(db, "SELECT 10", "auth.users"));

	/* pc_dbq_init() keeps the text for later: same rule. */
	pc_dbq_init(&dq, PC_DB_AUTH, "SELECT auth.session_check($1)");
	pc_dbq_init(&dq, PC_DB_AUTH, buf);			/* PLANTED */

	/* A struct field that is passed on as the query. */
	j1.query = "SELECT 7";
	j2.query = q;						/* PLANTED */
	{
		struct job	j3 = {
			buf,					/* PLANTED */
			"SELECT 11",
			0,
		};
		struct job	j4 = { "SELECT 8", "", 0 };

		PQclear(PQexec(db, j3.query));
		PQclear(PQexec(db, j4.query));
	}
	PQclear(PQexec(db, flag ? j1.query : j2.query));
	(void)snprintf(j1.text, sizeof(j1.text), "SELECT %s", name);
	PQclear(PQexec(db, j1.text));				/* PLANTED */

	/* Calls through a pointer cannot be checked: taking it is refused. */
	exec = PQexec;						/* PLANTED */
	PQclear(exec(db, q));
}
