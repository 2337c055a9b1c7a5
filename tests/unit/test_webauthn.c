/*
 * test_webauthn.c: WebAuthn client data, authenticator data,
 * registration and assertion checks (src/webauthn.c).
 *
 * The registrations and assertions in data/webauthn_vectors.h were made
 * by data/gen-webauthn-vectors with Python's cryptography and cbor2
 * (independent of libfido2 and libcbor, which the code under test
 * uses); the public keys expected are cryptography's DER
 * SubjectPublicKeyInfo. Refusals that need other signed bytes are made
 * there too; the rest are the good vectors with a byte changed here.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "webauthn.h"

#include "data/webauthn_vectors.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define V(a)		(a), sizeof(a)
#define CREATE		"webauthn.create"
#define GET		"webauthn.get"

struct cd_case {
	const char		*json;
	const char		*type;
	enum pc_webauthn_result	 want;
};

/* Challenge wv_chal_create (bytes 0..31), origin WV_ORIGIN. */
#define CH	"\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\""
#define OR	"\"https://pay.example.com\""

static const struct cd_case	cd_cases[] = {
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_OK },
	{ "{\"origin\":" OR ",\"challenge\":" CH ",\"type\":"
	    "\"webauthn.create\",\"crossOrigin\":false,\"other\":[1,{}]}",
	    CREATE, PC_WEBAUTHN_OK },
	/* Escapes are JSON's business: the same string. */
	{ "{\"type\":\"webauthn\\u002ecreate\",\"challenge\":" CH
	    ",\"origin\":" OR "}", CREATE, PC_WEBAUTHN_OK },
	/* Type. */
	{ "{\"type\":\"webauthn.get\",\"challenge\":" CH ",\"origin\":" OR
	    "}", CREATE, PC_WEBAUTHN_E_CD_TYPE },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR "}", GET, PC_WEBAUTHN_E_CD_TYPE },
	{ "{\"type\":\"webauthn.create \",\"challenge\":" CH ",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_TYPE },
	{ "{\"type\":\"Webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_TYPE },
	{ "{\"challenge\":" CH ",\"origin\":" OR "}", CREATE,
	    PC_WEBAUTHN_E_CD_TYPE },
	{ "{\"type\":1,\"challenge\":" CH ",\"origin\":" OR "}", CREATE,
	    PC_WEBAUTHN_E_CD_TYPE },
	/* Challenge: another, padded, standard base64, cut, missing. */
	{ "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_CHALLENGE },
	{ "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_CHALLENGE },
	{ "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\",\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_CHALLENGE },
	{ "{\"type\":\"webauthn.create\",\"origin\":" OR "}", CREATE,
	    PC_WEBAUTHN_E_CD_CHALLENGE },
	{ "{\"type\":\"webauthn.create\",\"challenge\":null,\"origin\":"
	    OR "}", CREATE, PC_WEBAUTHN_E_CD_CHALLENGE },
	/* Origin: another host, port, scheme, a slash, case, missing. */
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    "\"https://evil.example.com\"}", CREATE,
	    PC_WEBAUTHN_E_CD_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    "\"https://pay.example.com:8443\"}", CREATE,
	    PC_WEBAUTHN_E_CD_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    "\"http://pay.example.com\"}", CREATE, PC_WEBAUTHN_E_CD_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    "\"https://pay.example.com/\"}", CREATE,
	    PC_WEBAUTHN_E_CD_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    "\"https://PAY.example.com\"}", CREATE, PC_WEBAUTHN_E_CD_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH "}", CREATE,
	    PC_WEBAUTHN_E_CD_ORIGIN },
	/* crossOrigin: true, or not a boolean. */
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"crossOrigin\":true}", CREATE,
	    PC_WEBAUTHN_E_CD_CROSS_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"crossOrigin\":\"false\"}", CREATE,
	    PC_WEBAUTHN_E_CD_CROSS_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"crossOrigin\":0}", CREATE,
	    PC_WEBAUTHN_E_CD_CROSS_ORIGIN },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"crossOrigin\":null}", CREATE,
	    PC_WEBAUTHN_E_CD_CROSS_ORIGIN },
	/* Not strict JSON: a member twice, trailing bytes, broken. */
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"origin\":" OR "}", CREATE, PC_WEBAUTHN_E_CD_JSON },
	{ "{\"type\":\"webauthn.get\",\"type\":\"webauthn.create\","
	    "\"challenge\":" CH ",\"origin\":" OR "}", CREATE,
	    PC_WEBAUTHN_E_CD_JSON },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR "}x", CREATE, PC_WEBAUTHN_E_CD_JSON },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR, CREATE, PC_WEBAUTHN_E_CD_JSON },
	{ "[\"webauthn.create\"]", CREATE, PC_WEBAUTHN_E_CD_JSON },
	{ "{\"type\":\"webauthn.create\",\"challenge\":" CH ",\"origin\":"
	    OR ",\"x\":\"\\ud800\"}", CREATE, PC_WEBAUTHN_E_CD_JSON },
	{ "{\"a\":[[[[[[[[[[[1]]]]]]]]]]]}", CREATE, PC_WEBAUTHN_E_CD_JSON },
};

