/*
 * fuzz_cookie.c: pc_cookie_session() on arbitrary Cookie headers.
 *
 * Properties: a header it accepts names the session cookie and carries
 * the token it returns, base64url-encoded; adding a second session
 * cookie to an accepted header makes it refused (a second one can only
 * have been planted); the Set-Cookie text pc_cookie_format() writes for
 * a token reads back as that token.
 */
#include "token.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		tok[PC_TOKEN_LEN], tok2[PC_TOKEN_LEN];
	char		enc[PC_TOKEN_B64_LEN + 1], set[256];
	char		*h, *h2;
	size_t		n;

	h = fz_cstr(data, size);
	memset(tok, 0xa5, sizeof(tok));
	if (pc_cookie_session(h, tok) == 0) {
		pc_token_encode(tok, enc);
		FZ_CHECK(strstr(h, PC_TOKEN_COOKIE "=") != NULL);
		FZ_CHECK(strstr(h, enc) != NULL);

		n = strlen(h) + sizeof(PC_TOKEN_COOKIE) + sizeof(enc) + 4;
		if ((h2 = malloc(n)) == NULL)
			abort();
		(void)snprintf(h2, n, "%s; %s=%s", h, PC_TOKEN_COOKIE, enc);
		FZ_CHECK(pc_cookie_session(h2, tok2) == -1);
		free(h2);
	}

	/* Any 32 bytes of the input as a token: format, then read back. */
	if (size >= PC_TOKEN_LEN) {
		FZ_CHECK(pc_cookie_format(data, 3600, set, sizeof(set)) == 0);
		FZ_CHECK(pc_cookie_session(set, tok2) == 0);
		FZ_CHECK(memcmp(tok2, data, PC_TOKEN_LEN) == 0);
	}

	free(h);
	return (0);
}
