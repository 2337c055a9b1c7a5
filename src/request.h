/*
 * request.h: per-request state (request.c): the caller's address and
 * session, the handler's own state block, and the request-body and
 * card-guard checks every handler uses.
 */
#ifndef PC_REQUEST_H
#define PC_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "bytea.h"
#include "db.h"
#include "jsonin.h"
#include "token.h"

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
int		pc_req_step(struct http_request *, int);
int		pc_req_wait(struct http_request *, struct pc_dbq *, int);
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

#endif
