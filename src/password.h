/*
 * password.h: argon2id hashing and the password policy (pure).
 */
#ifndef PC_PASSWORD_H
#define PC_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PC_PASSWORD_MIN		12
#define PC_PASSWORD_MAX		128
#define PC_PASSWORD_HASH_MAX	192	/* encoded argon2id string */

struct pc_argon2_params {
	uint32_t	t;	/* iterations */
	uint32_t	m_kib;	/* memory in KiB */
	uint32_t	p;	/* lanes */
};

/* Stable codes for why a candidate password is refused. */
enum pc_password_verdict {
	PC_PASSWORD_OK = 0,
	PC_PASSWORD_TOO_SHORT,
	PC_PASSWORD_TOO_LONG,
	PC_PASSWORD_NEEDS_LETTER,
	PC_PASSWORD_NEEDS_DIGIT,
	PC_PASSWORD_COMMON,
	PC_PASSWORD_CONTAINS_USERNAME,
	PC_PASSWORD_INVALID_UTF8,
};

/* Length is counted in Unicode code points of valid UTF-8. */
enum pc_password_verdict pc_password_check(const char *pw, size_t len,
	    const char *username);
const char *pc_password_verdict_code(enum pc_password_verdict v);

/*
 * Hash with a fresh 16-byte salt (RAND_bytes). out receives the encoded
 * "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string. 0 or -1.
 */
int	pc_password_hash(const struct pc_argon2_params *prm, const char *pw,
	    size_t len, char *out, size_t outlen);

/* 1 = match, 0 = no match, -1 = malformed encoded string. */
int	pc_password_verify(const char *encoded, const char *pw, size_t len);

/* 1 if the encoded hash uses weaker parameters than prm (rehash). */
int	pc_password_needs_rehash(const char *encoded,
	    const struct pc_argon2_params *prm);

/*
 * A fixed dummy hash at prm, computed once, so unknown users cost the
 * same argon2 work as real ones. Returns a static string.
 */
const char *pc_password_dummy_hash(const struct pc_argon2_params *prm);


#endif
