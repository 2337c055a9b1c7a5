/*
 * devcookie.c: the device cookie's value, made and checked (see
 * devcookie.h). Steps of a check: find the one cookie; split it in
 * three; decode the secret and the MAC (canonical base64url, 43
 * characters each); read the expiry (decimal, no sign, no leading
 * zero); refuse it if it has passed; recompute the MAC for the name
 * claimed and compare in constant time. Every buffer that held a key,
 * a secret or a MAC is wiped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "devcookie.h"
#include "nametag.h"
#include "token.h"

#define PC_DEVCOOKIE_LABEL	"payconsole device cookie v1"
#define PC_DEVCOOKIE_MAC_LEN	32
#define PC_DEVCOOKIE_EXPIRY_MAX	INT64_C(999999999999999999)

static int	pc_devcookie_mac(const struct pc_kek *, const uint8_t *,
		    int64_t, const char *, uint8_t [PC_DEVCOOKIE_MAC_LEN]);
static int	pc_devcookie_expiry(const char *, size_t, int64_t *);

/* HMAC-SHA256(HMAC-SHA256(KEK, label), secret || be64(expires) || tag). */
static int
pc_devcookie_mac(const struct pc_kek *k, const uint8_t *secret,
    int64_t expires, const char *name, uint8_t mac[PC_DEVCOOKIE_MAC_LEN])
{
	uint8_t		key[EVP_MAX_MD_SIZE], msg[PC_DEVCOOKIE_SECRET_LEN + 8 +
			    PC_NAMETAG_MAX];
	char		tag[PC_NAMETAG_MAX];
	unsigned int	klen, mlen;
	size_t		n, tlen;
	int		i, ok;

	if (name == NULL || pc_nametag(k, name, strlen(name), tag) == -1)
		return (-1);
	tlen = strlen(tag);
	memcpy(msg, secret, PC_DEVCOOKIE_SECRET_LEN);
	n = PC_DEVCOOKIE_SECRET_LEN;
	for (i = 7; i >= 0; i--)
		msg[n++] = (uint8_t)((uint64_t)expires >> (i * 8));
	memcpy(msg + n, tag, tlen);
	n += tlen;
	ok = HMAC(EVP_sha256(), k->key, sizeof(k->key),
	    (const unsigned char *)PC_DEVCOOKIE_LABEL,
	    sizeof(PC_DEVCOOKIE_LABEL) - 1, key, &klen) != NULL &&
	    HMAC(EVP_sha256(), key, (int)klen, msg, n, mac, &mlen) != NULL &&
	    mlen == PC_DEVCOOKIE_MAC_LEN;
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(msg, sizeof(msg));
	return (ok ? 0 : -1);
}

int
pc_devcookie_format(const struct pc_kek *k,
    const uint8_t secret[PC_DEVCOOKIE_SECRET_LEN], int64_t expires,
    int64_t now, const char *name, char *out, size_t len)
{
	uint8_t		mac[PC_DEVCOOKIE_MAC_LEN];
	char		s64[PC_TOKEN_B64_LEN + 1], m64[PC_TOKEN_B64_LEN + 1];
	int		n;

	n = -1;
	/* Only what a check can read back (18 digits); Max-Age (expires -
	 * now) cannot overflow. */
	if (now > -PC_DEVCOOKIE_EXPIRY_MAX && expires > now &&
	    expires <= PC_DEVCOOKIE_EXPIRY_MAX &&
	    pc_devcookie_mac(k, secret, expires, name, mac) == 0) {
		pc_token_encode(secret, s64);
		pc_token_encode(mac, m64);
		n = snprintf(out, len, "%s=%s.%" PRId64 ".%s; Path=/; Secure; "
		    "HttpOnly; SameSite=Strict; Max-Age=%" PRId64,
		    PC_DEVCOOKIE_NAME, s64, expires, m64, expires - now);
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(s64, sizeof(s64));
	OPENSSL_cleanse(m64, sizeof(m64));
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			OPENSSL_cleanse(out, len);
		return (-1);
	}
	return (0);
}

/* 1..18 decimal digits, no leading zero, into *v. */
static int
pc_devcookie_expiry(const char *s, size_t len, int64_t *v)
{
	uint64_t	x;
	size_t		i;

	if (len == 0 || len > 18 || s[0] == '0')
		return (-1);
	x = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = (int64_t)x;
	return (0);
}

int
pc_devcookie_verify(const struct pc_kek *k, const char *header,
    const char *name, int64_t now, uint8_t secret[PC_DEVCOOKIE_SECRET_LEN])
{
	uint8_t		mac[PC_DEVCOOKIE_MAC_LEN], want[PC_DEVCOOKIE_MAC_LEN];
	const char	*val, *d1, *d2;
	size_t		len;
	int64_t		expires;
	int		ok;

	ok = 0;
	if (pc_cookie_find(header, PC_DEVCOOKIE_NAME, &val, &len) == 0 &&
	    len > 2 * PC_TOKEN_B64_LEN + 2 &&
	    val[PC_TOKEN_B64_LEN] == '.' &&
	    val[len - PC_TOKEN_B64_LEN - 1] == '.') {
		d1 = val + PC_TOKEN_B64_LEN;
		d2 = val + len - PC_TOKEN_B64_LEN - 1;
		ok = pc_token_decode(val, PC_TOKEN_B64_LEN, secret) == 0 &&
		    pc_token_decode(d2 + 1, PC_TOKEN_B64_LEN, mac) == 0 &&
		    pc_devcookie_expiry(d1 + 1, (size_t)(d2 - d1 - 1),
		    &expires) == 0 && expires > now &&
		    pc_devcookie_mac(k, secret, expires, name, want) == 0 &&
		    CRYPTO_memcmp(mac, want, sizeof(mac)) == 0;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(want, sizeof(want));
	if (!ok) {
		OPENSSL_cleanse(secret, PC_DEVCOOKIE_SECRET_LEN);
		return (-1);
	}
	return (0);
}
