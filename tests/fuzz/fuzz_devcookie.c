/*
 * fuzz_devcookie.c: pc_devcookie_verify() on arbitrary Cookie headers
 * and names.
 *
 * Input: the name claimed, a NUL, then the Cookie header (no NUL: the
 * name "admin" and the whole input as the header). The KEK is fixed
 * (key bytes 1..32, as in tests/unit/test_devcookie.c), so the seeds in
 * tests/fuzz/corpus/devcookie carry cookies that verify.
 *
 * Properties: a header it accepts carries exactly the value
 * pc_devcookie_format() makes for the secret returned, the expiry in it
 * and the name claimed, and that expiry is still to come; a refusal
 * leaves the secret all zeros. Any 32 bytes of the input as a secret,
 * with an expiry and the name from the input, format and verify back to
 * that secret; at the expiry, under another name or another KEK, or with
 * one byte of the value changed, they are refused.
 */
#include "devcookie.h"
#include "token.h"
#include "fuzz_util.h"

#define FZ_NOW	1700000000LL

static struct pc_kek	fz_kek;

static void	fz_kek_init(void);
static void	fz_check_accepted(const char *, const char *,
		    const uint8_t *);
static void	fz_check_roundtrip(const uint8_t *, const char *);
static int	fz_verify(const struct pc_kek *, const char *, const char *,
		    int64_t, uint8_t *);

static void
fz_kek_init(void)
{
	size_t	i;

	fz_kek.id = 1;
	for (i = 0; i < sizeof(fz_kek.key); i++)
		fz_kek.key[i] = (uint8_t)(i + 1);
}

/* Verify; a refusal must leave the secret all zeros. */
static int
fz_verify(const struct pc_kek *k, const char *hdr, const char *name,
    int64_t now, uint8_t *secret)
{
	static const uint8_t	zero[PC_DEVCOOKIE_SECRET_LEN];
	int			rc;

	memset(secret, 0xa5, PC_DEVCOOKIE_SECRET_LEN);
	rc = pc_devcookie_verify(k, hdr, name, now, secret);
	FZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0)
		FZ_CHECK(memcmp(secret, zero, PC_DEVCOOKIE_SECRET_LEN) == 0);
	return (rc);
}

/* An accepted header: its value must be what format makes. */
static void
fz_check_accepted(const char *hdr, const char *name, const uint8_t *secret)
{
	char		 set[PC_DEVCOOKIE_HEADER_MAX], *semi;
	const char	*val;
	size_t		 len, plen;
	long long	 expires;
	char		*end;

	FZ_CHECK(pc_cookie_find(hdr, PC_DEVCOOKIE_NAME, &val, &len) == 0);
	FZ_CHECK(len > 2 * PC_TOKEN_B64_LEN + 2 &&
	    val[PC_TOKEN_B64_LEN] == '.');
	FZ_CHECK(val[PC_TOKEN_B64_LEN + 1] >= '1' &&
	    val[PC_TOKEN_B64_LEN + 1] <= '9');
	expires = strtoll(val + PC_TOKEN_B64_LEN + 1, &end, 10);
	FZ_CHECK(*end == '.' && expires > FZ_NOW);
	FZ_CHECK(pc_devcookie_format(&fz_kek, secret, expires, FZ_NOW, name,
	    set, sizeof(set)) == 0);
	FZ_CHECK((semi = strchr(set, ';')) != NULL);
	*semi = '\0';
	plen = sizeof(PC_DEVCOOKIE_NAME);
	FZ_CHECK(strlen(set) == plen + len);
	FZ_CHECK(memcmp(set + plen, val, len) == 0);
}

/* Any 32 bytes as a secret: made, then read back; changes refused. */
static void
fz_check_roundtrip(const uint8_t *data, const char *name)
{
	uint8_t		 back[PC_DEVCOOKIE_SECRET_LEN];
	char		 set[PC_DEVCOOKIE_HEADER_MAX], *semi, *other;
	struct pc_kek	 k2;
	int64_t		 expires;
	size_t		 at, nlen;
	int		 rc;

	/* An expiry from a second to about four years ahead. */
	expires = FZ_NOW + 1 + (int64_t)(((uint32_t)data[32] << 16 |
	    (uint32_t)data[33] << 8 | data[34]) * 8);
	rc = pc_devcookie_format(&fz_kek, data, expires, FZ_NOW, name, set,
	    sizeof(set));
	nlen = strlen(name);
	FZ_CHECK((rc == 0) == (nlen > 0 && nlen <= 1024));
	if (rc != 0)
		return;
	FZ_CHECK((semi = strchr(set, ';')) != NULL);
	*semi = '\0';
	FZ_CHECK(fz_verify(&fz_kek, set, name, FZ_NOW, back) == 0);
	FZ_CHECK(memcmp(back, data, PC_DEVCOOKIE_SECRET_LEN) == 0);
	FZ_CHECK(fz_verify(&fz_kek, set, name, expires - 1, back) == 0);
	FZ_CHECK(fz_verify(&fz_kek, set, name, expires, back) == -1);

	k2 = fz_kek;
	k2.key[data[35] % sizeof(k2.key)] ^= (uint8_t)(1 << (data[36] % 8));
	FZ_CHECK(fz_verify(&k2, set, name, FZ_NOW, back) == -1);

	/* Another name: this one with a character added. */
	if ((other = malloc(nlen + 2)) == NULL)
		abort();
	(void)snprintf(other, nlen + 2, "%sx", name);
	FZ_CHECK(fz_verify(&fz_kek, set, other, FZ_NOW, back) == -1);
	free(other);

	/* One byte of the value changed, whatever to. */
	at = sizeof(PC_DEVCOOKIE_NAME) + data[37] % (strlen(set) -
	    sizeof(PC_DEVCOOKIE_NAME));
	if (set[at] != (char)data[38]) {
		set[at] = (char)data[38];
		FZ_CHECK(fz_verify(&fz_kek, set, name, FZ_NOW, back) == -1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		 secret[PC_DEVCOOKIE_SECRET_LEN];
	char		*in, *nul;
	const char	*name, *hdr;

	if (fz_kek.id == 0)
		fz_kek_init();
	in = fz_cstr(data, size);
	if ((nul = memchr(in, '\0', size)) != NULL) {
		name = in;
		hdr = nul + 1;
	} else {
		name = "admin";
		hdr = in;
	}
	if (fz_verify(&fz_kek, hdr, name, FZ_NOW, secret) == 0)
		fz_check_accepted(hdr, name, secret);

	if (size >= PC_DEVCOOKIE_SECRET_LEN + 7)
		fz_check_roundtrip(data, name);

	free(in);
	return (0);
}
