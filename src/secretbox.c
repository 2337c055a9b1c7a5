/*
 * secretbox.c: AES-256-GCM sealing of secrets at rest (pure).
 *
 * Blob: version(1) | key id(4, BE) | nonce(12) | ciphertext | tag(16).
 * The header (version and key id) is authenticated together with the
 * caller's additional data, so neither can be swapped for another.
 *
 * The cipher is OpenSSL's EVP; the key file's "id hex64" line is read
 * here with OpenSSL's digit table (OPENSSL_hexchar2int). Not
 * OPENSSL_hexstr2buf(): it returns a heap copy of the key that would
 * need wiping too (the _ex form writes into the key before it fails),
 * and it leaves its errors on the thread's queue.
 */
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "keyfile.h"
#include "secretbox.h"

#define SECRETBOX_VERSION	0x01
#define SECRETBOX_HDR_LEN	(1 + 4)
#define SECRETBOX_NONCE_LEN	12
#define SECRETBOX_TAG_LEN	16
#define SECRETBOX_KEY_HEX	(PC_SECRETBOX_KEY_LEN * 2)
#define SECRETBOX_ID_MAX	2147483647UL
#define SECRETBOX_FILE_MAX	256

static EVP_CIPHER_CTX
		*secretbox_begin(int, const struct pc_kek *, const uint8_t *,
		    const uint8_t *, const uint8_t *, size_t);

int
pc_kek_parse(struct pc_kek *k, const char *text, size_t len)
{
	const unsigned char	*s = (const unsigned char *)text;
	unsigned long		 id;
	size_t			 i, n;
	int			 hi, lo;

	if (k == NULL)
		return (-1);
	memset(k, 0, sizeof(*k));
	if (text == NULL)
		return (-1);

	/* One optional trailing newline, nothing else around the line. */
	if (len > 0 && s[len - 1] == '\n')
		len--;

	/* Decimal id 1..2^31-1, no sign, no leading zero. */
	if (len == 0 || s[0] < '1' || s[0] > '9')
		return (-1);
	id = 0;
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		id = id * 10 + (s[i] - '0');
		if (id > SECRETBOX_ID_MAX)
			return (-1);
	}

	if (i >= len || s[i] != ' ')
		return (-1);
	i++;
	if (len - i != SECRETBOX_KEY_HEX)
		return (-1);

	for (n = 0; n < PC_SECRETBOX_KEY_LEN; n++, i += 2) {
		hi = OPENSSL_hexchar2int((unsigned char)s[i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[i + 1]);
		if (hi == -1 || lo == -1) {
			pc_kek_wipe(k);
			return (-1);
		}
		k->key[n] = (uint8_t)((hi << 4) | lo);
	}

	k->id = (uint32_t)id;
	return (0);
}

int
pc_kek_load(struct pc_kek *k, const char *path, char *err, size_t errlen)
{
	char		buf[SECRETBOX_FILE_MAX + 1];
	size_t		len;
	int		rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (k == NULL || path == NULL) {
		pc_errmsg(err, errlen, "no key file given");
		return (-1);
	}
	memset(k, 0, sizeof(*k));

	rc = pc_keyfile_read(path, buf, sizeof(buf), &len, err, errlen);
	if (rc == 0 && pc_kek_parse(k, buf, len) == -1) {
		pc_errmsg(err, errlen,
		    "key file %s is malformed (want one line: id hex64)", path);
		rc = -1;
	}

	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1)
		pc_kek_wipe(k);
	return (rc);
}

