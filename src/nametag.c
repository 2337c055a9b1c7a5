/*
 * nametag.c: the recorded form of an unknown username (see nametag.h).
 *
 * Steps: fold the name (UTF-8 -> UTF-16, NFKC, simple lower case per
 * code point as the database's lower() -> UTF-8; bytes
 * that are not UTF-8 are taken as they are); derive the tag key,
 * HMAC-SHA256(KEK, label); HMAC the folded name under it; print the
 * first 8 bytes in hex and the folded length in code points. Every
 * buffer that held the name or a key is wiped.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "nametag.h"

#define PC_NAMETAG_IN_MAX	1024
#define PC_NAMETAG_LABEL	"payconsole unknown-username tag v1"

static size_t	pc_nametag_fold(const char *, size_t, char *, size_t,
		    size_t *);

/* The folded UTF-8 into out (len bytes at most); its length; cps. */
static size_t
pc_nametag_fold(const char *name, size_t len, char *out, size_t outlen,
    size_t *cps)
{
	UChar			 u[PC_NAMETAG_IN_MAX], f[PC_NAMETAG_IN_MAX * 2];
	const UNormalizer2	*nf;
	UErrorCode		 err = U_ZERO_ERROR;
	int32_t			 ulen = 0, flen = 0, olen = 0, i, j;
	UChar32			 c;
	UBool			 bad = 0;

	*cps = 0;
	nf = unorm2_getNFKCInstance(&err);
	if (U_SUCCESS(err))
		(void)u_strFromUTF8(u, PC_NAMETAG_IN_MAX, &ulen, name,
		    (int32_t)len, &err);
	if (U_SUCCESS(err))
		flen = unorm2_normalize(nf, u, ulen, f, PC_NAMETAG_IN_MAX * 2,
		    &err);
	/*
	 * Then each code point's simple lower case, in place: what the
	 * database's lower() does to find an account (glibc's towlower under
	 * C.UTF-8). Full case folding (ß to ss) would group names that are
	 * different accounts, and a lock on one tag would then show which
	 * spelling is a real account. Simple mappings keep the UTF-16 length
	 * of each code point.
	 */
	for (i = j = 0; U_SUCCESS(err) && i < flen && !bad; ) {
		U16_NEXT(f, i, flen, c);
		U16_APPEND(f, j, i, u_tolower(c), bad);
	}
	if (bad)
		err = U_INTERNAL_PROGRAM_ERROR;
	if (U_SUCCESS(err))
		(void)u_strToUTF8(out, (int32_t)outlen, &olen, f, flen, &err);
	if (U_FAILURE(err) || olen < 0 || (size_t)olen >= outlen) {
		/* Not UTF-8, or too long once folded: the bytes as given. */
		memcpy(out, name, len);
		olen = (int32_t)len;
		*cps = len;
	} else {
		*cps = (size_t)u_countChar32(f, flen);
	}
	OPENSSL_cleanse(u, sizeof(u));
	OPENSSL_cleanse(f, sizeof(f));
	return ((size_t)olen);
}

int
pc_nametag(const struct pc_kek *k, const char *name, size_t len,
    char out[PC_NAMETAG_MAX])
{
	unsigned char	 key[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
	char		 folded[PC_NAMETAG_IN_MAX * 4];
	unsigned int	 klen, mlen;
	size_t		 n, cps;
	int		 ok;

	out[0] = '\0';
	if (k == NULL || name == NULL || len == 0 ||
	    len > PC_NAMETAG_IN_MAX)
		return (-1);
	n = pc_nametag_fold(name, len, folded, sizeof(folded), &cps);
	ok = HMAC(EVP_sha256(), k->key, sizeof(k->key),
	    (const unsigned char *)PC_NAMETAG_LABEL,
	    sizeof(PC_NAMETAG_LABEL) - 1, key, &klen) != NULL &&
	    HMAC(EVP_sha256(), key, (int)klen, (unsigned char *)folded, n,
	    mac, &mlen) != NULL && mlen >= 8;
	if (ok) {
		(void)snprintf(out, PC_NAMETAG_MAX,
		    "unknown:%02x%02x%02x%02x%02x%02x%02x%02x:%zu",
		    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], mac[6],
		    mac[7], cps);
	}
	OPENSSL_cleanse(folded, sizeof(folded));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return (ok ? 0 : -1);
}
