/*
 * fuzz_webauthn_authdata.c: pc_webauthn_authdata_parse() and
 * pc_webauthn_assert() on arbitrary bytes as authenticator data.
 *
 * Properties: parsed data is 37 to PC_WEBAUTHN_AUTHDATA_MAX bytes; the
 * rpIdHash, flags and sign count are the bytes at their offsets (read
 * here big-endian on their own); with AT the credential id sits at
 * offset 55 with the length in bytes 53..54, the COSE key right after
 * it with a supported alg, without AT there is none; the extensions
 * (ED) follow, and the parts end exactly at the input's end; without AT
 * or ED the input is 37 bytes. As an assertion with a fixed signature
 * and ES256 key (tests/unit/data/webauthn_vectors.h), it is refused
 * with a known reason and never a clone (the signature comes first).
 */
#include "webauthn.h"
#include "fuzz_util.h"

/* The unit test's vectors: wv_es256_spki is used here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-const-variable"
#include "../unit/data/webauthn_vectors.h"
#pragma clang diagnostic pop

static void	fz_check_parsed(const uint8_t *, size_t,
		    const struct pc_webauthn_authdata *);

static void
fz_check_parsed(const uint8_t *data, size_t size,
    const struct pc_webauthn_authdata *ad)
{
	size_t	end;

	FZ_CHECK(size >= 37 && size <= PC_WEBAUTHN_AUTHDATA_MAX);
	FZ_CHECK(memcmp(ad->rp_id_hash, data, 32) == 0);
	FZ_CHECK(ad->flags == data[32]);
	FZ_CHECK(ad->sign_count == ((uint32_t)data[33] << 24 |
	    (uint32_t)data[34] << 16 | (uint32_t)data[35] << 8 | data[36]));
	end = 37;
	if (ad->flags & PC_WEBAUTHN_FLAG_AT) {
		FZ_CHECK(memcmp(ad->aaguid, data + 37, 16) == 0);
		FZ_CHECK(ad->cred_id == data + 55);
		FZ_CHECK(ad->cred_id_len == ((size_t)data[53] << 8 | data[54]));
		FZ_CHECK(ad->cred_id_len >= 1 &&
		    ad->cred_id_len <= PC_WEBAUTHN_CRED_ID_MAX);
		FZ_CHECK(ad->cose_key == ad->cred_id + ad->cred_id_len);
		FZ_CHECK(ad->cose_key_len > 0);
		FZ_CHECK(ad->alg == PC_WEBAUTHN_ES256 ||
		    ad->alg == PC_WEBAUTHN_EDDSA ||
		    ad->alg == PC_WEBAUTHN_RS256);
		end = (size_t)(ad->cose_key - data) + ad->cose_key_len;
	} else
		FZ_CHECK(ad->cred_id == NULL && ad->cose_key == NULL);
	if (ad->flags & PC_WEBAUTHN_FLAG_ED) {
		FZ_CHECK(ad->ext == data + end && ad->ext_len > 0);
		end += ad->ext_len;
	} else
		FZ_CHECK(ad->ext == NULL);
	FZ_CHECK(end == size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t		 sig[72] = { 0x30, 0x46 };
	static const uint8_t		 cdh[PC_WEBAUTHN_HASH_LEN];
	struct pc_webauthn_authdata	 ad;
	enum pc_webauthn_result		 r;
	uint8_t				*buf;
	uint32_t			 got;

	buf = fz_dup(data, size);
	r = pc_webauthn_authdata_parse(buf, size, &ad);
	FZ_CHECK(r == PC_WEBAUTHN_OK || r == PC_WEBAUTHN_E_AD_MALFORMED ||
	    r == PC_WEBAUTHN_E_AD_TRAILING || r == PC_WEBAUTHN_E_ALG);
	if (r == PC_WEBAUTHN_OK)
		fz_check_parsed(buf, size, &ad);

	got = 0xa5a5a5a5;
	r = pc_webauthn_assert(buf, size, sig, sizeof(sig), cdh,
	    "pay.example.com", PC_WEBAUTHN_ES256, wv_es256_spki, sizeof(wv_es256_spki), 0,
	    &got);
	FZ_CHECK(r != PC_WEBAUTHN_OK && r != PC_WEBAUTHN_E_CLONE);
	FZ_CHECK(r <= PC_WEBAUTHN_E_INTERNAL);
	FZ_CHECK(got == 0xa5a5a5a5);
	free(buf);
	return (0);
}