static void
test_clientdata_vectors(void **state)
{
	uint8_t	h[PC_WEBAUTHN_HASH_LEN];

	(void)state;
	assert_int_equal(pc_webauthn_clientdata_check(V(wv_cd_create),
	    CREATE, V(wv_chal_create), WV_ORIGIN, h), PC_WEBAUTHN_OK);
	assert_memory_equal(h, wv_cdh_create, sizeof(h));
	assert_int_equal(pc_webauthn_clientdata_check(V(wv_cd_get), GET,
	    V(wv_chal_get), WV_ORIGIN, h), PC_WEBAUTHN_OK);
	assert_memory_equal(h, wv_cdh_get, sizeof(h));
	/* The other ceremony's challenge. */
	assert_int_equal(pc_webauthn_clientdata_check(V(wv_cd_get), GET,
	    V(wv_chal_create), WV_ORIGIN, h), PC_WEBAUTHN_E_CD_CHALLENGE);
	/* Our challenge one byte shorter. */
	assert_int_equal(pc_webauthn_clientdata_check(V(wv_cd_get), GET,
	    wv_chal_get, sizeof(wv_chal_get) - 1, WV_ORIGIN, h),
	    PC_WEBAUTHN_E_CD_CHALLENGE);
}

static void
test_clientdata_cases(void **state)
{
	static const uint8_t	zero[PC_WEBAUTHN_HASH_LEN];
	uint8_t			h[PC_WEBAUTHN_HASH_LEN];
	size_t			i;
	enum pc_webauthn_result	r;

	(void)state;
	for (i = 0; i < NELEM(cd_cases); i++) {
		memset(h, 0xa5, sizeof(h));
		r = pc_webauthn_clientdata_check(cd_cases[i].json,
		    strlen(cd_cases[i].json), cd_cases[i].type,
		    V(wv_chal_create), WV_ORIGIN, h);
		if (r != cd_cases[i].want)
			fail_msg("case %zu: %s, want %s", i,
			    pc_webauthn_reason(r),
			    pc_webauthn_reason(cd_cases[i].want));
		if (r != PC_WEBAUTHN_OK)
			assert_memory_equal(h, zero, sizeof(h));
	}
}

static void
test_clientdata_size(void **state)
{
	char	buf[PC_WEBAUTHN_CLIENTDATA_MAX + 2];
	uint8_t	h[PC_WEBAUTHN_HASH_LEN];
	int	n;
	size_t	len;

	(void)state;
	assert_int_equal(pc_webauthn_clientdata_check("", 0, CREATE,
	    V(wv_chal_create), WV_ORIGIN, h), PC_WEBAUTHN_E_CD_SIZE);
	/* Padded with a member up to the limit: taken; one more: refused. */
	n = snprintf(buf, sizeof(buf), "{\"type\":\"webauthn.create\","
	    "\"challenge\":" CH ",\"origin\":" OR ",\"p\":\"");
	len = PC_WEBAUTHN_CLIENTDATA_MAX - (size_t)n - 2;
	memset(buf + n, 'x', len);
	memcpy(buf + n + len, "\"}", 3);
	assert_int_equal(strlen(buf), PC_WEBAUTHN_CLIENTDATA_MAX);
	assert_int_equal(pc_webauthn_clientdata_check(buf, strlen(buf),
	    CREATE, V(wv_chal_create), WV_ORIGIN, h), PC_WEBAUTHN_OK);
	memcpy(buf + n + len, "x\"}", 4);
	assert_int_equal(pc_webauthn_clientdata_check(buf, strlen(buf),
	    CREATE, V(wv_chal_create), WV_ORIGIN, h), PC_WEBAUTHN_E_CD_SIZE);
}

