/*
 * webauthn.c: WebAuthn registration and assertion checks (see
 * webauthn.h). Pure: no Kore header.
 *
 * Steps of a registration: decode the attestation object (libcbor; a
 * map of fmt, attStmt and authData, each once); parse the authData
 * (strict bounds, one COSE key, nothing after); rpIdHash, UP, UV; the
 * format's statement: "none" an empty map, "packed" alg and sig (self:
 * alg is the credential's, signed by the credential key) or alg, sig
 * and x5c (the leaf certificate checked as WebAuthn 8.2.1 asks, no
 * chain, no CA trust); the signature by libfido2 (fido_cred_verify,
 * fido_cred_verify_self); the credential key as libfido2 read it,
 * written as DER SubjectPublicKeyInfo.
 *
 * Steps of an assertion: parse the authData (no credential in it);
 * rpIdHash, UP, UV; the signature by libfido2 (fido_assert_verify) with
 * the stored key; then the sign count, so that only a genuine assertion
 * can be called a clone.
 *
 * Our own checks come before libfido2's (which repeats some of them) so
 * that each refusal has its precise code.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "jsonin.h"
#include "webauthn.h"

/* rpIdHash, flags, signCount. */
#define PC_WEBAUTHN_AD_FIXED	37
/* AAGUID and the credential id's length. */
#define PC_WEBAUTHN_AD_ATT	18
/* A COSE key has five members; room for a few more, not for a flood. */
#define PC_WEBAUTHN_COSE_MAX	16
/* Containers inside each other: attestation object, attStmt, x5c. */
#define PC_WEBAUTHN_CBOR_DEPTH	8
/* id-fido-gen-ce-aaguid (WebAuthn 8.2.1). */
#define PC_WEBAUTHN_OID_AAGUID	"1.3.6.1.4.1.45724.1.1.4"
#define PC_WEBAUTHN_OU		"Authenticator Attestation"

/* The text keys a map may have, each at most once. */
#define PC_WEBAUTHN_MEMBERS	3
static const char *const pc_webauthn_attobj_keys[PC_WEBAUTHN_MEMBERS] = {
	"fmt", "attStmt", "authData"
};
static const char *const pc_webauthn_packed_keys[PC_WEBAUTHN_MEMBERS] = {
	"alg", "sig", "x5c"
};

/* What pc_webauthn_cbor_scan() learns from one header. */
struct pc_webauthn_scan {
	int	bad;		/* indefinite length or tag */
	int	container;	/* the header opened an array or a map */
	size_t	items;		/* the items it holds (a map: twice its size) */
};

/* A decoded attestation object; the items belong to root. */
struct pc_webauthn_attobj {
	cbor_item_t	*root;
	cbor_item_t	*fmt;
	cbor_item_t	*stmt;
	cbor_item_t	*authdata;
};

/* A decoded packed attStmt; the items belong to the attestation object. */
struct pc_webauthn_packed {
	int		 alg;
	cbor_item_t	*sig;
	cbor_item_t	*x5c;		/* NULL: self attestation */
};

static const char *const pc_webauthn_reasons[] = {
	[PC_WEBAUTHN_OK] = "ok",
	[PC_WEBAUTHN_E_CD_SIZE] = "client data empty or too long",
	[PC_WEBAUTHN_E_CD_JSON] = "client data not one strict JSON object",
	[PC_WEBAUTHN_E_CD_TYPE] = "client data type wrong",
	[PC_WEBAUTHN_E_CD_CHALLENGE] = "client data challenge wrong",
	[PC_WEBAUTHN_E_CD_ORIGIN] = "client data origin wrong",
	[PC_WEBAUTHN_E_CD_CROSS_ORIGIN] = "client data crossOrigin not false",
	[PC_WEBAUTHN_E_AD_MALFORMED] = "authenticator data malformed",
	[PC_WEBAUTHN_E_AD_TRAILING] = "authenticator data has trailing bytes",
	[PC_WEBAUTHN_E_AD_CREDENTIAL] =
	    "attested credential data absent or unexpected",
	[PC_WEBAUTHN_E_RP_ID] = "RP ID hash wrong",
	[PC_WEBAUTHN_E_UP] = "user presence flag clear",
	[PC_WEBAUTHN_E_UV] = "user verification flag clear",
	[PC_WEBAUTHN_E_ALG] = "algorithm not supported",
	[PC_WEBAUTHN_E_KEY] = "public key unusable",
	[PC_WEBAUTHN_E_ATT_MALFORMED] = "attestation object malformed",
	[PC_WEBAUTHN_E_ATT_FMT] = "attestation format not supported",
	[PC_WEBAUTHN_E_ATT_STMT] = "attestation statement malformed",
	[PC_WEBAUTHN_E_ATT_CERT] = "attestation certificate not acceptable",
	[PC_WEBAUTHN_E_EXTENSIONS] = "extensions not accepted",
	[PC_WEBAUTHN_E_SIG] = "signature does not verify",
	[PC_WEBAUTHN_E_CLONE] = "sign count did not increase (clone)",
	[PC_WEBAUTHN_E_INTERNAL] = "internal error",
};

