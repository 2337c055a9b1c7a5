/*
 * fuzz_webauthn_attobj.c: pc_webauthn_register() on arbitrary bytes as
 * an attestation object, for the unit test's RP ID and client data
 * hash (tests/unit/data/webauthn_vectors.h), so the seeds in
 * tests/fuzz/corpus/webauthn_attobj register.
 *
 * Properties: a refusal has a known reason and leaves the output as it
 * was; a registration has a credential id of 1 to 1023 bytes, a
 * supported algorithm, a public key that OpenSSL reads back whole as
 * DER SubjectPublicKeyInfo of that algorithm's type, a known
 * attestation kind, and the same input registers the same again. For
 * another RP ID it is refused for the RP ID hash.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "webauthn.h"
#include "fuzz_util.h"

/* The unit test's vectors: the RP ID and wv_cdh_create are used here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-const-variable"
#include "../unit/data/webauthn_vectors.h"
#pragma clang diagnostic pop

static void	fz_check_cred(const struct pc_webauthn_cred *);

static void
fz_check_cred(const struct pc_webauthn_cred *c)
{
	const unsigned char	*p;
	EVP_PKEY		*pkey;
	int			 type;

	FZ_CHECK(c->id_len >= 1 && c->id_len <= PC_WEBAUTHN_CRED_ID_MAX);
	FZ_CHECK(c->att == PC_WEBAUTHN_ATT_NONE ||
	    c->att == PC_WEBAUTHN_ATT_SELF || c->att == PC_WEBAUTHN_ATT_X5C);
	FZ_CHECK(c->pubkey_len > 0 && c->pubkey_len <= PC_WEBAUTHN_PUBKEY_MAX);
	p = c->pubkey;
	pkey = d2i_PUBKEY(NULL, &p, (long)c->pubkey_len);
	FZ_CHECK(pkey != NULL && p == c->pubkey + c->pubkey_len);
	type = EVP_PKEY_base_id(pkey);
	FZ_CHECK((c->alg == PC_WEBAUTHN_ES256 && type == EVP_PKEY_EC) ||
	    (c->alg == PC_WEBAUTHN_EDDSA && type == EVP_PKEY_ED25519) ||
	    (c->alg == PC_WEBAUTHN_RS256 && type == EVP_PKEY_RSA));
	EVP_PKEY_free(pkey);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_webauthn_cred	*c, *again, *before;
	enum pc_webauthn_result	 r;
	uint8_t			*buf;

	buf = fz_dup(data, size);
	if ((c = malloc(sizeof(*c))) == NULL ||
	    (again = malloc(sizeof(*again))) == NULL ||
	    (before = malloc(sizeof(*before))) == NULL)
		abort();
	memset(before, 0xa5, sizeof(*before));
	*c = *before;
	r = pc_webauthn_register(buf, size, wv_cdh_create, WV_RP_ID, c);
	FZ_CHECK(r <= PC_WEBAUTHN_E_INTERNAL);
	FZ_CHECK(strcmp(pc_webauthn_reason(r), "unknown") != 0);
	if (r != PC_WEBAUTHN_OK) {
		FZ_CHECK(memcmp(c, before, sizeof(*c)) == 0);
	} else {
		fz_check_cred(c);
		*again = *before;
		FZ_CHECK(pc_webauthn_register(buf, size, wv_cdh_create,
		    WV_RP_ID, again) == PC_WEBAUTHN_OK);
		FZ_CHECK(memcmp(c, again, sizeof(*c)) == 0);
		FZ_CHECK(pc_webauthn_register(buf, size, wv_cdh_create,
		    "example.com", again) == PC_WEBAUTHN_E_RP_ID);
	}
	free(before);
	free(again);
	free(c);
	free(buf);
	return (0);
}
