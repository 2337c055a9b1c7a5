/*
 * devcookie.h: the device cookie (pure, no Kore headers; devcookie.c).
 *
 * After a successful login the browser holds __Host-pc_device: a random
 * 256-bit device secret, the cookie's expiry and a MAC binding both to
 * the username, under a key derived from the KEK (HMAC-SHA256(KEK,
 * label)), which lives outside the database. The database keeps only
 * the secret's SHA-256 (auth.devices, migration 024). The username is
 * bound through its name tag (nametag.h: NFKC, lower case), so the name
 * as typed and the account's canonical name give the same MAC.
 *
 * Value: base64url(secret) "." expiry (decimal Unix time) "."
 * base64url(HMAC-SHA256(key, secret || expiry as 8 bytes big-endian ||
 * name tag)).
 */
#ifndef PC_DEVCOOKIE_H
#define PC_DEVCOOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "secretbox.h"

#define PC_DEVCOOKIE_NAME	"__Host-pc_device"
#define PC_DEVCOOKIE_SECRET_LEN	32
/* 43 + 1 + 20 + 1 + 43 + NUL */
#define PC_DEVCOOKIE_VALUE_MAX	112
#define PC_DEVCOOKIE_HEADER_MAX	(PC_DEVCOOKIE_VALUE_MAX + 96)

/*
 * The Set-Cookie value for a new device: the secret, valid until expires
 * (Unix time), for the account whose canonical name is name. Max-Age is
 * expires - now. 0, or -1 (out then empty).
 */
int	pc_devcookie_format(const struct pc_kek *k, const uint8_t
	    secret[PC_DEVCOOKIE_SECRET_LEN], int64_t expires, int64_t now,
	    const char *name, char *out, size_t len);

/*
 * The device secret of the Cookie header's __Host-pc_device, if its MAC
 * is right for the name claimed (as typed) and it has not expired at
 * now. 0 with secret filled, -1 (absent, sent twice, malformed, forged,
 * another name's, expired) with secret wiped.
 */
int	pc_devcookie_verify(const struct pc_kek *k, const char *header,
	    const char *name, int64_t now,
	    uint8_t secret[PC_DEVCOOKIE_SECRET_LEN]);

#endif
