/*
 * fuzz_token.c: pc_token_decode() and the CSRF check on arbitrary bytes.
 *
 * Properties: only canonical 43-character base64url decodes (encoding
 * the result gives the input back: one text per token); any 32 bytes
 * encode and decode back; pc_token_csrf_ok() accepts exactly the CSRF
 * token of the session and nothing else.
 */
#include "token.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		tok[PC_TOKEN_LEN], sess[PC_TOKEN_LEN];
	char		enc[PC_TOKEN_B64_LEN + 1], csrf[PC_TOKEN_B64_LEN + 1];
	char		*s;
	int		ok;

	s = (char *)fz_dup(data, size);
	if (pc_token_decode(s, size, tok) == 0) {
		FZ_CHECK(size == PC_TOKEN_B64_LEN);
		pc_token_encode(tok, enc);
		FZ_CHECK(memcmp(enc, s, size) == 0);
	}

	memset(sess, 0x42, sizeof(sess));
	pc_token_csrf(sess, csrf);
	ok = pc_token_csrf_ok(sess, s, size);
	FZ_CHECK(ok == (size == PC_TOKEN_B64_LEN &&
	    memcmp(s, csrf, PC_TOKEN_B64_LEN) == 0));

	if (size >= PC_TOKEN_LEN) {
		pc_token_encode(data, enc);
		FZ_CHECK(strlen(enc) == PC_TOKEN_B64_LEN);
		FZ_CHECK(pc_token_decode(enc, PC_TOKEN_B64_LEN, tok) == 0);
		FZ_CHECK(memcmp(tok, data, PC_TOKEN_LEN) == 0);
	}

	free(s);
	return (0);
}
