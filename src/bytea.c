/*
 * bytea.c: PostgreSQL's hex form of bytea (bytea.h).
 *
 * Decoding uses OpenSSL's digit table. Encoding stays a 10-line loop:
 * OPENSSL_buf2hexstr_ex() (OpenSSL 3.0) writes upper case ("AB0F" for
 * ab 0f), so every token, code and sealed secret we send would change
 * its text, and it leaves errors on the thread's queue when out is short.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "bytea.h"

int
pc_bytea_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	if (outlen < 3 || (outlen - 3) / 2 < len)
		return (-1);
	out[0] = '\\';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[in[i] >> 4];
		out[3 + 2 * i] = digits[in[i] & 0x0f];
	}
	out[2 + 2 * len] = '\0';
	return (0);
}

int
pc_bytea_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	const unsigned char	*u;
	size_t			 i, n;
	int			 hi, lo;

	if (strncmp(s, "\\x", 2) != 0)
		return (-1);
	u = (const unsigned char *)s + 2;
	n = strlen(s + 2);
	if (n % 2 || n / 2 > max)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		/*
		 * OpenSSL's digit table ([0-9a-fA-F]); OPENSSL_hexstr2buf()
		 * would also do the loop, but writes before it checks the
		 * length and leaves its errors on the queue TLS reads.
		 */
		if ((hi = OPENSSL_hexchar2int(u[2 * i])) < 0 ||
		    (lo = OPENSSL_hexchar2int(u[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return (0);
}
