/*
 * factor_totp.c: TOTP (RFC 6238, totp.c) as a second-factor method of
 * factor.c's table, and the check of a code against a sealed secret that
 * first sign-in (enrol.c) uses for a new device's first code.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>

#include "app.h"
#include "factor.h"
#include "secretbox.h"
#include "totp.h"
#include "wipe.h"

static int	pc_factor_totp_enrolled(const struct pc_factor *);
static int	pc_factor_totp_verify(const struct pc_factor *, const char *,
		    int64_t *);

const struct pc_factor_method pc_factor_totp = {
	"totp",
	"bad_totp",
	pc_factor_totp_enrolled,
	pc_factor_totp_verify,
};

static int
pc_factor_totp_enrolled(const struct pc_factor *f)
{
	return (strcmp(f->totp_state, "enrolled") == 0);
}

static int
pc_factor_totp_verify(const struct pc_factor *f, const char *code,
    int64_t *step)
{
	if (f->sealed_len == 0)
		return (0);
	return (pc_factor_totp_check(f->user_id, f->sealed, f->sealed_len,
	    code, step));
}

/*
 * Check a code against a user's sealed TOTP secret. Returns 1 and the
 * matched step, or 0. The secret exists in memory only here.
 */
int
pc_factor_totp_check(const char *user_id, const uint8_t *sealed, size_t len,
    const char *code, int64_t *step)
{
	uint8_t		secret[64];
	char		ad[48];
	int		slen, ok;

	ok = 0;
	(void)snprintf(ad, sizeof(ad), "totp:%s", user_id);
	slen = pc_secretbox_open(&pc_kek, (const uint8_t *)ad, strlen(ad),
	    sealed, len, secret, sizeof(secret));
	if (slen > 0) {
		ok = pc_totp_verify(secret, (size_t)slen, (int64_t)time(NULL),
		    code, strlen(code), step) == 0;
	} else {
		kore_log(LOG_ERR, "TOTP secret of user %s cannot be unsealed",
		    user_id);
	}
	pc_wipe(secret, sizeof(secret));
	return (ok);
}
