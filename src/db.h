/*
 * db.h: one parameterised query driven from a handler's state (db.c),
 * on the database handle of one PostgreSQL login role.
 */
#ifndef PC_DB_H
#define PC_DB_H

#include <stddef.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>

/* Database handles, one per PostgreSQL login role (see migrations/). */
#define PC_DB_AUTH	"auth"		/* role pc_auth */
#define PC_DB_PAYMENTS	"payments"	/* role pc_payments */
#define PC_DB_AUDITOR	"auditor"	/* role pc_auditor, read only */

#define PC_DBQ_MAX_PARAMS	16

enum pc_db_status {
	PC_DB_RETRY = 0,	/* come back when Kore wakes the request */
	PC_DB_DONE,		/* q->result holds the last result */
	PC_DB_ERROR,		/* logged; answer 503 */
};

struct pc_dbq {
	struct kore_pgsql	sql;
	const char		*db;
	const char		*query;		/* always a string literal */
	int			nparams;
	const char		*values[PC_DBQ_MAX_PARAMS];
	int			lengths[PC_DBQ_MAX_PARAMS];
	int			formats[PC_DBQ_MAX_PARAMS];
	PGresult		*result;
	char			error[256];	/* logged, never sent */
	char			sqlstate[6];	/* of a refusal; "" if none */
	int			inited;
	int			started;
};

void			pc_db_register(void);
const char		*pc_db_inside_root(const char *, const char *);
int			pc_db_bg(const char *, const char *, int, const char **,
			    void (*)(PGresult *, void *), void (*)(int, void *),
			    void *);
void			pc_dbq_init(struct pc_dbq *, const char *, const char *);
void			pc_dbq_param(struct pc_dbq *, const char *, size_t);
enum pc_db_status	pc_dbq_step(struct http_request *, struct pc_dbq *);
enum pc_db_status	pc_dbq_wait(struct http_request *, struct pc_dbq *);
int			pc_dbq_ready(struct http_request *, struct pc_dbq *,
			    int *);
int			pc_dbq_state(struct http_request *, struct pc_dbq *);
void			pc_dbq_refused(struct http_request *,
			    const struct pc_dbq *);
void			pc_dbq_cleanup(struct pc_dbq *);

#endif