struct reg_vec {
	const char	*name;
	const uint8_t	*obj;
	size_t		 len;
	int		 alg;
	const uint8_t	*id;
	size_t		 id_len;
	const uint8_t	*spki;
	size_t		 spki_len;
	uint32_t	 count;
	enum pc_webauthn_att att;
};

#define REG(n, f, a, t) { #n " " #f, V(wv_##n##_reg_##f), a,		\
	V(wv_##n##_cred_id), V(wv_##n##_spki), 0, t }

static const struct reg_vec	reg_good[] = {
	REG(es256, none, PC_WEBAUTHN_ES256, PC_WEBAUTHN_ATT_NONE),
	REG(es256, self, PC_WEBAUTHN_ES256, PC_WEBAUTHN_ATT_SELF),
	REG(eddsa, none, PC_WEBAUTHN_EDDSA, PC_WEBAUTHN_ATT_NONE),
	REG(eddsa, self, PC_WEBAUTHN_EDDSA, PC_WEBAUTHN_ATT_SELF),
	REG(rs256, none, PC_WEBAUTHN_RS256, PC_WEBAUTHN_ATT_NONE),
	REG(rs256, self, PC_WEBAUTHN_RS256, PC_WEBAUTHN_ATT_SELF),
};

static void
check_reg(const struct reg_vec *v, const uint8_t *obj, size_t len)
{
	struct pc_webauthn_cred	c;
	enum pc_webauthn_result	r;

	memset(&c, 0xa5, sizeof(c));
	r = pc_webauthn_register(obj, len, wv_cdh_create, WV_RP_ID, &c);
	if (r != PC_WEBAUTHN_OK)
		fail_msg("%s: %s", v->name, pc_webauthn_reason(r));
	assert_int_equal(c.alg, v->alg);
	assert_int_equal(c.id_len, v->id_len);
	assert_memory_equal(c.id, v->id, v->id_len);
	assert_int_equal(c.pubkey_len, v->spki_len);
	assert_memory_equal(c.pubkey, v->spki, v->spki_len);
	assert_memory_equal(c.aaguid, wv_aaguid, sizeof(c.aaguid));
	assert_int_equal(c.sign_count, v->count);
	assert_int_equal(c.att, v->att);
}

static void
test_register_good(void **state)
{
	struct reg_vec	x5c = { "es256 x5c", V(wv_reg_x5c), PC_WEBAUTHN_ES256,
			    NULL, 32, V(wv_es256_spki), 1, PC_WEBAUTHN_ATT_X5C };
	uint8_t		id[32];
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(reg_good); i++)
		check_reg(&reg_good[i], reg_good[i].obj, reg_good[i].len);
	memset(id, 0x42, sizeof(id));
	x5c.id = id;
	check_reg(&x5c, V(wv_reg_x5c));
	/* A leaf without the AAGUID extension: it is optional. */
	x5c.name = "es256 x5c, no AAGUID extension";
	check_reg(&x5c, V(wv_reg_x5c_noaaguid));
}

struct reg_bad {
	const char		*name;
	const uint8_t		*obj;
	size_t			 len;
	enum pc_webauthn_result	 want;
};

