/*
 * app.h: state shared by the Kore-facing parts of payconsole.
 *
 * Everything here is loaded once in the parent before the workers fork
 * (and before they chroot), then only read.
 */
#ifndef PC_APP_H
#define PC_APP_H

#include <stddef.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>

#include "bytea.h"
#include "hours.h"
#include "jsonin.h"
#include "nametag.h"
#include "policy.h"
#include "secretbox.h"
#include "token.h"

/* Database handles, one per PostgreSQL login role (see migrations/). */
#define PC_DB_AUTH	"auth"		/* role pc_auth */
#define PC_DB_PAYMENTS	"payments"	/* role pc_payments */
#define PC_DB_AUDITOR	"auditor"	/* role pc_auditor, read only */

extern struct pc_policy		pc_policy;
extern struct pc_tz		pc_tz;
extern struct pc_kek		pc_kek;

/* allowlist.c */
void	pc_allowlist_install(void);

/* refusals.c: refusals counted and recorded per source and minute. */
#define PC_REFUSAL_DENIED	0	/* not on the allowlist */
#define PC_REFUSAL_BUSY		1	/* login: no hashing slot, 429 */
void	pc_refusals_count(int, int, const uint8_t *);
void	pc_allowlist_peer(struct connection *, int *, uint8_t *);

/* db.c: one parameterised query driven from a handler's state. */
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
void			pc_dbq_init(struct pc_dbq *, const char *, const char *);
void			pc_dbq_param(struct pc_dbq *, const char *, size_t);
enum pc_db_status	pc_dbq_step(struct http_request *, struct pc_dbq *);
enum pc_db_status	pc_dbq_wait(struct http_request *, struct pc_dbq *);
int			pc_dbq_ready(struct http_request *, struct pc_dbq *,
			    int *);
void			pc_dbq_refused(struct http_request *,
			    const struct pc_dbq *);

/* audit.c */
void	pc_audit_worker_init(void);
void	pc_audit_worker_stop(void);

/* The parent's pid, set before the workers fork (payconsole.c). */
extern pid_t	pc_server_pid;

/* The policy file, relative to the site directory. */
#define PC_POLICY_FILE		"policy.conf"

/* auth.c */
struct pc_failq {
	char	thr[12], lock[12], lmax[12], sthr[12], swin[12], sblk[12];
	char	tag[PC_NAMETAG_MAX];	/* an unknown name, as recorded */
	char	src[160];	/* the source's failure cost, as JSON */
	int	exempt;		/* source_fail_exempt */
};

extern const char pc_login_denied_msg[];

int	pc_auth_totp(const char *, const uint8_t *, size_t, const char *,
	    int64_t *);
void	pc_auth_tag(const char *, char [PC_NAMETAG_MAX]);
void	pc_auth_lockparams(struct pc_failq *);
void	pc_auth_srcparams(struct pc_failq *, const char *);
void	pc_auth_failq(struct pc_dbq *, struct pc_failq *, const char *,
	    const char *, const char *, const char *, const char *);
struct pc_jsonw;
struct pc_session;
void	pc_auth_session_cookie(struct http_request *, const uint8_t *,
	    int64_t);
void	pc_auth_me_members(struct pc_jsonw *, const struct pc_session *);
void			pc_dbq_cleanup(struct pc_dbq *);

/* request.c: per-request state, the caller's address and session. */
#define PC_REQ_HSTATE_MAX	16384

struct pc_session {
	int64_t		session_id;
	int64_t		user_id;
	char		username[128];
	char		display_name[256];
	char		role[16];
	int		must_change_password;
	int64_t		idle_expires_at;
	int64_t		absolute_expires_at;
	int64_t		reauth_at;
	uint8_t		token[PC_TOKEN_LEN];
};

struct pc_req {
	int			authed;
	int64_t			path_id;	/* the route's :id, if any */
	char			source[64];	/* text form, for SQL inet */
	struct pc_dbq		sq;		/* the session check */
	/* The session's raw token as a bytea parameter: the database
	 * hashes it to find the acting user (wiped with the request). */
	char			tok[PC_BYTEA_TEXT(PC_TOKEN_LEN)];
	char			sq_idle[16];
	char			sq_inhours[8];
	struct pc_session	s;
	/*
	 * The handler's own state lives inside this block, which Kore frees
	 * only after every task bound to the request has finished, so a
	 * hashing thread never outlives the memory it was given.
	 */
	int			h_used;
	void			(*h_free)(void *);
	union {
		max_align_t	align;
		uint8_t		buf[PC_REQ_HSTATE_MAX];
	} h;
};

struct pc_req	*pc_req_get(struct http_request *);
void		*pc_req_handler_state(struct http_request *, size_t,
		    void (*)(void *));
int		pc_req_session(struct http_request *, int);
int		pc_req_in_hours(int64_t *);
int		pc_req_body_text(struct http_request *, const char *, char *,
		    size_t, size_t);
int		pc_req_media_type(struct http_request *);
int		pc_req_no_card(struct http_request *, const char *, size_t);
void		pc_req_card_refused(struct http_request *);
int		pc_req_json(struct http_request *, struct pc_jsonin *, uint8_t *,
		    size_t);
void		pc_req_json_done(struct http_request *, struct pc_jsonin *,
		    uint8_t *, size_t);
void		pc_req_record(struct pc_dbq *, struct pc_req *, const char *,
		    const char *, const char *, const char *, const char *,
		    size_t, const char *);
const char	*pc_req_db(const struct pc_req *);

/* hashjob.c: argon2id in a task thread, bounded per worker. */
#include <kore/tasks.h>
#include "password.h"

#define PC_HASH_PASS_MAX	512	/* bytes: 128 code points of UTF-8 */

struct pc_hash_out {
	int		match;
	int		hashed;
	char		new_hash[PC_PASSWORD_HASH_MAX];
};

struct pc_hashjob {
	struct kore_task	task;
	int			started;
	int			counted;
	struct pc_hash_out	out;

	/* Waiting for a slot (pc_hashjob_wait). */
	TAILQ_ENTRY(pc_hashjob)	wait_list;
	struct http_request	*waiter;
	const char		*source;
	uint64_t		wait_until;
	uint32_t		rank;
	int			queued;
	int			promised;
};

int	pc_hashjob_start(struct http_request *, struct pc_hashjob *,
	    const char *, const char *, size_t, const char *, size_t);
int	pc_hashjob_poll(struct http_request *, struct pc_hashjob *);
int	pc_hashjob_reserve(struct http_request *, struct pc_hashjob *);
int	pc_hashjob_wait(struct http_request *, struct pc_hashjob *,
	    const char *);
int	pc_hashjob_slot_free(void);
void	pc_hashjob_release(struct pc_hashjob *);

/* http_util.c: every answer goes through these. */
void	pc_http_security_headers(void);
struct pc_jsonw;
void	pc_http_json(struct http_request *, int, const char *, size_t);
int	pc_http_jsonw(struct http_request *, int, struct pc_jsonw *);
void	pc_http_error(struct http_request *, int, const char *, const char *);
void	pc_http_error_reason(struct http_request *, int, const char *,
	    const char *, const char *);

#endif