static int	pc_webauthn_b64url(const uint8_t *, size_t, char *, size_t);
static int	pc_webauthn_str_is(const char *, size_t, const char *);
static void	pc_webauthn_scan_bad(void *);
static void	pc_webauthn_scan_tag(void *, uint64_t);
static void	pc_webauthn_scan_array(void *, size_t);
static void	pc_webauthn_scan_map(void *, size_t);
static int	pc_webauthn_cbor_scan(const uint8_t *, size_t, size_t *);
static cbor_item_t *pc_webauthn_cbor_one(const uint8_t *, size_t, size_t *);
static int	pc_webauthn_cbor_text_is(const cbor_item_t *, const char *);
static int	pc_webauthn_cbor_int(const cbor_item_t *, int64_t *);
static int	pc_webauthn_cbor_bytes(const cbor_item_t *);
static int	pc_webauthn_cbor_members(const cbor_item_t *,
		    const char *const *, cbor_item_t **);
static int	pc_webauthn_alg_ok(int);
static enum pc_webauthn_result pc_webauthn_cose_alg(const cbor_item_t *,
		    int *);
static enum pc_webauthn_result pc_webauthn_ad_cred(const uint8_t *, size_t,
		    size_t *, struct pc_webauthn_authdata *);
static enum pc_webauthn_result pc_webauthn_attobj_decode(const uint8_t *,
		    size_t, struct pc_webauthn_attobj *);
static enum pc_webauthn_result pc_webauthn_packed_decode(
		    const cbor_item_t *, struct pc_webauthn_packed *);
static enum pc_webauthn_result pc_webauthn_x5c_check(const cbor_item_t *,
		    const uint8_t *);
static enum pc_webauthn_result pc_webauthn_cred_fido(fido_cred_t *,
		    const struct pc_webauthn_attobj *,
		    const struct pc_webauthn_authdata *, const uint8_t *,
		    const char *);
static enum pc_webauthn_result pc_webauthn_stmt_verify(fido_cred_t *,
		    const struct pc_webauthn_attobj *,
		    const struct pc_webauthn_authdata *,
		    enum pc_webauthn_att *);
static enum pc_webauthn_result pc_webauthn_fido_result(int);
static EVP_PKEY	*pc_webauthn_pk_evp(int, const unsigned char *, size_t);
static void	*pc_webauthn_pk_fido(int, const EVP_PKEY *);
static void	 pc_webauthn_pk_free(int, void *);
static enum pc_webauthn_result pc_webauthn_cred_out(const fido_cred_t *,
		    const struct pc_webauthn_authdata *, enum pc_webauthn_att,
		    struct pc_webauthn_cred *);
static enum pc_webauthn_result pc_webauthn_assert_sig(const uint8_t *,
		    size_t, const uint8_t *, size_t, const uint8_t *,
		    const char *, int, const uint8_t *, size_t);

const char *
pc_webauthn_reason(enum pc_webauthn_result r)
{
	if ((size_t)r >= sizeof(pc_webauthn_reasons) /
	    sizeof(pc_webauthn_reasons[0]) || pc_webauthn_reasons[r] == NULL)
		return ("unknown");
	return (pc_webauthn_reasons[r]);
}

/* base64url without padding of in[0..len) into out; -1 if it won't fit. */
static int
pc_webauthn_b64url(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	size_t	i, n;

	if (len > PC_WEBAUTHN_CHALLENGE_MAX || outlen < (len + 2) / 3 * 4 + 1)
		return (-1);
	n = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return ((int)n);
}

/* s[0..len) is exactly want (no NUL inside: jsonin refuses \u0000). */
static int
pc_webauthn_str_is(const char *s, size_t len, const char *want)
{
	return (s != NULL && len == strlen(want) && memcmp(s, want, len) == 0);
}

enum pc_webauthn_result
pc_webauthn_clientdata_check(const void *json, size_t len,
    const char *want_type, const uint8_t *challenge, size_t challenge_len,
    const char *origin, uint8_t hash[PC_WEBAUTHN_HASH_LEN])
{
	struct pc_jsonin	 j;
	enum pc_webauthn_result	 r;
	char			 want[PC_WEBAUTHN_CHALLENGE_MAX / 3 * 4 + 8];
	const char		*s;
	size_t			 slen;
	int			 n, cross;

	memset(hash, 0, PC_WEBAUTHN_HASH_LEN);
	if (len == 0 || len > PC_WEBAUTHN_CLIENTDATA_MAX)
		return (PC_WEBAUTHN_E_CD_SIZE);
	if ((n = pc_webauthn_b64url(challenge, challenge_len, want,
	    sizeof(want))) <= 0)
		return (PC_WEBAUTHN_E_INTERNAL);
	if (pc_jsonin_parse(&j, json, len) != PC_JSONIN_OK) {
		pc_jsonin_free(&j);
		return (PC_WEBAUTHN_E_CD_JSON);
	}

	r = PC_WEBAUTHN_OK;
	s = pc_jsonin_string(&j, "type", &slen);
	if (!pc_webauthn_str_is(s, slen, want_type))
		r = PC_WEBAUTHN_E_CD_TYPE;
	s = pc_jsonin_string(&j, "challenge", &slen);
	/* The length is public; the bytes are compared in constant time. */
	if (r == PC_WEBAUTHN_OK && (s == NULL || slen != (size_t)n ||
	    CRYPTO_memcmp(s, want, slen) != 0))
		r = PC_WEBAUTHN_E_CD_CHALLENGE;
	s = pc_jsonin_string(&j, "origin", &slen);
	if (r == PC_WEBAUTHN_OK && !pc_webauthn_str_is(s, slen, origin))
		r = PC_WEBAUTHN_E_CD_ORIGIN;
	if (r == PC_WEBAUTHN_OK && pc_jsonin_has(&j, "crossOrigin") &&
	    (!pc_jsonin_bool(&j, "crossOrigin", &cross) || cross))
		r = PC_WEBAUTHN_E_CD_CROSS_ORIGIN;
	pc_jsonin_free(&j);
	OPENSSL_cleanse(want, sizeof(want));

	if (r == PC_WEBAUTHN_OK && SHA256(json, len, hash) == NULL)
		r = PC_WEBAUTHN_E_INTERNAL;
	return (r);
}

