/*
 * webauthn.h: WebAuthn registration and assertion checks (pure, no Kore
 * headers; webauthn.c). Issue 18, part 5.
 *
 * What the browser sends is checked here, step by step, each refusal
 * with its own code (the server answers a uniform 401 and audits the
 * code's text): clientDataJSON (strict JSON through jsonin), the
 * authenticator data (strict bounds), the attestation object (CBOR via
 * libcbor; formats "none" and "packed", self or x5c, no CA trust), the
 * signatures (libfido2). Algorithms: ES256 (-7), EdDSA (-8), RS256
 * (-257). UP and UV are required; a sign count that does not increase
 * when either side is non-zero is a clone.
 *
 * Link: -lfido2 -lcbor -lcrypto -ljansson.
 */
#ifndef PC_WEBAUTHN_H
#define PC_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

#define PC_WEBAUTHN_HASH_LEN		32
#define PC_WEBAUTHN_AAGUID_LEN		16
/* The largest credential id WebAuthn allows (Level 3, 5.1). */
#define PC_WEBAUTHN_CRED_ID_MAX		1023
/* DER SubjectPublicKeyInfo of an RSA-2048 key is 294 bytes. */
#define PC_WEBAUTHN_PUBKEY_MAX		512
#define PC_WEBAUTHN_CLIENTDATA_MAX	2048
#define PC_WEBAUTHN_CHALLENGE_MAX	64
#define PC_WEBAUTHN_AUTHDATA_MAX	4096
#define PC_WEBAUTHN_ATTOBJ_MAX		16384

/* COSE algorithm identifiers (IANA). */
#define PC_WEBAUTHN_ES256		(-7)
#define PC_WEBAUTHN_EDDSA		(-8)
#define PC_WEBAUTHN_RS256		(-257)

/* Authenticator data flags. */
#define PC_WEBAUTHN_FLAG_UP		0x01
#define PC_WEBAUTHN_FLAG_UV		0x04
#define PC_WEBAUTHN_FLAG_AT		0x40
#define PC_WEBAUTHN_FLAG_ED		0x80

/* Stable codes; pc_webauthn_reason() names each for the audit trail. */
enum pc_webauthn_result {
	PC_WEBAUTHN_OK = 0,
	PC_WEBAUTHN_E_CD_SIZE,		/* clientDataJSON empty or too long */
	PC_WEBAUTHN_E_CD_JSON,		/* not one strict JSON object */
	PC_WEBAUTHN_E_CD_TYPE,		/* type missing or not the one asked */
	PC_WEBAUTHN_E_CD_CHALLENGE,	/* challenge missing or not ours */
	PC_WEBAUTHN_E_CD_ORIGIN,	/* origin missing or not ours */
	PC_WEBAUTHN_E_CD_CROSS_ORIGIN,	/* crossOrigin true or not a bool */
	PC_WEBAUTHN_E_AD_MALFORMED,	/* authData truncated or malformed */
	PC_WEBAUTHN_E_AD_TRAILING,	/* bytes after the authData's end */
	PC_WEBAUTHN_E_AD_CREDENTIAL,	/* attested credential absent
					   (registration) or present
					   (assertion) */
	PC_WEBAUTHN_E_RP_ID,		/* rpIdHash is not SHA-256(RP ID) */
	PC_WEBAUTHN_E_UP,		/* user presence flag clear */
	PC_WEBAUTHN_E_UV,		/* user verification flag clear */
	PC_WEBAUTHN_E_ALG,		/* algorithm not ES256/EdDSA/RS256 */
	PC_WEBAUTHN_E_KEY,		/* public key unusable */
	PC_WEBAUTHN_E_ATT_MALFORMED,	/* attestation object malformed */
	PC_WEBAUTHN_E_ATT_FMT,		/* format not "none" or "packed" */
	PC_WEBAUTHN_E_ATT_STMT,		/* attStmt malformed for its format */
	PC_WEBAUTHN_E_ATT_CERT,		/* x5c leaf fails WebAuthn 8.2.1 */
	PC_WEBAUTHN_E_EXTENSIONS,	/* extensions not accepted */
	PC_WEBAUTHN_E_SIG,		/* signature does not verify */
	PC_WEBAUTHN_E_CLONE,		/* sign count did not increase */
	PC_WEBAUTHN_E_INTERNAL,		/* allocation or library failure */
};