static const struct reg_bad	reg_bad[] = {
	{ "x5c signed by another key", V(wv_reg_x5c_badsig),
	    PC_WEBAUTHN_E_SIG },
	{ "x5c OU wrong", V(wv_reg_x5c_badou), PC_WEBAUTHN_E_ATT_CERT },
	{ "x5c AAGUID wrong", V(wv_reg_x5c_badaaguid),
	    PC_WEBAUTHN_E_ATT_CERT },
	{ "x5c a CA", V(wv_reg_x5c_ca), PC_WEBAUTHN_E_ATT_CERT },
	{ "fido-u2f", V(wv_reg_fmt_u2f), PC_WEBAUTHN_E_ATT_FMT },
	{ "unknown fmt", V(wv_reg_fmt_unknown), PC_WEBAUTHN_E_ATT_FMT },
	{ "none with a statement", V(wv_reg_none_stmt),
	    PC_WEBAUTHN_E_ATT_STMT },
	{ "self alg not the key's", V(wv_reg_self_alg),
	    PC_WEBAUTHN_E_ATT_STMT },
	{ "authData twice", V(wv_reg_dupkey), PC_WEBAUTHN_E_ATT_MALFORMED },
	{ "ES384", V(wv_reg_es384), PC_WEBAUTHN_E_ALG },
	{ "UP clear", V(wv_reg_noup), PC_WEBAUTHN_E_UP },
	{ "UV clear", V(wv_reg_nouv), PC_WEBAUTHN_E_UV },
};

static void
test_register_refused(void **state)
{
	struct pc_webauthn_cred	c, before;
	enum pc_webauthn_result	r;
	size_t			i;

	(void)state;
	memset(&before, 0xa5, sizeof(before));
	for (i = 0; i < NELEM(reg_bad); i++) {
		c = before;
		r = pc_webauthn_register(reg_bad[i].obj, reg_bad[i].len,
		    wv_cdh_create, WV_RP_ID, &c);
		if (r != reg_bad[i].want)
			fail_msg("%s: %s, want %s", reg_bad[i].name,
			    pc_webauthn_reason(r),
			    pc_webauthn_reason(reg_bad[i].want));
		/* Nothing written on a refusal. */
		assert_memory_equal(&c, &before, sizeof(c));
	}
}

/*
 * The good registrations refused when something around them changes:
 * another RP ID, another client data hash, a signature byte, cut short,
 * a byte after the CBOR.
 */
static void
test_register_changed(void **state)
{
	struct pc_webauthn_cred	c;
	uint8_t			buf[4096], cdh[PC_WEBAUTHN_HASH_LEN];
	size_t			i, len;
	const struct reg_vec	*v;

	(void)state;
	for (i = 0; i < NELEM(reg_good); i++) {
		v = &reg_good[i];
		assert_true(v->len < sizeof(buf));
		assert_int_equal(pc_webauthn_register(v->obj, v->len,
		    wv_cdh_create, "evil.example.com", &c),
		    PC_WEBAUTHN_E_RP_ID);
		memcpy(cdh, wv_cdh_create, sizeof(cdh));
		cdh[0] ^= 1;
		/* "none" signs nothing; "packed" self must verify. */
		assert_int_equal(pc_webauthn_register(v->obj, v->len, cdh,
		    WV_RP_ID, &c), v->att == PC_WEBAUTHN_ATT_NONE ?
		    PC_WEBAUTHN_OK : PC_WEBAUTHN_E_SIG);
		for (len = 0; len < v->len; len++) {
			assert_int_not_equal(pc_webauthn_register(v->obj, len,
			    wv_cdh_create, WV_RP_ID, &c), PC_WEBAUTHN_OK);
		}
		memcpy(buf, v->obj, v->len);
		buf[v->len] = 0;
		assert_int_equal(pc_webauthn_register(buf, v->len + 1,
		    wv_cdh_create, WV_RP_ID, &c), PC_WEBAUTHN_E_ATT_MALFORMED);
	}
	/* x5c, for another client data hash. */
	assert_int_equal(pc_webauthn_register(V(wv_reg_x5c), cdh, WV_RP_ID,
	    &c), PC_WEBAUTHN_E_SIG);
}

