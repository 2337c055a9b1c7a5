/*
 * test_totp.c: unit tests for src/totp.c (cmocka).
 *
 * Expected codes are literals: the RFC 6238 appendix B vectors, and
 * values printed by the independent oathtool(1) while writing this file
 * (oathtool --totp -N @<t> -d <digits> <hex secret>).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "totp.h"

/* RFC 6238 appendix B, SHA1 seed: ASCII "12345678901234567890". */
static const uint8_t	rfc_secret[] = "12345678901234567890";
#define RFC_SECRET_LEN	20

/* 8f2d4c1e9b07a35516e2c4d8f90a1b3c7e6d5f42 */
static const uint8_t	oat_secret[20] = {
	0x8f, 0x2d, 0x4c, 0x1e, 0x9b, 0x07, 0xa3, 0x55, 0x16, 0xe2,
	0xc4, 0xd8, 0xf9, 0x0a, 0x1b, 0x3c, 0x7e, 0x6d, 0x5f, 0x42
};

struct gen_case {
	const uint8_t	*secret;
	int64_t		 t;
	unsigned	 digits;
	const char	*code;
};

static const struct gen_case	gen_cases[] = {
	/* RFC 6238 appendix B (SHA1, 8 digits). */
	{ rfc_secret, 59LL, 8, "94287082" },
	{ rfc_secret, 1111111109LL, 8, "07081804" },
	{ rfc_secret, 1111111111LL, 8, "14050471" },
	{ rfc_secret, 1234567890LL, 8, "89005924" },
	{ rfc_secret, 2000000000LL, 8, "69279037" },
	{ rfc_secret, 20000000000LL, 8, "65353130" },
	/* Same HOTP value truncated to 6 digits. */
	{ rfc_secret, 59LL, 6, "287082" },
	/* oathtool --totp -N @<t> -d 6 <oat_secret in hex> */
	{ oat_secret, 1234567890LL, 6, "392109" },
	{ oat_secret, 1795392000LL, 6, "517620" },
	{ oat_secret, 20000000000LL, 6, "358383" },
};

static int
setup_group(void **state)
{
	(void)state;
	return (pc_totp_init());
}

static void
test_init_twice(void **state)
{
	(void)state;
	assert_int_equal(pc_totp_init(), 0);
	assert_int_equal(pc_totp_init(), 0);
}

static void
test_generate_vectors(void **state)
{
	char	out[16];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(pc_totp_generate(gen_cases[i].secret, 20,
		    gen_cases[i].t, gen_cases[i].digits, out, sizeof(out)), 0);
		assert_string_equal(out, gen_cases[i].code);
	}
}

static void
test_generate_bad_args(void **state)
{
	char	out[16];

	(void)state;
	/* Exactly digits + 1 fits; one less does not. */
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 6,
	    out, 7), 0);
	assert_string_equal(out, "287082");
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 6,
	    out, 6), -1);
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 5,
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 9,
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, -1, 6,
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_generate(NULL, RFC_SECRET_LEN, 59, 6,
	    out, sizeof(out)), -1);
	/* Under 128 bits of secret is refused. */
	assert_int_equal(pc_totp_generate(rfc_secret, 15, 59, 6,
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 6,
	    NULL, sizeof(out)), -1);
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 59, 6,
	    out, 0), -1);
}

/* Code 89005924 -> "005924" belongs to step 41152263 (t = 1234567890). */
struct window_case {
	int64_t		now_delta;
	int		ok;
};

static const struct window_case	window_cases[] = {
	{ -61, 0 },
	{ -60, 0 },
	{ -31, 0 },
	{ -30, 1 },
	{ -1, 1 },
	{ 0, 1 },
	{ 29, 1 },
	{ 30, 1 },
	{ 59, 1 },
	{ 60, 0 },
	{ 89, 0 },
	{ 90, 0 },
};

static void
test_verify_window(void **state)
{
	const int64_t	t0 = 1234567890LL;
	int64_t		step;
	size_t		i;
	int		rc;

	(void)state;
	for (i = 0; i < sizeof(window_cases) / sizeof(window_cases[0]); i++) {
		step = -5;
		rc = pc_totp_verify(rfc_secret, RFC_SECRET_LEN,
		    t0 + window_cases[i].now_delta, "005924", 6, &step);
		if (window_cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(step, 41152263LL);
		} else {
			assert_int_equal(rc, -1);
		}
	}
}

