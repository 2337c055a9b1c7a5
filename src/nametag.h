/*
 * nametag.h: how a username that matches no account is recorded (pure,
 * no Kore headers).
 *
 * People type passwords into the username field. Such a name was kept
 * for 12 months in the audit trail, the alert key and the unknown-name
 * lockout. Now it is recorded as "unknown:" + 16 hex digits of an HMAC
 * under a key derived from the key-encryption key (which lives outside
 * the database) + ":" + its length in code points. The name is first
 * folded (NFKC_Casefold, ICU), so "Admin" and "ＡＤＭＩＮ" still
 * correlate; attempts on one name share one tag and one lockout.
 */
#ifndef PC_NAMETAG_H
#define PC_NAMETAG_H

#include <stddef.h>

#include "secretbox.h"

/* "unknown:" 16 hex ":" up to 10 digits, NUL. */
#define PC_NAMETAG_MAX	40

/*
 * The tag of name[0..len) under k into out. 0, or -1 (out then empty)
 * when the name is empty or too long (over 1024 bytes).
 */
int	pc_nametag(const struct pc_kek *k, const char *name, size_t len,
	    char out[PC_NAMETAG_MAX]);

#endif