static void
test_authdata(void **state)
{
	struct pc_webauthn_authdata	ad;
	uint8_t				buf[128];
	size_t				len;

	(void)state;
	assert_int_equal(pc_webauthn_authdata_parse(V(wv_es256_get7_ad), &ad),
	    PC_WEBAUTHN_OK);
	assert_int_equal(ad.flags, PC_WEBAUTHN_FLAG_UP | PC_WEBAUTHN_FLAG_UV);
	assert_int_equal(ad.sign_count, 7);
	assert_null(ad.cred_id);
	assert_int_equal(pc_webauthn_authdata_check(&ad, WV_RP_ID),
	    PC_WEBAUTHN_OK);
	assert_int_equal(pc_webauthn_authdata_check(&ad, "pay.example.co"),
	    PC_WEBAUTHN_E_RP_ID);
	/* Truncated, trailing, and a flag promising what is not there. */
	for (len = 0; len < sizeof(wv_es256_get7_ad); len++)
		assert_int_equal(pc_webauthn_authdata_parse(wv_es256_get7_ad,
		    len, &ad), PC_WEBAUTHN_E_AD_MALFORMED);
	memcpy(buf, wv_es256_get7_ad, sizeof(wv_es256_get7_ad));
	buf[sizeof(wv_es256_get7_ad)] = 0xa0;
	assert_int_equal(pc_webauthn_authdata_parse(buf,
	    sizeof(wv_es256_get7_ad) + 1, &ad), PC_WEBAUTHN_E_AD_TRAILING);
	/* With ED the empty map is its extensions. */
	buf[32] |= PC_WEBAUTHN_FLAG_ED;
	assert_int_equal(pc_webauthn_authdata_parse(buf,
	    sizeof(wv_es256_get7_ad) + 1, &ad), PC_WEBAUTHN_OK);
	assert_int_equal(ad.ext_len, 1);
	buf[32] |= PC_WEBAUTHN_FLAG_AT;
	assert_int_equal(pc_webauthn_authdata_parse(buf,
	    sizeof(wv_es256_get7_ad) + 1, &ad), PC_WEBAUTHN_E_AD_MALFORMED);
	buf[32] = PC_WEBAUTHN_FLAG_UP | PC_WEBAUTHN_FLAG_UV |
	    PC_WEBAUTHN_FLAG_ED;
	assert_int_equal(pc_webauthn_authdata_parse(buf,
	    sizeof(wv_es256_get7_ad), &ad), PC_WEBAUTHN_E_AD_MALFORMED);
	buf[sizeof(wv_es256_get7_ad)] = 0x80;	/* an array, not a map */
	assert_int_equal(pc_webauthn_authdata_parse(buf,
	    sizeof(wv_es256_get7_ad) + 1, &ad), PC_WEBAUTHN_E_AD_MALFORMED);
}

static void
test_register_extensions(void **state)
{
	struct pc_webauthn_cred	c;

	(void)state;
	/* "none" with credProtect after the key (ED): parsed, taken. */
	assert_int_equal(pc_webauthn_register(V(wv_reg_ext), wv_cdh_create,
	    WV_RP_ID, &c), PC_WEBAUTHN_OK);
	assert_int_equal(c.alg, PC_WEBAUTHN_ES256);
	assert_int_equal(c.pubkey_len, sizeof(wv_es256_spki));
	assert_memory_equal(c.pubkey, wv_es256_spki, sizeof(wv_es256_spki));
}

static void
test_count(void **state)
{
	(void)state;
	assert_int_equal(pc_webauthn_count_check(0, 0), PC_WEBAUTHN_OK);
	assert_int_equal(pc_webauthn_count_check(0, 1), PC_WEBAUTHN_OK);
	assert_int_equal(pc_webauthn_count_check(6, 7), PC_WEBAUTHN_OK);
	assert_int_equal(pc_webauthn_count_check(0, UINT32_MAX),
	    PC_WEBAUTHN_OK);
	assert_int_equal(pc_webauthn_count_check(7, 7), PC_WEBAUTHN_E_CLONE);
	assert_int_equal(pc_webauthn_count_check(8, 7), PC_WEBAUTHN_E_CLONE);
	assert_int_equal(pc_webauthn_count_check(7, 0), PC_WEBAUTHN_E_CLONE);
	assert_int_equal(pc_webauthn_count_check(UINT32_MAX, UINT32_MAX),
	    PC_WEBAUTHN_E_CLONE);
}