void
pc_kek_wipe(struct pc_kek *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

int
pc_secretbox_seal(const struct pc_kek *k, const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t len, uint8_t *out, size_t outlen)
{
	EVP_CIPHER_CTX	*ctx;
	uint8_t		*nonce, *ct;
	int		 n, rc;

	if (k == NULL || k->id == 0 || out == NULL ||
	    (ad == NULL && adlen != 0) || (in == NULL && len != 0))
		return (-1);
	/* pc_secretbox_open() returns the length as an int. */
	if (len > (size_t)INT_MAX - PC_SECRETBOX_OVERHEAD ||
	    outlen < len + PC_SECRETBOX_OVERHEAD)
		return (-1);

	out[0] = SECRETBOX_VERSION;
	out[1] = (uint8_t)(k->id >> 24);
	out[2] = (uint8_t)(k->id >> 16);
	out[3] = (uint8_t)(k->id >> 8);
	out[4] = (uint8_t)k->id;
	nonce = out + SECRETBOX_HDR_LEN;
	ct = nonce + SECRETBOX_NONCE_LEN;

	/* Random 96-bit nonces: fine for far fewer than 2^32 seals a key. */
	if (RAND_bytes(nonce, SECRETBOX_NONCE_LEN) != 1)
		return (-1);

	rc = -1;
	if ((ctx = secretbox_begin(1, k, nonce, out, ad, adlen)) == NULL)
		goto out;
	if (len > 0 && (EVP_EncryptUpdate(ctx, ct, &n, in, (int)len) != 1 ||
	    (size_t)n != len))
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 || n != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_LEN,
	    ct + len) != 1)
		goto out;
	rc = 0;

out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1)
		OPENSSL_cleanse(out, len + PC_SECRETBOX_OVERHEAD);
	return (rc);
}

int
pc_secretbox_open(const struct pc_kek *k, const uint8_t *ad, size_t adlen,
    const uint8_t *in, size_t len, uint8_t *out, size_t outlen)
{
	EVP_CIPHER_CTX	*ctx;
	const uint8_t	*nonce, *ct, *tag;
	uint8_t		 tagbuf[SECRETBOX_TAG_LEN];
	size_t		 ctlen;
	int		 n, rc;

	if (out == NULL && outlen != 0)
		return (-1);
	rc = -1;
	ctx = NULL;

	if (k == NULL || k->id == 0 || in == NULL ||
	    (ad == NULL && adlen != 0))
		goto fail;
	if (len < PC_SECRETBOX_OVERHEAD ||
	    len - PC_SECRETBOX_OVERHEAD > (size_t)INT_MAX)
		goto fail;
	ctlen = len - PC_SECRETBOX_OVERHEAD;
	if (outlen < ctlen || (out == NULL && ctlen != 0))
		goto fail;
	if (pc_secretbox_key_id(in, len) != k->id)
		goto fail;

	nonce = in + SECRETBOX_HDR_LEN;
	ct = nonce + SECRETBOX_NONCE_LEN;
	tag = ct + ctlen;
	/* The tag ctrl takes a non-const pointer. */
	memcpy(tagbuf, tag, sizeof(tagbuf));

	if ((ctx = secretbox_begin(0, k, nonce, in, ad, adlen)) == NULL)
		goto fail;
	if (ctlen > 0 && (EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1 ||
	    (size_t)n != ctlen))
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_LEN,
	    tagbuf) != 1)
		goto fail;
	/* Final checks the tag; until then out is unauthenticated. */
	if (EVP_DecryptFinal_ex(ctx, out == NULL ? tagbuf : out + ctlen,
	    &n) != 1 || n != 0)
		goto fail;
	rc = (int)ctlen;

fail:
	EVP_CIPHER_CTX_free(ctx);
	if (rc == -1 && out != NULL)
		OPENSSL_cleanse(out, outlen);
	return (rc);
}

uint32_t
pc_secretbox_key_id(const uint8_t *in, size_t len)
{
	if (in == NULL || len < PC_SECRETBOX_OVERHEAD ||
	    in[0] != SECRETBOX_VERSION)
		return (0);

	return (((uint32_t)in[1] << 24) | ((uint32_t)in[2] << 16) |
	    ((uint32_t)in[3] << 8) | (uint32_t)in[4]);
}

/*
 * An AES-256-GCM context to seal (enc 1) or open (enc 0) under k with a
 * 96-bit nonce, the associated data already in: the header first (fixed
 * length), then the caller's bytes. NULL on any failure.
 */
static EVP_CIPHER_CTX *
secretbox_begin(int enc, const struct pc_kek *k, const uint8_t *nonce,
    const uint8_t *hdr, const uint8_t *ad, size_t adlen)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n;

	if (adlen > INT_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return (NULL);
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    SECRETBOX_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, k->key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, hdr, SECRETBOX_HDR_LEN) != 1 ||
	    (adlen > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		return (NULL);
	}

	return (ctx);
}