static void
pc_webauthn_scan_bad(void *ctx)
{
	((struct pc_webauthn_scan *)ctx)->bad = 1;
}

static void
pc_webauthn_scan_tag(void *ctx, uint64_t tag)
{
	(void)tag;
	((struct pc_webauthn_scan *)ctx)->bad = 1;
}

static void
pc_webauthn_scan_array(void *ctx, size_t n)
{
	struct pc_webauthn_scan	*sc = ctx;

	sc->container = 1;
	sc->items = n;
}

static void
pc_webauthn_scan_map(void *ctx, size_t n)
{
	struct pc_webauthn_scan	*sc = ctx;

	sc->container = 1;
	/* Twice n items; more than SIZE_MAX / 2 is more than any buffer. */
	sc->items = n > SIZE_MAX / 2 ? SIZE_MAX : 2 * n;
}

/*
 * The length of the one CBOR item at the start of buf, read header by
 * header with libcbor's streaming decoder, which allocates nothing:
 * definite lengths only, no tags, at most PC_WEBAUTHN_CBOR_DEPTH
 * containers deep, and no container announcing more items than bytes
 * are left. Why before cbor_load(): libcbor 0.8 allocates a container's
 * announced size before reading its items, so five bytes announcing
 * 2^28 entries made it take gigabytes (found by fuzz_webauthn_attobj),
 * and frees nested items by recursion.
 */
static int
pc_webauthn_cbor_scan(const uint8_t *buf, size_t len, size_t *used)
{
	struct cbor_callbacks		cb;
	struct cbor_decoder_result	res;
	struct pc_webauthn_scan		sc;
	size_t				need[PC_WEBAUTHN_CBOR_DEPTH + 1];
	size_t				pos;
	int				depth;

	cb = cbor_empty_callbacks;
	cb.byte_string_start = cb.string_start = pc_webauthn_scan_bad;
	cb.indef_array_start = cb.indef_map_start = pc_webauthn_scan_bad;
	cb.indef_break = pc_webauthn_scan_bad;
	cb.tag = pc_webauthn_scan_tag;
	cb.array_start = pc_webauthn_scan_array;
	cb.map_start = pc_webauthn_scan_map;

	depth = 0;
	need[0] = 1;
	pos = 0;
	while (depth > 0 || need[0] > 0) {
		memset(&sc, 0, sizeof(sc));
		res = cbor_stream_decode(buf + pos, len - pos, &cb, &sc);
		if (res.status != CBOR_DECODER_FINISHED || sc.bad ||
		    res.read == 0 || res.read > len - pos)
			return (-1);
		pos += res.read;
		need[depth]--;
		if (sc.container && sc.items > 0) {
			if (sc.items > len - pos ||
			    depth == PC_WEBAUTHN_CBOR_DEPTH)
				return (-1);
			need[++depth] = sc.items;
		}
		while (depth > 0 && need[depth] == 0)
			depth--;
	}
	*used = pos;
	return (0);
}

/* One CBOR item at the start of buf; *used its length. NULL if none. */
static cbor_item_t *
pc_webauthn_cbor_one(const uint8_t *buf, size_t len, size_t *used)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item;
	size_t			 n;

	*used = 0;
	if (len == 0 || pc_webauthn_cbor_scan(buf, len, &n) == -1)
		return (NULL);
	item = cbor_load(buf, n, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != n) {
		if (item != NULL)
			cbor_decref(&item);
		return (NULL);
	}
	*used = res.read;
	return (item);
}

static int
pc_webauthn_cbor_text_is(const cbor_item_t *item, const char *want)
{
	size_t	n;

	n = strlen(want);
	return (cbor_isa_string(item) && cbor_string_is_definite(item) &&
	    cbor_string_length(item) == n &&
	    memcmp(cbor_string_handle(item), want, n) == 0);
}

/* A CBOR integer that fits an int; 0 if it is none. */
static int
pc_webauthn_cbor_int(const cbor_item_t *item, int64_t *out)
{
	uint64_t	v;

	if (!cbor_isa_uint(item) && !cbor_isa_negint(item))
		return (0);
	v = cbor_get_int(item);
	if (v > INT_MAX)
		return (0);
	*out = cbor_isa_uint(item) ? (int64_t)v : -1 - (int64_t)v;
	return (1);
}

static int
pc_webauthn_cbor_bytes(const cbor_item_t *item)
{
	return (cbor_isa_bytestring(item) &&
	    cbor_bytestring_is_definite(item));
}

/*
 * The values of a definite map whose keys are all among names, none
 * twice, into out (NULL where absent); -1 for any other key or a key
 * twice (with the first or the last one winning, a check and a use
 * could read different values).
 */