struct as_vec {
	const char	*name;
	int		 alg;
	const uint8_t	*spki;
	size_t		 spki_len;
	const uint8_t	*ad7, *sig7, *ad0, *sig0;
	size_t		 ad7_len, sig7_len, ad0_len, sig0_len;
};

#define AS(n, a) { #n, a, V(wv_##n##_spki), wv_##n##_get7_ad,		\
	wv_##n##_get7_sig, wv_##n##_get0_ad, wv_##n##_get0_sig,		\
	sizeof(wv_##n##_get7_ad), sizeof(wv_##n##_get7_sig),		\
	sizeof(wv_##n##_get0_ad), sizeof(wv_##n##_get0_sig) }

static const struct as_vec	as_vecs[] = {
	AS(es256, PC_WEBAUTHN_ES256),
	AS(eddsa, PC_WEBAUTHN_EDDSA),
	AS(rs256, PC_WEBAUTHN_RS256),
};

static enum pc_webauthn_result
assert_one(const struct as_vec *v, const uint8_t *ad, size_t adlen,
    const uint8_t *sig, size_t siglen, const uint8_t *cdh, int alg,
    uint32_t stored, uint32_t *got)
{
	return (pc_webauthn_assert(ad, adlen, sig, siglen, cdh, WV_RP_ID, alg,
	    v->spki, v->spki_len, stored, got));
}

static void
test_assert_vectors(void **state)
{
	const struct as_vec	*v, *o;
	uint8_t			 ad[64], sig[512], cdh[PC_WEBAUTHN_HASH_LEN];
	uint32_t		 got;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(as_vecs); i++) {
		v = &as_vecs[i];
		o = &as_vecs[(i + 1) % NELEM(as_vecs)];
		got = 0;
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, v->sig7,
		    v->sig7_len, wv_cdh_get, v->alg, 6, &got), PC_WEBAUTHN_OK);
		assert_int_equal(got, 7);
		assert_int_equal(assert_one(v, v->ad0, v->ad0_len, v->sig0,
		    v->sig0_len, wv_cdh_get, v->alg, 0, &got), PC_WEBAUTHN_OK);
		assert_int_equal(got, 0);
		/* Clone: equal, decreasing, zero after non-zero. */
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, v->sig7,
		    v->sig7_len, wv_cdh_get, v->alg, 7, &got),
		    PC_WEBAUTHN_E_CLONE);
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, v->sig7,
		    v->sig7_len, wv_cdh_get, v->alg, 8, &got),
		    PC_WEBAUTHN_E_CLONE);
		assert_int_equal(assert_one(v, v->ad0, v->ad0_len, v->sig0,
		    v->sig0_len, wv_cdh_get, v->alg, 3, &got),
		    PC_WEBAUTHN_E_CLONE);
		/* Another client data, RP ID, signature byte, key. */
		memcpy(cdh, wv_cdh_get, sizeof(cdh));
		cdh[31] ^= 0x80;
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, v->sig7,
		    v->sig7_len, cdh, v->alg, 0, &got), PC_WEBAUTHN_E_SIG);
		assert_int_equal(pc_webauthn_assert(v->ad7, v->ad7_len,
		    v->sig7, v->sig7_len, wv_cdh_get, "example.com", v->alg,
		    v->spki, v->spki_len, 0, &got), PC_WEBAUTHN_E_RP_ID);
		memcpy(sig, v->sig7, v->sig7_len);
		sig[v->sig7_len - 1] ^= 0x01;
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, sig,
		    v->sig7_len, wv_cdh_get, v->alg, 0, &got),
		    PC_WEBAUTHN_E_SIG);
		assert_int_equal(assert_one(v, v->ad7, v->ad7_len, v->sig7, 0,
		    wv_cdh_get, v->alg, 0, &got), PC_WEBAUTHN_E_SIG);
		assert_int_equal(pc_webauthn_assert(v->ad7, v->ad7_len,
		    v->sig7, v->sig7_len, wv_cdh_get, WV_RP_ID, o->alg,
		    v->spki, v->spki_len, 0, &got), PC_WEBAUTHN_E_KEY);
		assert_int_equal(pc_webauthn_assert(v->ad7, v->ad7_len,
		    v->sig7, v->sig7_len, wv_cdh_get, WV_RP_ID, v->alg,
		    v->spki, v->spki_len - 1, 0, &got), PC_WEBAUTHN_E_KEY);
		assert_int_equal(pc_webauthn_assert(v->ad7, v->ad7_len,
		    v->sig7, v->sig7_len, wv_cdh_get, WV_RP_ID, -35,
		    v->spki, v->spki_len, 0, &got), PC_WEBAUTHN_E_ALG);
		/* The authData changed: count, cut, a byte after it. */
		memcpy(ad, v->ad7, v->ad7_len);
		ad[36] = 8;
		assert_int_equal(assert_one(v, ad, v->ad7_len, v->sig7,
		    v->sig7_len, wv_cdh_get, v->alg, 0, &got),
		    PC_WEBAUTHN_E_SIG);
		for (len = 0; len < v->ad7_len; len++)
			assert_int_equal(assert_one(v, v->ad7, len, v->sig7,
			    v->sig7_len, wv_cdh_get, v->alg, 0, &got),
			    PC_WEBAUTHN_E_AD_MALFORMED);
		memcpy(ad, v->ad7, v->ad7_len);
		ad[v->ad7_len] = 0;
		assert_int_equal(assert_one(v, ad, v->ad7_len + 1, v->sig7,
		    v->sig7_len, wv_cdh_get, v->alg, 0, &got),
		    PC_WEBAUTHN_E_AD_TRAILING);
	}
}