/*
 * Steps 57766335 and 57766336 both give 251166 for the RFC secret
 * (found by search, confirmed with oathtool at @1732990050 and
 * @1732990080): the later step must be reported.
 */
struct latest_case {
	int64_t		now;
	int64_t		step;
};

static const struct latest_case	latest_cases[] = {
	{ 1732990020LL, 57766335LL },	/* window 334..336 */
	{ 1732990050LL, 57766336LL },	/* window 334..336, both match */
	{ 1732990080LL, 57766336LL },	/* window 335..337, both match */
	{ 1732990110LL, 57766336LL },	/* window 336..338 */
};

static void
test_verify_prefers_latest(void **state)
{
	int64_t		step;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(latest_cases) / sizeof(latest_cases[0]); i++) {
		step = 0;
		assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN,
		    latest_cases[i].now, "251166", 6, &step), 0);
		assert_int_equal(step, latest_cases[i].step);
	}
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN,
	    1732990140LL, "251166", 6, &step), -1);
}

static void
test_verify_large_time(void **state)
{
	int64_t		step;

	(void)state;
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret),
	    20000000000LL, "358383", 6, &step), 0);
	assert_int_equal(step, 20000000000LL / 30);
	assert_int_equal(step, 666666666LL);
	/* That step starts at 19999999980: the window is [..950, ..040). */
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret),
	    20000000039LL, "358383", 6, &step), 0);
	assert_int_equal(step, 666666666LL);
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret),
	    19999999950LL, "358383", 6, &step), 0);
	assert_int_equal(step, 666666666LL);
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret),
	    20000000040LL, "358383", 6, &step), -1);
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret),
	    19999999949LL, "358383", 6, &step), -1);
}

/* First steps of the epoch: step -1 does not exist, 0 and 1 still do. */
static void
test_verify_epoch(void **state)
{
	char		code[8];
	int64_t		step;

	(void)state;
	assert_int_equal(pc_totp_generate(rfc_secret, RFC_SECRET_LEN, 0, 6,
	    code, sizeof(code)), 0);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, 0,
	    code, 6, &step), 0);
	assert_int_equal(step, 0);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, 59,
	    "287082", 6, &step), 0);
	assert_int_equal(step, 1);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, -1,
	    code, 6, &step), -1);
}

struct bad_code {
	const char	*code;
	size_t		 len;
};

static const struct bad_code	bad_codes[] = {
	{ "28708", 5 },
	{ "2870822", 7 },
	{ "28708a", 6 },
	{ " 287082", 7 },
	{ "287082 ", 7 },
	{ "287082\0", 7 },
	{ "28708\0", 6 },
	{ "2870\0" "8", 6 },
	{ "+87082", 6 },
	{ "-87082", 6 },
	{ "\xef\xbc\x92" "87082", 8 },	/* fullwidth 2 */
	{ "", 0 },
	{ "287082", 5 },
};

static void
test_verify_malformed(void **state)
{
	int64_t		step;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
		step = 7;
		assert_int_equal(pc_totp_code_wellformed(bad_codes[i].code,
		    bad_codes[i].len, 6), 0);
		assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, 59,
		    bad_codes[i].code, bad_codes[i].len, &step), -1);
		assert_int_equal(step, 0);
	}
	assert_int_equal(pc_totp_code_wellformed("287082", 6, 6), 1);
	assert_int_equal(pc_totp_code_wellformed("94287082", 8, 8), 1);
	assert_int_equal(pc_totp_code_wellformed("94287082", 8, 6), 0);
	assert_int_equal(pc_totp_code_wellformed(NULL, 6, 6), 0);
	assert_int_equal(pc_totp_code_wellformed("", 0, 0), 0);
}

static void
test_verify_rejects(void **state)
{
	int64_t		step;

	(void)state;
	/* Well formed but wrong. */
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, 59,
	    "287083", 6, &step), -1);
	/* Right code, other secret. */
	assert_int_equal(pc_totp_verify(oat_secret, sizeof(oat_secret), 59,
	    "287082", 6, &step), -1);
	assert_int_equal(pc_totp_verify(NULL, RFC_SECRET_LEN, 59,
	    "287082", 6, &step), -1);
	assert_int_equal(pc_totp_verify(rfc_secret, 10, 59,
	    "287082", 6, &step), -1);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, 59,
	    "287082", 6, NULL), -1);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, INT64_MAX,
	    "287082", 6, &step), -1);
	assert_int_equal(pc_totp_verify(rfc_secret, RFC_SECRET_LEN, INT64_MIN,
	    "287082", 6, &step), -1);
}