static int
pc_webauthn_cbor_members(const cbor_item_t *map, const char *const *names,
    cbor_item_t **out)
{
	struct cbor_pair	*p;
	size_t			 i, k, n;

	for (k = 0; k < PC_WEBAUTHN_MEMBERS; k++)
		out[k] = NULL;
	if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
		return (-1);
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		for (k = 0; k < PC_WEBAUTHN_MEMBERS; k++) {
			if (pc_webauthn_cbor_text_is(p[i].key, names[k]))
				break;
		}
		if (k == PC_WEBAUTHN_MEMBERS || out[k] != NULL)
			return (-1);
		out[k] = p[i].value;
	}
	return (0);
}

static int
pc_webauthn_alg_ok(int alg)
{
	return (alg == PC_WEBAUTHN_ES256 || alg == PC_WEBAUTHN_EDDSA ||
	    alg == PC_WEBAUTHN_RS256);
}

/*
 * The "alg" (3) of a COSE key: a definite map of integer labels, none
 * twice. libfido2 reads the rest (kty, curve, coordinates) and checks
 * the point or modulus.
 */
static enum pc_webauthn_result
pc_webauthn_cose_alg(const cbor_item_t *key, int *alg)
{
	struct cbor_pair	*p;
	int64_t			 label[PC_WEBAUTHN_COSE_MAX], v;
	size_t			 i, k, n;
	int			 found;

	if (!cbor_isa_map(key) || !cbor_map_is_definite(key) ||
	    (n = cbor_map_size(key)) > PC_WEBAUTHN_COSE_MAX)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	p = cbor_map_handle(key);
	found = 0;
	for (i = 0; i < n; i++) {
		if (!pc_webauthn_cbor_int(p[i].key, &label[i]))
			return (PC_WEBAUTHN_E_AD_MALFORMED);
		for (k = 0; k < i; k++) {
			if (label[k] == label[i])
				return (PC_WEBAUTHN_E_AD_MALFORMED);
		}
		if (label[i] != 3)
			continue;
		if (!pc_webauthn_cbor_int(p[i].value, &v))
			return (PC_WEBAUTHN_E_ALG);
		*alg = (int)v;
		found = 1;
	}
	if (!found)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	return (pc_webauthn_alg_ok(*alg) ? PC_WEBAUTHN_OK : PC_WEBAUTHN_E_ALG);
}

/* The attested credential data at ad[*off..len): AAGUID, id, COSE key. */
static enum pc_webauthn_result
pc_webauthn_ad_cred(const uint8_t *ad, size_t len, size_t *off,
    struct pc_webauthn_authdata *out)
{
	enum pc_webauthn_result	 r;
	cbor_item_t		*key;
	size_t			 o, idlen, used;

	o = *off;
	if (len - o < PC_WEBAUTHN_AD_ATT)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	memcpy(out->aaguid, ad + o, PC_WEBAUTHN_AAGUID_LEN);
	o += PC_WEBAUTHN_AAGUID_LEN;
	idlen = (size_t)ad[o] << 8 | ad[o + 1];
	o += 2;
	if (idlen == 0 || idlen > PC_WEBAUTHN_CRED_ID_MAX || len - o < idlen)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	out->cred_id = ad + o;
	out->cred_id_len = idlen;
	o += idlen;
	if ((key = pc_webauthn_cbor_one(ad + o, len - o, &used)) == NULL)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	r = pc_webauthn_cose_alg(key, &out->alg);
	cbor_decref(&key);
	if (r != PC_WEBAUTHN_OK)
		return (r);
	out->cose_key = ad + o;
	out->cose_key_len = used;
	*off = o + used;
	return (PC_WEBAUTHN_OK);
}

enum pc_webauthn_result
pc_webauthn_authdata_parse(const uint8_t *ad, size_t len,
    struct pc_webauthn_authdata *out)
{
	enum pc_webauthn_result	 r;
	cbor_item_t		*ext;
	size_t			 off, used;
	int			 is_map;

	memset(out, 0, sizeof(*out));
	if (len < PC_WEBAUTHN_AD_FIXED || len > PC_WEBAUTHN_AUTHDATA_MAX)
		return (PC_WEBAUTHN_E_AD_MALFORMED);
	memcpy(out->rp_id_hash, ad, PC_WEBAUTHN_HASH_LEN);
	out->flags = ad[32];
	out->sign_count = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
	    (uint32_t)ad[35] << 8 | ad[36];
	off = PC_WEBAUTHN_AD_FIXED;

	if ((out->flags & PC_WEBAUTHN_FLAG_AT) &&
	    (r = pc_webauthn_ad_cred(ad, len, &off, out)) != PC_WEBAUTHN_OK)
		return (r);
	if (out->flags & PC_WEBAUTHN_FLAG_ED) {
		if ((ext = pc_webauthn_cbor_one(ad + off, len - off,
		    &used)) == NULL)
			return (PC_WEBAUTHN_E_AD_MALFORMED);
		is_map = cbor_isa_map(ext) && cbor_map_is_definite(ext);
		cbor_decref(&ext);
		if (!is_map)
			return (PC_WEBAUTHN_E_AD_MALFORMED);
		out->ext = ad + off;
		out->ext_len = used;
		off += used;
	}
	if (off != len)
		return (PC_WEBAUTHN_E_AD_TRAILING);
	return (PC_WEBAUTHN_OK);
}

