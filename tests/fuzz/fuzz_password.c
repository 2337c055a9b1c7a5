/*
 * fuzz_password.c: pc_password_check() on arbitrary passwords and user
 * names, and the encoded-hash parser behind pc_password_needs_rehash().
 *
 * Input: one byte for the length of the user name (0..23), the name,
 * then the password.
 *
 * Properties: the verdict is one of the enum and has a code; "ok" means
 * valid UTF-8 without NUL, 12..128 code points, a letter (ASCII or any
 * non-ASCII code point) and an ASCII digit, and no case-insensitive copy
 * of a user name of 3 or more bytes; invalid UTF-8 or a NUL always gives
 * password_invalid_utf8. needs_rehash() answers 0 or 1 on any string.
 * (pc_password_verify() is not fuzzed: a hash string that parses makes
 * libargon2 run with its parameters, and hashes only come from our own
 * database.)
 */
#include <ctype.h>

#include "password.h"
#include "fuzz_util.h"

static int
contains_ci(const char *hay, size_t hlen, const char *needle)
{
	size_t	nlen = strlen(needle), i, k;

	for (i = 0; i + nlen <= hlen; i++) {
		for (k = 0; k < nlen; k++) {
			if (tolower((unsigned char)hay[i + k]) !=
			    tolower((unsigned char)needle[k]))
				break;
		}
		if (k == nlen)
			return (1);
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pc_argon2_params	prm = { 3, 65536, 1 };
	enum pc_password_verdict		v;
	const char				*code;
	char					*user, *pw, *enc;
	size_t					ulen, plen, i, n, cps;
	uint32_t				cp;
	int					letter, digit, valid, r;

	if (size < 1)
		return (0);
	ulen = data[0] % 24;
	if (ulen > size - 1)
		ulen = size - 1;
	user = fz_cstr(data + 1, ulen);
	plen = size - 1 - ulen;
	pw = (char *)fz_dup(data + 1 + ulen, plen);

	v = pc_password_check(pw, plen, user);
	FZ_CHECK(v >= PC_PASSWORD_OK && v <= PC_PASSWORD_INVALID_UTF8);
	code = pc_password_verdict_code(v);
	FZ_CHECK(code != NULL && code[0] != '\0');

	valid = fz_utf8_valid(pw, plen) && memchr(pw, '\0', plen) == NULL;
	if (!valid)
		FZ_CHECK(v == PC_PASSWORD_INVALID_UTF8);
	if (v == PC_PASSWORD_OK) {
		FZ_CHECK(valid);
		letter = digit = 0;
		for (i = 0, cps = 0; i < plen; i += n, cps++) {
			n = fz_utf8((const unsigned char *)pw + i, plen - i,
			    &cp);
			letter |= cp >= 0x80 || isalpha((int)cp);
			digit |= cp < 0x80 && isdigit((int)cp);
		}
		FZ_CHECK(cps >= PC_PASSWORD_MIN && cps <= PC_PASSWORD_MAX);
		FZ_CHECK(letter && digit);
		if (strlen(user) >= 3)
			FZ_CHECK(!contains_ci(pw, plen, user));
		FZ_CHECK(strcmp(code, "ok") == 0);
	}

	enc = fz_cstr(data, size);
	r = pc_password_needs_rehash(enc, &prm);
	FZ_CHECK(r == 0 || r == 1);
	FZ_CHECK(pc_password_needs_rehash(enc, NULL) == 1);

	free(enc);
	free(pw);
	free(user);
	return (0);
}