struct b32_case {
	const char	*in;
	const char	*out;
};

static const struct b32_case	b32_cases[] = {
	/* RFC 4648 section 10, padding removed. */
	{ "", "" },
	{ "f", "MY" },
	{ "fo", "MZXQ" },
	{ "foo", "MZXW6" },
	{ "foob", "MZXW6YQ" },
	{ "fooba", "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI" },
	/* RFC 6238 seed, as authenticator apps are given it. */
	{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
};

static void
test_base32(void **state)
{
	char	out[64];
	size_t	i, n;

	(void)state;
	for (i = 0; i < sizeof(b32_cases) / sizeof(b32_cases[0]); i++) {
		n = strlen(b32_cases[i].in);
		assert_int_equal(pc_totp_base32((const uint8_t *)
		    b32_cases[i].in, n, out, sizeof(out)), 0);
		assert_string_equal(out, b32_cases[i].out);
		/* Exact fit works, one byte less does not. */
		assert_int_equal(pc_totp_base32((const uint8_t *)
		    b32_cases[i].in, n, out, strlen(b32_cases[i].out) + 1), 0);
		assert_string_equal(out, b32_cases[i].out);
		assert_int_equal(pc_totp_base32((const uint8_t *)
		    b32_cases[i].in, n, out, strlen(b32_cases[i].out)), -1);
	}

	/* python3 base64.b32encode of the oathtool secret. */
	assert_int_equal(pc_totp_base32(oat_secret, sizeof(oat_secret),
	    out, sizeof(out)), 0);
	assert_string_equal(out, "R4WUYHU3A6RVKFXCYTMPSCQ3HR7G2X2C");

	assert_int_equal(pc_totp_base32(NULL, 1, out, sizeof(out)), -1);
	assert_int_equal(pc_totp_base32(oat_secret, 1, NULL, 8), -1);
	assert_int_equal(pc_totp_base32(oat_secret, SIZE_MAX, out,
	    sizeof(out)), -1);
}

struct uri_case {
	const char	*user;
	const char	*label;
};

static const struct uri_case	uri_cases[] = {
	{ "a b@c", "payconsole:a%20b%40c" },
	{ "alice", "payconsole:alice" },
	{ "A-z.0_9~", "payconsole:A-z.0_9~" },
	{ "x:y/z?q&r#s", "payconsole:x%3Ay%2Fz%3Fq%26r%23s" },
	{ "%+=", "payconsole:%25%2B%3D" },
	{ "h\xc3\xa9", "payconsole:h%C3%A9" },
};

static void
test_uri(void **state)
{
	char	out[512], expect[512];
	size_t	i, need;

	(void)state;
	for (i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++) {
		snprintf(expect, sizeof(expect), "otpauth://totp/%s?secret="
		    "R4WUYHU3A6RVKFXCYTMPSCQ3HR7G2X2C&issuer=payconsole&"
		    "algorithm=SHA1&digits=6&period=30", uri_cases[i].label);
		assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret),
		    uri_cases[i].user, out, sizeof(out)), 0);
		assert_string_equal(out, expect);

		need = strlen(expect) + 1;
		assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret),
		    uri_cases[i].user, out, need), 0);
		assert_string_equal(out, expect);
		/* One byte short: refused, and nothing of the secret left. */
		memset(out, 'x', sizeof(out));
		assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret),
		    uri_cases[i].user, out, need - 1), -1);
		assert_string_equal(out, "");
		assert_null(memmem(out, need - 1, "R4WU", 4));
	}

	assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret), "",
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret), NULL,
	    out, sizeof(out)), -1);
	assert_int_equal(pc_totp_uri(NULL, 20, "a", out, sizeof(out)), -1);
	assert_int_equal(pc_totp_uri(oat_secret, sizeof(oat_secret), "a",
	    out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_init_twice),
		cmocka_unit_test(test_generate_vectors),
		cmocka_unit_test(test_generate_bad_args),
		cmocka_unit_test(test_verify_window),
		cmocka_unit_test(test_verify_prefers_latest),
		cmocka_unit_test(test_verify_large_time),
		cmocka_unit_test(test_verify_epoch),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_verify_rejects),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_uri),
	};

	return (cmocka_run_group_tests(tests, setup_group, NULL));
}
