/*
 * fuzz_totp.c: TOTP code syntax and verification with a fixed secret.
 *
 * Input: 8 bytes of clock (host order), 1 byte of digit count for the
 * syntax check, then the code as typed.
 *
 * Properties: a well-formed code is exactly `digits` ASCII digits with
 * digits 6..8; pc_totp_verify() accepts only a well-formed 6-digit code
 * that pc_totp_generate() makes for the step it returns, which is
 * within one step of the clock; and the code generated for the clock
 * always verifies, at that step or the next.
 */
#include "totp.h"
#include "fuzz_util.h"

/* RFC 6238's SHA1 test secret. */
static const uint8_t	secret[20] = "12345678901234567890";

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pc_totp_init() != 0)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*code, gen[16];
	int64_t		now, step, base;
	unsigned int	digits;
	size_t		clen, i;
	int		wf, rc;

	if (size < 9)
		return (0);
	memcpy(&now, data, sizeof(now));
	digits = data[8] % 12;
	clen = size - 9;
	code = (char *)fz_dup(data + 9, clen);

	wf = pc_totp_code_wellformed(code, clen, digits);
	FZ_CHECK(wf == 0 || wf == 1);
	if (wf) {
		FZ_CHECK(digits >= 6 && digits <= 8 && clen == digits);
		for (i = 0; i < clen; i++)
			FZ_CHECK(code[i] >= '0' && code[i] <= '9');
	}

	step = 12345;
	rc = pc_totp_verify(secret, sizeof(secret), now, code, clen, &step);
	if (rc == 0) {
		FZ_CHECK(pc_totp_code_wellformed(code, clen, 6));
		FZ_CHECK(now >= 0);
		base = now / 30;
		FZ_CHECK(step >= base - 1 && step <= base + 1 && step >= 0);
		FZ_CHECK(pc_totp_generate(secret, sizeof(secret), step * 30, 6,
		    gen, sizeof(gen)) == 0);
		FZ_CHECK(memcmp(gen, code, 6) == 0);
	} else {
		FZ_CHECK(rc == -1 && step == 0);
	}

	if (pc_totp_generate(secret, sizeof(secret), now, 6, gen,
	    sizeof(gen)) == 0) {
		FZ_CHECK(strlen(gen) == 6);
		FZ_CHECK(pc_totp_verify(secret, sizeof(secret), now, gen, 6,
		    &step) == 0);
		FZ_CHECK(step == now / 30 || step == now / 30 + 1);
	}

	free(code);
	return (0);
}
