/*
 * totp.c: RFC 6238 one-time codes through liboath (pure, no Kore headers).
 *
 * liboath does the HOTP arithmetic; what we add is the policy around it:
 * strict code syntax, a fixed +-1 step window, a comparison that looks at
 * every candidate whatever the code is, and no generated code left on
 * the stack afterwards.
 */

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "totp.h"

/* Secrets shorter than 128 bits are refused (RFC 4226 R6). */
#define PC_TOTP_SECRET_MIN	16
#define PC_TOTP_SECRET_MAX	64

/* liboath produces 6, 7 or 8 digits. */
#define PC_TOTP_DIGITS_MIN	6
#define PC_TOTP_DIGITS_MAX	8

/* Leaves room for the step after now, times 30, without overflow. */
#define PC_TOTP_T_MAX		(INT64_MAX - 2 * PC_TOTP_STEP)

#define PC_TOTP_ISSUER		"payconsole"

/* t is handed to liboath as time_t: 20000000000 must survive. */
_Static_assert(sizeof(time_t) >= 8, "time_t must be 64-bit");

struct pc_totp_buf {
	char	*p;
	size_t	 len;
	size_t	 off;
	int	 err;
};

static int	pc_totp_secret_ok(const uint8_t *secret, size_t secret_len);
static void	pc_totp_put(struct pc_totp_buf *b, const char *s, size_t n);
static void	pc_totp_puts(struct pc_totp_buf *b, const char *s);
static void	pc_totp_put_label(struct pc_totp_buf *b, const char *s);

static const char	pc_totp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char	pc_totp_hex[] = "0123456789ABCDEF";
static int		pc_totp_ready;

int
pc_totp_init(void)
{
	if (pc_totp_ready)
		return (0);
	if (oath_init() != OATH_OK)
		return (-1);
	pc_totp_ready = 1;
	return (0);
}

int
pc_totp_code_wellformed(const char *code, size_t len, unsigned digits)
{
	size_t	i;

	if (code == NULL)
		return (0);
	if (digits < PC_TOTP_DIGITS_MIN || digits > PC_TOTP_DIGITS_MAX)
		return (0);
	if (len != digits)
		return (0);
	for (i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9')
			return (0);
	}
	return (1);
}

int
pc_totp_verify(const uint8_t *secret, size_t secret_len, int64_t now,
    const char *code, size_t code_len, int64_t *step)
{
	char		expect[PC_TOTP_DIGITS + 1];
	int64_t		base, cand, found, mask;
	int		i, rc, match, bad;

	if (step == NULL)
		return (-1);
	*step = 0;
	if (!pc_totp_code_wellformed(code, code_len, PC_TOTP_DIGITS))
		return (-1);
	if (!pc_totp_secret_ok(secret, secret_len))
		return (-1);
	if (now < 0 || now > PC_TOTP_T_MAX)
		return (-1);

	base = now / PC_TOTP_STEP;
	found = -1;
	bad = 0;

	/*
	 * All candidates are generated and compared whatever matched, and
	 * the later step wins, so that time does not depend on where (or
	 * whether) the code matched.
	 */
	for (i = -PC_TOTP_WINDOW; i <= PC_TOTP_WINDOW; i++) {
		cand = base + i;
		if (cand < 0)
			continue;
		rc = oath_totp_generate((const char *)secret, secret_len,
		    (time_t)(cand * PC_TOTP_STEP), PC_TOTP_STEP,
		    OATH_TOTP_DEFAULT_START_TIME, PC_TOTP_DIGITS, expect);
		bad |= (rc != OATH_OK);
		match = (CRYPTO_memcmp(expect, code, PC_TOTP_DIGITS) == 0) &
		    (rc == OATH_OK);
		mask = -(int64_t)match;
		found = (found & ~mask) | (cand & mask);
		OPENSSL_cleanse(expect, sizeof(expect));
	}

	if (bad || found < 0)
		return (-1);
	*step = found;
	return (0);
}

