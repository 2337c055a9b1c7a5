/*
 * factor.h: the login decision, in one place (factor.c), for every
 * caller that checks a person's factors: login (auth.c), password change
 * and re-authentication (selfsvc.c), first sign-in (enrol.c, for the
 * lock and block checks and the failure answer).
 *
 * A caller decodes its reserve row once (pc_factor_row()), asks whether
 * a lock or block bars the attempt before any hash (pc_factor_barred()),
 * hashes the password (pc_factor_hash()), and takes the verdict of
 * pc_factor_decide(), which walks the second-factor methods' table
 * (factor.c's pc_factor_methods[]; one file per method, factor_totp.c).
 * A failure goes through pc_factor_failq() and pc_factor_answer_fail():
 * the same records, lockout, source blocks and answers for every caller.
 */
#ifndef PC_FACTOR_H
#define PC_FACTOR_H

#include <stdint.h>

#include "db.h"
#include "devcookie.h"
#include "hashjob.h"
#include "nametag.h"
#include "password.h"

#define PC_FACTOR_NAME_MAX	256
#define PC_FACTOR_CODE_MAX	16

struct pc_failq {
	char	thr[12], lock[12], lmax[12], sthr[12], swin[12], sblk[12];
	char	tag[PC_NAMETAG_MAX];	/* an unknown name, as recorded */
	char	src[160];	/* the source's failure cost, as JSON */
	int	exempt;		/* source_fail_exempt */
};

/* One attempt at proving who one is; lives in a handler's state. */
struct pc_factor {
	const char		*source;	/* lives in struct pc_req */

	/* What the person sent; each wiped as soon as it is used. */
	char			password[PC_HASH_PASS_MAX + 1];
	size_t			password_len;
	char			code[PC_FACTOR_CODE_MAX + 1];
	/* A device cookie's secret, its MAC right for the name claimed
	 * (hj.trusted then set: the trusted lane; login only). */
	uint8_t			device[PC_DEVCOOKIE_SECRET_LEN];

	/* The reserve row (pc_factor_row()). */
	int			exists;
	int			counted;	/* the row numbers an attempt */
	char			attempt[24];	/* its number; "" if not counted */
	char			user_id[24];
	char			canon[PC_FACTOR_NAME_MAX + 1];
	char			display_name[256];
	char			role[16];
	char			hash[PC_PASSWORD_HASH_MAX];
	char			totp_state[16];
	uint8_t			sealed[128];
	size_t			sealed_len;
	int			disabled;
	int			locked;
	int			source_blocked;
	char			retry_after[24];
	char			device_id[24];	/* "": untrusted (024) */

	/* The attempt. */
	struct pc_hashjob	hj;
	struct pc_failq		fq;
	const char		*reason;	/* NULL: both factors passed */
	char			step_str[24];	/* the matched code's step */
};

/* A second-factor method: registered once, in factor.c's table. */
struct pc_factor_method {
	const char	*name;
	const char	*fail_reason;
	/* Is this the account's second factor? */
	int		(*enrolled)(const struct pc_factor *);
	/* 1 when the code proves it, with the step it used. */
	int		(*verify)(const struct pc_factor *, const char *,
			    int64_t *);
};

extern const struct pc_factor_method	pc_factor_totp;
extern const char			pc_factor_denied_msg[];

void	pc_factor_free(struct pc_factor *);
void	pc_factor_device(struct http_request *, struct pc_factor *,
	    const char *);
int	pc_factor_body(struct http_request *, int, const char *);
int	pc_factor_slot(struct http_request *, struct pc_factor *);
void	pc_factor_reserve_params(struct pc_dbq *, struct pc_factor *);
void	pc_factor_srcparams(struct pc_failq *, const char *);
int	pc_factor_row(struct pc_factor *, PGresult *);
int	pc_factor_barred(struct pc_factor *);
int	pc_factor_hash(struct http_request *, struct pc_factor *,
	    const char *, size_t);
void	pc_factor_decide(struct pc_factor *);
void	pc_factor_failq(struct pc_dbq *, struct pc_factor *, const char *);
int	pc_factor_answer_fail(struct http_request *, struct pc_factor *,
	    const char *, const char *);
void	pc_factor_tag(const char *, char [PC_NAMETAG_MAX]);
int	pc_factor_totp_check(const char *, const uint8_t *, size_t,
	    const char *, int64_t *);

#endif
