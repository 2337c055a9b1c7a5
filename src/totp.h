/*
 * totp.h: RFC 6238 one-time codes through liboath (pure).
 *
 * SHA1, 30 s steps, 6 digits, one step either way. Replay protection is
 * done by the caller in PostgreSQL with the step number returned here
 * (UPDATE ... WHERE last_step < $step).
 */
#ifndef PC_TOTP_H
#define PC_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define PC_TOTP_SECRET_LEN	20	/* 160 bits (RFC 4226 recommends) */
#define PC_TOTP_DIGITS		6
#define PC_TOTP_STEP		30
#define PC_TOTP_WINDOW		1

/* Call once per process before any other pc_totp_* function. 0 or -1. */
int	pc_totp_init(void);

/*
 * Is the code well formed: exactly `digits` ASCII digits, nothing else?
 * Returns 1 or 0. Never looks at the secret.
 */
int	pc_totp_code_wellformed(const char *code, size_t len, unsigned digits);

/*
 * Verify code against secret at time now, ±PC_TOTP_WINDOW steps.
 * On success returns 0 and stores the matched step number
 * (floor(t / 30)) in *step; on any failure returns -1.
 * Comparison does not short-circuit on the code's content.
 */
int	pc_totp_verify(const uint8_t *secret, size_t secret_len, int64_t now,
	    const char *code, size_t code_len, int64_t *step);

/* Generate the code for an instant (tests, enrolment checks). 0 or -1. */
int	pc_totp_generate(const uint8_t *secret, size_t secret_len, int64_t t,
	    unsigned digits, char *out, size_t outlen);

/* Base32 (RFC 4648, no padding) for otpauth:// URIs. 0 or -1. */
int	pc_totp_base32(const uint8_t *secret, size_t len, char *out,
	    size_t outlen);

/*
 * otpauth://totp/payconsole:<user>?secret=...&issuer=payconsole&
 * algorithm=SHA1&digits=6&period=30, with the label percent-encoded.
 */
int	pc_totp_uri(const uint8_t *secret, size_t len, const char *user,
	    char *out, size_t outlen);

#endif
