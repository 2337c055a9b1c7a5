/*
 * fuzz_webauthn_clientdata.c: pc_webauthn_clientdata_check() on
 * arbitrary bytes as clientDataJSON.
 *
 * The challenge is bytes 0..31 and the origin https://pay.example.com
 * (as in tests/unit/data/webauthn_vectors.h), so the seeds in
 * tests/fuzz/corpus/webauthn_clientdata carry client data that passes.
 *
 * Properties: a passing input is at most PC_WEBAUTHN_CLIENTDATA_MAX
 * bytes of valid UTF-8; jansson read on its own (duplicates refused)
 * finds one object whose type, challenge and origin are exactly those
 * asked and whose crossOrigin is absent or false; the hash given is the
 * input's SHA-256. Asked for the other type it is refused for its type.
 * A refusal leaves the hash all zeros and has a known reason.
 */
#include <openssl/sha.h>

#include <jansson.h>

#include "webauthn.h"
#include "fuzz_util.h"

#define FZ_ORIGIN	"https://pay.example.com"
#define FZ_CHALLENGE	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

static uint8_t	fz_chal[32];

static int	fz_str_is(json_t *, const char *, const char *);
static void	fz_check_passed(const uint8_t *, size_t, const uint8_t *);

static int
fz_str_is(json_t *root, const char *key, const char *want)
{
	json_t	*v;

	v = json_object_get(root, key);
	return (v != NULL && json_is_string(v) &&
	    json_string_length(v) == strlen(want) &&
	    memcmp(json_string_value(v), want, strlen(want)) == 0);
}

static void
fz_check_passed(const uint8_t *data, size_t size, const uint8_t *hash)
{
	uint8_t		 want[SHA256_DIGEST_LENGTH];
	json_error_t	 err;
	json_t		*root, *co;

	FZ_CHECK(size > 0 && size <= PC_WEBAUTHN_CLIENTDATA_MAX);
	FZ_CHECK(fz_utf8_valid(data, size));
	SHA256(data, size, want);
	FZ_CHECK(memcmp(hash, want, sizeof(want)) == 0);
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &err);
	FZ_CHECK(root != NULL && json_is_object(root));
	FZ_CHECK(fz_str_is(root, "type", "webauthn.create"));
	FZ_CHECK(fz_str_is(root, "challenge", FZ_CHALLENGE));
	FZ_CHECK(fz_str_is(root, "origin", FZ_ORIGIN));
	co = json_object_get(root, "crossOrigin");
	FZ_CHECK(co == NULL || json_is_false(co));
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t	 zero[PC_WEBAUTHN_HASH_LEN];
	uint8_t			 hash[PC_WEBAUTHN_HASH_LEN], *buf;
	enum pc_webauthn_result	 r;
	size_t			 i;

	for (i = 0; i < sizeof(fz_chal); i++)
		fz_chal[i] = (uint8_t)i;
	buf = fz_dup(data, size);
	memset(hash, 0xa5, sizeof(hash));
	r = pc_webauthn_clientdata_check(buf, size, "webauthn.create",
	    fz_chal, sizeof(fz_chal), FZ_ORIGIN, hash);
	FZ_CHECK(r >= PC_WEBAUTHN_OK && r <= PC_WEBAUTHN_E_INTERNAL);
	FZ_CHECK(strcmp(pc_webauthn_reason(r), "unknown") != 0);
	if (r == PC_WEBAUTHN_OK) {
		fz_check_passed(data, size, hash);
		FZ_CHECK(pc_webauthn_clientdata_check(buf, size,
		    "webauthn.get", fz_chal, sizeof(fz_chal), FZ_ORIGIN,
		    hash) == PC_WEBAUTHN_E_CD_TYPE);
	}
	else
		FZ_CHECK(memcmp(hash, zero, sizeof(hash)) == 0);
	free(buf);
	return (0);
}