enum pc_webauthn_result
pc_webauthn_authdata_check(const struct pc_webauthn_authdata *ad,
    const char *rp_id)
{
	uint8_t	want[PC_WEBAUTHN_HASH_LEN];

	if (SHA256((const unsigned char *)rp_id, strlen(rp_id), want) == NULL)
		return (PC_WEBAUTHN_E_INTERNAL);
	if (CRYPTO_memcmp(want, ad->rp_id_hash, sizeof(want)) != 0)
		return (PC_WEBAUTHN_E_RP_ID);
	if (!(ad->flags & PC_WEBAUTHN_FLAG_UP))
		return (PC_WEBAUTHN_E_UP);
	if (!(ad->flags & PC_WEBAUTHN_FLAG_UV))
		return (PC_WEBAUTHN_E_UV);
	return (PC_WEBAUTHN_OK);
}

enum pc_webauthn_result
pc_webauthn_count_check(uint32_t stored, uint32_t got)
{
	if (stored == 0 && got == 0)
		return (PC_WEBAUTHN_OK);
	return (got > stored ? PC_WEBAUTHN_OK : PC_WEBAUTHN_E_CLONE);
}

/*
 * The attestation object: one definite CBOR map, nothing after it, with
 * exactly the text keys fmt (text), attStmt (map) and authData (bytes).
 */
static enum pc_webauthn_result
pc_webauthn_attobj_decode(const uint8_t *buf, size_t len,
    struct pc_webauthn_attobj *a)
{
	cbor_item_t	*m[PC_WEBAUTHN_MEMBERS];
	size_t		 used;

	memset(a, 0, sizeof(*a));
	if (len > PC_WEBAUTHN_ATTOBJ_MAX ||
	    (a->root = pc_webauthn_cbor_one(buf, len, &used)) == NULL ||
	    used != len ||
	    pc_webauthn_cbor_members(a->root, pc_webauthn_attobj_keys, m) == -1)
		return (PC_WEBAUTHN_E_ATT_MALFORMED);
	a->fmt = m[0];
	a->stmt = m[1];
	a->authdata = m[2];
	if (a->fmt == NULL || a->stmt == NULL || a->authdata == NULL ||
	    !cbor_isa_string(a->fmt) || !cbor_string_is_definite(a->fmt) ||
	    !cbor_isa_map(a->stmt) || !cbor_map_is_definite(a->stmt) ||
	    !pc_webauthn_cbor_bytes(a->authdata))
		return (PC_WEBAUTHN_E_ATT_MALFORMED);
	return (PC_WEBAUTHN_OK);
}

/* A packed attStmt: alg and sig, x5c optional, nothing else, each once. */
static enum pc_webauthn_result
pc_webauthn_packed_decode(const cbor_item_t *stmt,
    struct pc_webauthn_packed *pk)
{
	cbor_item_t	*m[PC_WEBAUTHN_MEMBERS];
	size_t		 i;
	int64_t		 v;

	memset(pk, 0, sizeof(*pk));
	if (pc_webauthn_cbor_members(stmt, pc_webauthn_packed_keys, m) == -1)
		return (PC_WEBAUTHN_E_ATT_STMT);
	pk->sig = m[1];
	pk->x5c = m[2];
	if (m[0] == NULL || !pc_webauthn_cbor_int(m[0], &v) ||
	    pk->sig == NULL || !pc_webauthn_cbor_bytes(pk->sig) ||
	    cbor_bytestring_length(pk->sig) == 0)
		return (PC_WEBAUTHN_E_ATT_STMT);
	pk->alg = (int)v;
	if (pk->x5c != NULL && (!cbor_isa_array(pk->x5c) ||
	    !cbor_array_is_definite(pk->x5c) || cbor_array_size(pk->x5c) == 0))
		return (PC_WEBAUTHN_E_ATT_STMT);
	for (i = 0; pk->x5c != NULL && i < cbor_array_size(pk->x5c); i++) {
		if (!pc_webauthn_cbor_bytes(cbor_array_handle(pk->x5c)[i]))
			return (PC_WEBAUTHN_E_ATT_STMT);
	}
	return (pc_webauthn_alg_ok(pk->alg) ? PC_WEBAUTHN_OK :
	    PC_WEBAUTHN_E_ALG);
}

/*
 * The x5c leaf certificate, as WebAuthn 8.2.1 asks: version 3; subject
 * with C, O, OU "Authenticator Attestation" and CN; not a CA; an
 * id-fido-gen-ce-aaguid extension, if present, not critical and equal
 * to the authData's AAGUID. Its validity period is not checked: no
 * clock here, and without CA trust it would prove nothing.
 */