/* How a registration was attested. */
enum pc_webauthn_att {
	PC_WEBAUTHN_ATT_NONE = 0,
	PC_WEBAUTHN_ATT_SELF,
	PC_WEBAUTHN_ATT_X5C,
};

/* Authenticator data; the pointers point into the bytes parsed. */
struct pc_webauthn_authdata {
	uint8_t		 rp_id_hash[PC_WEBAUTHN_HASH_LEN];
	uint8_t		 flags;
	uint32_t	 sign_count;
	/* With PC_WEBAUTHN_FLAG_AT only. */
	uint8_t		 aaguid[PC_WEBAUTHN_AAGUID_LEN];
	const uint8_t	*cred_id;
	size_t		 cred_id_len;
	const uint8_t	*cose_key;
	size_t		 cose_key_len;
	int		 alg;		/* the COSE key's "alg" */
	/* With PC_WEBAUTHN_FLAG_ED only: the extensions' CBOR map. */
	const uint8_t	*ext;
	size_t		 ext_len;
};

/* A registered credential: what the server stores. */
struct pc_webauthn_cred {
	uint8_t			id[PC_WEBAUTHN_CRED_ID_MAX];
	size_t			id_len;
	int			alg;
	/* DER SubjectPublicKeyInfo (openssl pkey -pubin -inform DER). */
	uint8_t			pubkey[PC_WEBAUTHN_PUBKEY_MAX];
	size_t			pubkey_len;
	uint8_t			aaguid[PC_WEBAUTHN_AAGUID_LEN];
	uint32_t		sign_count;
	enum pc_webauthn_att	att;
};

const char	*pc_webauthn_reason(enum pc_webauthn_result);

/*
 * clientDataJSON (len bytes at json): one strict JSON object whose type
 * is want_type ("webauthn.create" or "webauthn.get"), whose challenge
 * is the base64url (no padding) of challenge[0..challenge_len)
 * (compared in constant time), whose origin is origin, and whose
 * crossOrigin is absent or false. Other members are ignored. On OK,
 * hash is its SHA-256, which the authenticator signed; otherwise zeros.
 */
enum pc_webauthn_result	pc_webauthn_clientdata_check(const void *json,
			    size_t len, const char *want_type,
			    const uint8_t *challenge, size_t challenge_len,
			    const char *origin,
			    uint8_t hash[PC_WEBAUTHN_HASH_LEN]);

/*
 * Authenticator data, its layout only: 37 bytes; with AT the AAGUID,
 * the credential id's length and bytes, one COSE key (a CBOR map whose
 * "alg" is read); with ED one CBOR map of extensions; then nothing.
 */
enum pc_webauthn_result	pc_webauthn_authdata_parse(const uint8_t *,
			    size_t, struct pc_webauthn_authdata *);

/* rpIdHash = SHA-256(rp_id), then UP, then UV. */
enum pc_webauthn_result	pc_webauthn_authdata_check(
			    const struct pc_webauthn_authdata *,
			    const char *rp_id);

/*
 * The sign-count rule: got must exceed stored when either is non-zero
 * (both zero: an authenticator without a counter). PC_WEBAUTHN_E_CLONE
 * otherwise.
 */
enum pc_webauthn_result	pc_webauthn_count_check(uint32_t stored,
			    uint32_t got);

/*
 * A registration: the attestation object (CBOR: fmt, attStmt,
 * authData, each once, nothing else), checked against the SHA-256 of
 * its clientDataJSON (pc_webauthn_clientdata_check() with
 * "webauthn.create") and the RP ID. out is filled on OK only.
 */
enum pc_webauthn_result	pc_webauthn_register(const uint8_t *attobj,
			    size_t len,
			    const uint8_t cdhash[PC_WEBAUTHN_HASH_LEN],
			    const char *rp_id, struct pc_webauthn_cred *out);

/*
 * An assertion: authenticatorData and signature, with the SHA-256 of
 * its clientDataJSON ("webauthn.get"), the RP ID, and the credential as
 * stored (alg, DER public key, sign count). The signature is checked
 * before the sign count, so only a genuine assertion is called a
 * clone. On OK, *new_count is the count to store.
 */
enum pc_webauthn_result	pc_webauthn_assert(const uint8_t *authdata,
			    size_t authdata_len, const uint8_t *sig,
			    size_t sig_len,
			    const uint8_t cdhash[PC_WEBAUTHN_HASH_LEN],
			    const char *rp_id, int alg, const uint8_t *pubkey,
			    size_t pubkey_len, uint32_t stored_count,
			    uint32_t *new_count);

#endif
