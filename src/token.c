/*
 * token.c: session tokens, cookies and CSRF tokens. See token.h.
 *
 * Why base64url by hand and not OpenSSL's EVP_EncodeBlock/DecodeBlock
 * (checked 2026-12, OpenSSL 3.0): EVP speaks standard base64 only, so
 * both ways need '+/' <-> '-_' and padding added or stripped, as many
 * lines as the codec here. And the decoder is not canonical: of the 3
 * variants of a token whose spare low bits are set (refused here) EVP
 * decoded all 3 to the same 32 bytes, and it accepted 2 of 4 tokens
 * with leading white space; it also reports 33 bytes for a 32-byte
 * token. One cookie value per session token is the property we keep.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "bytea.h"
#include "token.h"

static const char pc_token_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void	pc_token_b64(const uint8_t *, size_t, char *);
static int	pc_token_b64val(char);

int
pc_token_new(uint8_t tok[PC_TOKEN_LEN])
{
	return (RAND_bytes(tok, PC_TOKEN_LEN) == 1 ? 0 : -1);
}

/* base64url without padding; out gets 4*ceil(n/3) minus padding + NUL. */
static void
pc_token_b64(const uint8_t *in, size_t n, char *out)
{
	size_t		i, o;
	uint32_t	v;

	o = 0;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = pc_token_alpha[(v >> 18) & 63];
		out[o++] = pc_token_alpha[(v >> 12) & 63];
		out[o++] = pc_token_alpha[(v >> 6) & 63];
		out[o++] = pc_token_alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = pc_token_alpha[(v >> 18) & 63];
		out[o++] = pc_token_alpha[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = pc_token_alpha[(v >> 18) & 63];
		out[o++] = pc_token_alpha[(v >> 12) & 63];
		out[o++] = pc_token_alpha[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static int
pc_token_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '-')
		return (62);
	if (c == '_')
		return (63);
	return (-1);
}

void
pc_token_encode(const uint8_t tok[PC_TOKEN_LEN], char *out)
{
	pc_token_b64(tok, PC_TOKEN_LEN, out);
}

int
pc_token_decode(const char *s, size_t len, uint8_t tok[PC_TOKEN_LEN])
{
	size_t		i, o;
	uint32_t	v;
	int		d[4];

	if (len != PC_TOKEN_B64_LEN)
		return (-1);

	o = 0;
	for (i = 0; i < 40; i += 4) {
		for (int k = 0; k < 4; k++) {
			if ((d[k] = pc_token_b64val(s[i + k])) < 0)
				return (-1);
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		tok[o++] = v >> 16;
		tok[o++] = (v >> 8) & 0xff;
		tok[o++] = v & 0xff;
	}
	/* 3 characters carry the last 2 bytes; the spare 2 bits must be 0. */
	for (int k = 0; k < 3; k++) {
		if ((d[k] = pc_token_b64val(s[40 + k])) < 0)
			return (-1);
	}
	if (d[2] & 3)
		return (-1);
	v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6;
	tok[o++] = v >> 16;
	tok[o++] = (v >> 8) & 0xff;

	return (0);
}

void
pc_token_hash(const uint8_t tok[PC_TOKEN_LEN], uint8_t out[32])
{
	(void)SHA256(tok, PC_TOKEN_LEN, out);
}

void
pc_token_hash_hex(const uint8_t tok[PC_TOKEN_LEN], char out[67])
{
	uint8_t		h[32];

	pc_token_hash(tok, h);
	/* 67 bytes is exactly PC_BYTEA_TEXT(32): it cannot fail. */
	(void)pc_bytea_encode(h, sizeof(h), out, PC_BYTEA_TEXT(sizeof(h)));
}

void
pc_token_csrf(const uint8_t tok[PC_TOKEN_LEN], char *out)
{
	static const char	label[] = "payconsole csrf v1";
	EVP_MD_CTX		*ctx;
	uint8_t			h[32];
	unsigned int		hl;

	memset(h, 0, sizeof(h));
	if ((ctx = EVP_MD_CTX_new()) != NULL) {
		if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(ctx, label, sizeof(label)) != 1 ||
		    EVP_DigestUpdate(ctx, tok, PC_TOKEN_LEN) != 1 ||
		    EVP_DigestFinal_ex(ctx, h, &hl) != 1)
			memset(h, 0, sizeof(h));
		EVP_MD_CTX_free(ctx);
	}
	pc_token_b64(h, sizeof(h), out);
}

int
pc_token_csrf_ok(const uint8_t tok[PC_TOKEN_LEN], const char *given,
    size_t len)
{
	char	want[PC_TOKEN_B64_LEN + 1];

	if (given == NULL || len != PC_TOKEN_B64_LEN)
		return (0);
	pc_token_csrf(tok, want);
	return (CRYPTO_memcmp(want, given, PC_TOKEN_B64_LEN) == 0);
}

int
pc_cookie_find(const char *header, const char *cname, const char **value,
    size_t *vlen)
{
	const char	*p, *name, *val, *end;
	size_t		nlen, found, want;

	if (header == NULL)
		return (-1);

	found = 0;
	want = strlen(cname);
	p = header;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		nlen = (size_t)(p - name);
		if (*p != '=') {
			continue;
		}
		val = ++p;
		while (*p != '\0' && *p != ';')
			p++;
		end = p;
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (nlen == want && memcmp(name, cname, nlen) == 0) {
			if (++found > 1)
				return (-1);
			*value = val;
			*vlen = (size_t)(end - val);
		}
	}
	return (found == 1 ? 0 : -1);
}

int
pc_cookie_session(const char *header, uint8_t tok[PC_TOKEN_LEN])
{
	const char	*val;
	size_t		len;

	if (pc_cookie_find(header, PC_TOKEN_COOKIE, &val, &len) == -1)
		return (-1);
	return (pc_token_decode(val, len, tok));
}

int
pc_cookie_format(const uint8_t *tok, long max_age, char *out, size_t len)
{
	char	enc[PC_TOKEN_B64_LEN + 1];
	int	n;

	if (tok != NULL)
		pc_token_encode(tok, enc);
	else
		enc[0] = '\0';
	if (max_age < 0)
		max_age = 0;

	n = snprintf(out, len, "%s=%s; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=%ld", PC_TOKEN_COOKIE, enc,
	    tok != NULL ? max_age : 0);
	OPENSSL_cleanse(enc, sizeof(enc));

	return (n < 0 || (size_t)n >= len ? -1 : 0);
}