static enum pc_webauthn_result
pc_webauthn_x5c_check(const cbor_item_t *x5c, const uint8_t *aaguid)
{
	static const uint8_t	 hdr[2] = { 0x04, PC_WEBAUTHN_AAGUID_LEN };
	const cbor_item_t	*leaf;
	const unsigned char	*der;
	const ASN1_OCTET_STRING	*val;
	const ASN1_STRING	*ou;
	X509			*x;
	X509_NAME		*sub;
	X509_EXTENSION		*ext;
	ASN1_OBJECT		*oid;
	enum pc_webauthn_result	 r;
	int			 i;

	leaf = cbor_array_handle(x5c)[0];
	der = cbor_bytestring_handle(leaf);
	if (cbor_bytestring_length(leaf) > INT_MAX ||
	    (x = d2i_X509(NULL, &der, (long)cbor_bytestring_length(leaf))) ==
	    NULL)
		return (PC_WEBAUTHN_E_ATT_CERT);
	if ((oid = OBJ_txt2obj(PC_WEBAUTHN_OID_AAGUID, 1)) == NULL) {
		X509_free(x);
		return (PC_WEBAUTHN_E_INTERNAL);
	}
	r = PC_WEBAUTHN_E_ATT_CERT;
	sub = X509_get_subject_name(x);
	i = X509_NAME_get_index_by_NID(sub, NID_organizationalUnitName, -1);
	ou = i < 0 ? NULL : X509_NAME_ENTRY_get_data(X509_NAME_get_entry(sub,
	    i));
	if (der != cbor_bytestring_handle(leaf) + cbor_bytestring_length(leaf) ||
	    X509_get_version(x) != 2 ||
	    X509_NAME_get_index_by_NID(sub, NID_countryName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(sub, NID_organizationName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(sub, NID_commonName, -1) < 0 ||
	    ou == NULL || (size_t)ASN1_STRING_length(ou) !=
	    strlen(PC_WEBAUTHN_OU) || memcmp(ASN1_STRING_get0_data(ou),
	    PC_WEBAUTHN_OU, strlen(PC_WEBAUTHN_OU)) != 0 ||
	    (X509_get_extension_flags(x) & (EXFLAG_CA | EXFLAG_INVALID)))
		goto done;
	if ((i = X509_get_ext_by_OBJ(x, oid, -1)) >= 0) {
		ext = X509_get_ext(x, i);
		val = X509_EXTENSION_get_data(ext);
		if (X509_EXTENSION_get_critical(ext) ||
		    X509_get_ext_by_OBJ(x, oid, i) >= 0 ||
		    ASN1_STRING_length(val) != (int)sizeof(hdr) +
		    PC_WEBAUTHN_AAGUID_LEN ||
		    memcmp(ASN1_STRING_get0_data(val), hdr, sizeof(hdr)) != 0 ||
		    memcmp(ASN1_STRING_get0_data(val) + sizeof(hdr), aaguid,
		    PC_WEBAUTHN_AAGUID_LEN) != 0)
			goto done;
	}
	r = PC_WEBAUTHN_OK;
done:
	ASN1_OBJECT_free(oid);
	X509_free(x);
	return (r);
}

/* libfido2's codes after our own checks: what is left is signature. */
static enum pc_webauthn_result
pc_webauthn_fido_result(int rc)
{
	switch (rc) {
	case FIDO_OK:
		return (PC_WEBAUTHN_OK);
	case FIDO_ERR_INVALID_SIG:
		return (PC_WEBAUTHN_E_SIG);
	case FIDO_ERR_INVALID_PARAM:
		/* rpIdHash and flags passed ours: an extension it refused. */
		return (PC_WEBAUTHN_E_EXTENSIONS);
	default:
		return (PC_WEBAUTHN_E_INTERNAL);
	}
}

/* The credential as libfido2 sees it: type, RP, hash, authData, fmt. */
static enum pc_webauthn_result
pc_webauthn_cred_fido(fido_cred_t *c, const struct pc_webauthn_attobj *a,
    const struct pc_webauthn_authdata *ad, const uint8_t *cdhash,
    const char *rp_id)
{
	char	fmt[16];
	size_t	n;

	n = cbor_string_length(a->fmt);
	if (n >= sizeof(fmt))
		return (PC_WEBAUTHN_E_ATT_FMT);
	memcpy(fmt, cbor_string_handle(a->fmt), n);
	fmt[n] = '\0';
	if (strcmp(fmt, "none") != 0 && strcmp(fmt, "packed") != 0)
		return (PC_WEBAUTHN_E_ATT_FMT);
	if (fido_cred_set_type(c, ad->alg) != FIDO_OK ||
	    fido_cred_set_rp(c, rp_id, NULL) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, cdhash, PC_WEBAUTHN_HASH_LEN) !=
	    FIDO_OK || fido_cred_set_uv(c, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_cred_set_fmt(c, fmt) != FIDO_OK)
		return (PC_WEBAUTHN_E_INTERNAL);
	/* It reads the COSE key again, and refuses a point off the curve. */
	if (fido_cred_set_authdata_raw(c, cbor_bytestring_handle(a->authdata),
	    cbor_bytestring_length(a->authdata)) != FIDO_OK)
		return (PC_WEBAUTHN_E_KEY);
	return (PC_WEBAUTHN_OK);
}

/* The format's statement, verified; *att says which kind it was. */
static enum pc_webauthn_result
pc_webauthn_stmt_verify(fido_cred_t *c, const struct pc_webauthn_attobj *a,
    const struct pc_webauthn_authdata *ad, enum pc_webauthn_att *att)
{
	struct pc_webauthn_packed	 pk;
	enum pc_webauthn_result		 r;
	unsigned char			*buf;
	size_t				 cap, n;
	int				 rc;

	if (pc_webauthn_cbor_text_is(a->fmt, "none")) {
		*att = PC_WEBAUTHN_ATT_NONE;
		return (cbor_map_size(a->stmt) == 0 ? PC_WEBAUTHN_OK :
		    PC_WEBAUTHN_E_ATT_STMT);
	}
	if ((r = pc_webauthn_packed_decode(a->stmt, &pk)) != PC_WEBAUTHN_OK)
		return (r);
	if (pk.x5c == NULL && pk.alg != ad->alg)
		return (PC_WEBAUTHN_E_ATT_STMT);
	if (pk.x5c != NULL &&
	    (r = pc_webauthn_x5c_check(pk.x5c, ad->aaguid)) != PC_WEBAUTHN_OK)
		return (r);

	buf = NULL;
	if ((n = cbor_serialize_alloc(a->stmt, &buf, &cap)) == 0)
		return (PC_WEBAUTHN_E_INTERNAL);
	rc = fido_cred_set_attstmt(c, buf, n);
	free(buf);
	if (rc != FIDO_OK)
		return (PC_WEBAUTHN_E_ATT_STMT);
	if (pk.x5c == NULL) {
		*att = PC_WEBAUTHN_ATT_SELF;
		rc = fido_cred_verify_self(c);
	} else {
		*att = PC_WEBAUTHN_ATT_X5C;
		rc = fido_cred_verify(c);
	}
	return (pc_webauthn_fido_result(rc));
}

/* libfido2's raw public key (x||y, A, n||e) as an EVP_PKEY. */
static EVP_PKEY *
pc_webauthn_pk_evp(int alg, const unsigned char *ptr, size_t len)
{
	EVP_PKEY	*pkey;
	void		*pk;
	int		 ok;

	pkey = NULL;
	pk = NULL;
	switch (alg) {
	case PC_WEBAUTHN_ES256:
		ok = (pk = es256_pk_new()) != NULL &&
		    es256_pk_from_ptr(pk, ptr, len) == FIDO_OK &&
		    (pkey = es256_pk_to_EVP_PKEY(pk)) != NULL;
		break;
	case PC_WEBAUTHN_EDDSA:
		ok = (pk = eddsa_pk_new()) != NULL &&
		    eddsa_pk_from_ptr(pk, ptr, len) == FIDO_OK &&
		    (pkey = eddsa_pk_to_EVP_PKEY(pk)) != NULL;
		break;
	case PC_WEBAUTHN_RS256:
		ok = (pk = rs256_pk_new()) != NULL &&
		    rs256_pk_from_ptr(pk, ptr, len) == FIDO_OK &&
		    (pkey = rs256_pk_to_EVP_PKEY(pk)) != NULL;
		break;
	default:
		return (NULL);
	}
	pc_webauthn_pk_free(alg, pk);
	return (ok ? pkey : NULL);
}

/* An EVP_PKEY as libfido2's key type for alg; NULL if it is another. */
static void *
pc_webauthn_pk_fido(int alg, const EVP_PKEY *pkey)
{
	void	*pk;
	int	 ok;

	pk = NULL;
	switch (alg) {
	case PC_WEBAUTHN_ES256:
		ok = EVP_PKEY_base_id(pkey) == EVP_PKEY_EC &&
		    (pk = es256_pk_new()) != NULL &&
		    es256_pk_from_EVP_PKEY(pk, pkey) == FIDO_OK;
		break;
	case PC_WEBAUTHN_EDDSA:
		ok = EVP_PKEY_base_id(pkey) == EVP_PKEY_ED25519 &&
		    (pk = eddsa_pk_new()) != NULL &&
		    eddsa_pk_from_EVP_PKEY(pk, pkey) == FIDO_OK;
		break;
	case PC_WEBAUTHN_RS256:
		ok = EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA &&
		    (pk = rs256_pk_new()) != NULL &&
		    rs256_pk_from_EVP_PKEY(pk, pkey) == FIDO_OK;
		break;
	default:
		return (NULL);
	}
	if (!ok) {
		pc_webauthn_pk_free(alg, pk);
		return (NULL);
	}
	return (pk);
}

static void
pc_webauthn_pk_free(int alg, void *pk)
{
	if (pk == NULL)
		return;
	if (alg == PC_WEBAUTHN_ES256)
		es256_pk_free((es256_pk_t **)&pk);
	else if (alg == PC_WEBAUTHN_EDDSA)
		eddsa_pk_free((eddsa_pk_t **)&pk);
	else if (alg == PC_WEBAUTHN_RS256)
		rs256_pk_free((rs256_pk_t **)&pk);
}

/* What the server stores, the key as DER SubjectPublicKeyInfo. */
static enum pc_webauthn_result
pc_webauthn_cred_out(const fido_cred_t *c,
    const struct pc_webauthn_authdata *ad, enum pc_webauthn_att att,
    struct pc_webauthn_cred *out)
{
	EVP_PKEY	*pkey;
	unsigned char	*p;
	int		 n;

	if ((pkey = pc_webauthn_pk_evp(ad->alg, fido_cred_pubkey_ptr(c),
	    fido_cred_pubkey_len(c))) == NULL)
		return (PC_WEBAUTHN_E_KEY);
	n = i2d_PUBKEY(pkey, NULL);
	if (n <= 0 || n > PC_WEBAUTHN_PUBKEY_MAX) {
		EVP_PKEY_free(pkey);
		return (PC_WEBAUTHN_E_KEY);
	}
	p = out->pubkey;
	n = i2d_PUBKEY(pkey, &p);
	EVP_PKEY_free(pkey);
	if (n <= 0)
		return (PC_WEBAUTHN_E_KEY);
	out->pubkey_len = (size_t)n;
	memcpy(out->id, ad->cred_id, ad->cred_id_len);
	out->id_len = ad->cred_id_len;
	out->alg = ad->alg;
	memcpy(out->aaguid, ad->aaguid, PC_WEBAUTHN_AAGUID_LEN);
	out->sign_count = ad->sign_count;
	out->att = att;
	return (PC_WEBAUTHN_OK);
}

enum pc_webauthn_result
pc_webauthn_register(const uint8_t *attobj, size_t len,
    const uint8_t cdhash[PC_WEBAUTHN_HASH_LEN], const char *rp_id,
    struct pc_webauthn_cred *out)
{
	struct pc_webauthn_attobj	a;
	struct pc_webauthn_authdata	ad;
	struct pc_webauthn_cred		tmp;
	enum pc_webauthn_result		r;
	enum pc_webauthn_att		att;
	fido_cred_t			*c;

	c = NULL;
	if ((r = pc_webauthn_attobj_decode(attobj, len, &a)) != PC_WEBAUTHN_OK)
		goto done;
	if ((r = pc_webauthn_authdata_parse(cbor_bytestring_handle(a.authdata),
	    cbor_bytestring_length(a.authdata), &ad)) != PC_WEBAUTHN_OK)
		goto done;
	if (!(ad.flags & PC_WEBAUTHN_FLAG_AT)) {
		r = PC_WEBAUTHN_E_AD_CREDENTIAL;
		goto done;
	}
	if ((r = pc_webauthn_authdata_check(&ad, rp_id)) != PC_WEBAUTHN_OK)
		goto done;
	if ((c = fido_cred_new()) == NULL) {
		r = PC_WEBAUTHN_E_INTERNAL;
		goto done;
	}
	if ((r = pc_webauthn_cred_fido(c, &a, &ad, cdhash, rp_id)) !=
	    PC_WEBAUTHN_OK ||
	    (r = pc_webauthn_stmt_verify(c, &a, &ad, &att)) != PC_WEBAUTHN_OK)
		goto done;
	memset(&tmp, 0, sizeof(tmp));
	if ((r = pc_webauthn_cred_out(c, &ad, att, &tmp)) == PC_WEBAUTHN_OK)
		*out = tmp;
done:
	fido_cred_free(&c);
	if (a.root != NULL)
		cbor_decref(&a.root);
	return (r);
}

/* The assertion's signature with the stored key, by libfido2. */
static enum pc_webauthn_result
pc_webauthn_assert_sig(const uint8_t *ad, size_t adlen, const uint8_t *sig,
    size_t siglen, const uint8_t *cdhash, const char *rp_id, int alg,
    const uint8_t *pubkey, size_t pubkey_len)
{
	const unsigned char	*p;
	EVP_PKEY		*pkey;
	fido_assert_t		*as;
	void			*pk;
	enum pc_webauthn_result	 r;

	p = pubkey;
	if (!pc_webauthn_alg_ok(alg))
		return (PC_WEBAUTHN_E_ALG);
	if (pubkey_len > PC_WEBAUTHN_PUBKEY_MAX ||
	    (pkey = d2i_PUBKEY(NULL, &p, (long)pubkey_len)) == NULL)
		return (PC_WEBAUTHN_E_KEY);
	pk = p == pubkey + pubkey_len ? pc_webauthn_pk_fido(alg, pkey) : NULL;
	EVP_PKEY_free(pkey);
	if (pk == NULL)
		return (PC_WEBAUTHN_E_KEY);
	if (siglen == 0) {
		pc_webauthn_pk_free(alg, pk);
		return (PC_WEBAUTHN_E_SIG);
	}
	r = PC_WEBAUTHN_E_INTERNAL;
	if ((as = fido_assert_new()) != NULL &&
	    fido_assert_set_count(as, 1) == FIDO_OK &&
	    fido_assert_set_rp(as, rp_id) == FIDO_OK &&
	    fido_assert_set_clientdata_hash(as, cdhash, PC_WEBAUTHN_HASH_LEN) ==
	    FIDO_OK && fido_assert_set_up(as, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_assert_set_uv(as, FIDO_OPT_TRUE) == FIDO_OK) {
		if (fido_assert_set_authdata_raw(as, 0, ad, adlen) != FIDO_OK)
			r = PC_WEBAUTHN_E_AD_MALFORMED;
		else if (fido_assert_set_sig(as, 0, sig, siglen) == FIDO_OK)
			r = pc_webauthn_fido_result(fido_assert_verify(as, 0,
			    alg, pk));
	}
	fido_assert_free(&as);
	pc_webauthn_pk_free(alg, pk);
	return (r);
}

enum pc_webauthn_result
pc_webauthn_assert(const uint8_t *authdata, size_t authdata_len,
    const uint8_t *sig, size_t sig_len,
    const uint8_t cdhash[PC_WEBAUTHN_HASH_LEN], const char *rp_id, int alg,
    const uint8_t *pubkey, size_t pubkey_len, uint32_t stored_count,
    uint32_t *new_count)
{
	struct pc_webauthn_authdata	ad;
	enum pc_webauthn_result		r;

	if ((r = pc_webauthn_authdata_parse(authdata, authdata_len, &ad)) !=
	    PC_WEBAUTHN_OK)
		return (r);
	if (ad.flags & PC_WEBAUTHN_FLAG_AT)
		return (PC_WEBAUTHN_E_AD_CREDENTIAL);
	if ((r = pc_webauthn_authdata_check(&ad, rp_id)) != PC_WEBAUTHN_OK ||
	    (r = pc_webauthn_assert_sig(authdata, authdata_len, sig, sig_len,
	    cdhash, rp_id, alg, pubkey, pubkey_len)) != PC_WEBAUTHN_OK ||
	    (r = pc_webauthn_count_check(stored_count, ad.sign_count)) !=
	    PC_WEBAUTHN_OK)
		return (r);
	*new_count = ad.sign_count;
	return (PC_WEBAUTHN_OK);
}
