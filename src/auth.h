/*
 * auth.h: what login (auth.c) shares with the other handlers that give a
 * session a new token (selfsvc.c): the session cookie and the /api/me
 * members. The login decision itself is factor.h's.
 */
#ifndef PC_AUTH_H
#define PC_AUTH_H

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>

struct pc_jsonw;
struct pc_session;

void	pc_auth_session_cookie(struct http_request *, const uint8_t *,
	    int64_t);
void	pc_auth_me_members(struct pc_jsonw *, const struct pc_session *);

#endif
