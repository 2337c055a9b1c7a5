/*
 * auth.h: what the login (auth.c) shares with the other factor checks
 * (selfsvc.c, enrol.c): the TOTP check, the failure query and its
 * parameters, the session cookie.
 */
#ifndef PC_AUTH_H
#define PC_AUTH_H

#include <stdint.h>

#include "db.h"
#include "nametag.h"

struct pc_jsonw;
struct pc_session;

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
void	pc_auth_session_cookie(struct http_request *, const uint8_t *,
	    int64_t);
void	pc_auth_me_members(struct pc_jsonw *, const struct pc_session *);

#endif