int
pc_totp_generate(const uint8_t *secret, size_t secret_len, int64_t t,
    unsigned digits, char *out, size_t outlen)
{
	char	buf[PC_TOTP_DIGITS_MAX + 1];
	int	rc;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (!pc_totp_secret_ok(secret, secret_len))
		return (-1);
	if (digits < PC_TOTP_DIGITS_MIN || digits > PC_TOTP_DIGITS_MAX)
		return (-1);
	if (outlen < (size_t)digits + 1)
		return (-1);
	if (t < 0 || t > PC_TOTP_T_MAX)
		return (-1);

	rc = oath_totp_generate((const char *)secret, secret_len, (time_t)t,
	    PC_TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME, digits, buf);
	if (rc != OATH_OK || strlen(buf) != digits) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return (-1);
	}
	memcpy(out, buf, (size_t)digits + 1);
	OPENSSL_cleanse(buf, sizeof(buf));
	return (0);
}

int
pc_totp_base32(const uint8_t *secret, size_t len, char *out, size_t outlen)
{
	size_t		i, o, need;
	uint32_t	acc;
	int		bits;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (secret == NULL && len != 0)
		return (-1);
	if (len > (SIZE_MAX - 5) / 8)
		return (-1);
	need = (len * 8 + 4) / 5;
	if (need >= outlen)
		return (-1);

	o = 0;
	acc = 0;
	bits = 0;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | secret[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = pc_totp_b32[(acc >> bits) & 0x1f];
		}
	}
	/* Last partial group, zero-padded on the right; no '=' padding. */
	if (bits > 0)
		out[o++] = pc_totp_b32[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	return (0);
}

int
pc_totp_uri(const uint8_t *secret, size_t len, const char *user, char *out,
    size_t outlen)
{
	struct pc_totp_buf	b;
	char			b32[(PC_TOTP_SECRET_MAX * 8 + 4) / 5 + 1];

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (user == NULL || user[0] == '\0')
		return (-1);
	if (!pc_totp_secret_ok(secret, len))
		return (-1);
	if (pc_totp_base32(secret, len, b32, sizeof(b32)) == -1)
		return (-1);

	b.p = out;
	b.len = outlen;
	b.off = 0;
	b.err = 0;
	pc_totp_puts(&b, "otpauth://totp/" PC_TOTP_ISSUER ":");
	pc_totp_put_label(&b, user);
	pc_totp_puts(&b, "?secret=");
	pc_totp_puts(&b, b32);
	pc_totp_puts(&b, "&issuer=" PC_TOTP_ISSUER
	    "&algorithm=SHA1&digits=6&period=30");
	OPENSSL_cleanse(b32, sizeof(b32));

	/* The URI carries the secret: leave nothing half-written behind. */
	if (b.err) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return (-1);
	}
	out[b.off] = '\0';
	return (0);
}

static int
pc_totp_secret_ok(const uint8_t *secret, size_t secret_len)
{
	if (secret == NULL)
		return (0);
	if (secret_len < PC_TOTP_SECRET_MIN || secret_len > PC_TOTP_SECRET_MAX)
		return (0);
	return (1);
}

/* Append n bytes, keeping room for the final NUL; sets err if full. */
static void
pc_totp_put(struct pc_totp_buf *b, const char *s, size_t n)
{
	if (b->err || n >= b->len - b->off) {
		b->err = 1;
		return;
	}
	memcpy(b->p + b->off, s, n);
	b->off += n;
}

static void
pc_totp_puts(struct pc_totp_buf *b, const char *s)
{
	pc_totp_put(b, s, strlen(s));
}

/* RFC 3986 unreserved bytes as they are, every other byte as %XX. */
static void
pc_totp_put_label(struct pc_totp_buf *b, const char *s)
{
	unsigned char	c;
	char		enc[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			pc_totp_put(b, (const char *)&c, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = pc_totp_hex[c >> 4];
		enc[2] = pc_totp_hex[c & 0x0f];
		pc_totp_put(b, enc, sizeof(enc));
	}
}