/* ES256 assertions signed as they are, refused for what they say. */
static const struct {
	const char		*name;
	const uint8_t		*ad, *sig;
	size_t			 ad_len, sig_len;
	enum pc_webauthn_result	 want;
} as_bad[] = {
#define ASB(n, w) { #n, wv_es256_get_##n##_ad, wv_es256_get_##n##_sig,	\
	sizeof(wv_es256_get_##n##_ad), sizeof(wv_es256_get_##n##_sig), w }
	ASB(noup, PC_WEBAUTHN_E_UP),		/* UP clear */
	ASB(nouv, PC_WEBAUTHN_E_UV),		/* UV clear */
	ASB(rp, PC_WEBAUTHN_E_RP_ID),		/* another RP ID */
	{ "a registration's authData", wv_es256_reg_ad, wv_es256_get7_sig,
	    sizeof(wv_es256_reg_ad), sizeof(wv_es256_get7_sig),
	    PC_WEBAUTHN_E_AD_CREDENTIAL },
};

static void
test_assert_flags(void **state)
{
	enum pc_webauthn_result	r;
	uint32_t		got;
	size_t			i;

	(void)state;
	for (i = 0; i < NELEM(as_bad); i++) {
		r = assert_one(&as_vecs[0], as_bad[i].ad, as_bad[i].ad_len,
		    as_bad[i].sig, as_bad[i].sig_len, wv_cdh_get,
		    PC_WEBAUTHN_ES256, 0, &got);
		if (r != as_bad[i].want)
			fail_msg("%s: %s", as_bad[i].name,
			    pc_webauthn_reason(r));
	}
}

static void
test_reasons(void **state)
{
	int	r;

	(void)state;
	for (r = PC_WEBAUTHN_OK; r <= PC_WEBAUTHN_E_INTERNAL; r++) {
		assert_non_null(pc_webauthn_reason(r));
		assert_string_not_equal(pc_webauthn_reason(r), "unknown");
	}
	assert_string_equal(pc_webauthn_reason(PC_WEBAUTHN_E_INTERNAL + 1),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clientdata_vectors),
		cmocka_unit_test(test_clientdata_cases),
		cmocka_unit_test(test_clientdata_size),
		cmocka_unit_test(test_register_good),
		cmocka_unit_test(test_register_refused),
		cmocka_unit_test(test_register_changed),
		cmocka_unit_test(test_register_extensions),
		cmocka_unit_test(test_authdata),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_assert_vectors),
		cmocka_unit_test(test_assert_flags),
		cmocka_unit_test(test_reasons),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
