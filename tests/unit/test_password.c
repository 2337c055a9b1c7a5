/*
 * test_password.c: argon2id hashing and the password policy.
 *
 * Unit tests use t=1, m=8192: production parameters would take seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "password.h"
#include "wipe.h"

static const struct pc_argon2_params	small = { 1, 8192, 1 };

/*
 * Made with the argon2 CLI (Debian package argon2), independently of
 * libargon2's encoder as called by pc_password_hash:
 *   echo -n 'correct horse 12' | argon2 somesaltsomesalt -id -t 1 -k 8192 -p 1 -e
 */
#define KAT_PW		"correct horse 12"
#define KAT_ENCODED	"$argon2id$v=19$m=8192,t=1,p=1$" \
			"c29tZXNhbHRzb21lc2FsdA$" \
			"qvxk7+Y5apRKBaNnmWC0Ju5DKVdu5zn2j5ElIFBMcNU"
#define SALT_B64	"c29tZXNhbHRzb21lc2FsdA"
#define HASH_B64	"qvxk7+Y5apRKBaNnmWC0Ju5DKVdu5zn2j5ElIFBMcNU"

static void
test_known_answer(void **state)
{
	(void)state;
	assert_int_equal(pc_password_verify(KAT_ENCODED, KAT_PW,
	    strlen(KAT_PW)), 1);
	assert_int_equal(pc_password_verify(KAT_ENCODED, "correct horse 13",
	    16), 0);
	/* The length given is what counts, not a NUL. */
	assert_int_equal(pc_password_verify(KAT_ENCODED, KAT_PW,
	    strlen(KAT_PW) - 1), 0);
	assert_int_equal(pc_password_needs_rehash(KAT_ENCODED, &small), 0);
}

static void
test_round_trip(void **state)
{
	char		h1[PC_PASSWORD_HASH_MAX], h2[PC_PASSWORD_HASH_MAX];
	const char	*pw = "tr0ub4dor&3 horse";
	struct pc_argon2_params	more = { 2, 8192, 1 };

	(void)state;
	assert_int_equal(pc_password_hash(&small, pw, strlen(pw), h1,
	    sizeof(h1)), 0);
	assert_int_equal(pc_password_hash(&small, pw, strlen(pw), h2,
	    sizeof(h2)), 0);
	assert_true(strncmp(h1, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
	/* Fresh salt each time. */
	assert_string_not_equal(h1, h2);

	assert_int_equal(pc_password_verify(h1, pw, strlen(pw)), 1);
	assert_int_equal(pc_password_verify(h2, pw, strlen(pw)), 1);
	assert_int_equal(pc_password_verify(h1, "tr0ub4dor&3 horsE",
	    strlen(pw)), 0);
	assert_int_equal(pc_password_verify(h1, "", 0), 0);

	assert_int_equal(pc_password_needs_rehash(h1, &small), 0);
	assert_int_equal(pc_password_needs_rehash(h1, &more), 1);

	/* Binary passwords with NUL bytes hash by length. */
	assert_int_equal(pc_password_hash(&small, "a\0b", 3, h1,
	    sizeof(h1)), 0);
	assert_int_equal(pc_password_verify(h1, "a\0b", 3), 1);
	assert_int_equal(pc_password_verify(h1, "a\0c", 3), 0);
	assert_int_equal(pc_password_verify(h1, "a", 1), 0);
}

static void
test_hash_errors(void **state)
{
	char	h[PC_PASSWORD_HASH_MAX];
	struct pc_argon2_params	bad_t = { 0, 8192, 1 };
	struct pc_argon2_params	bad_m = { 1, 1, 1 };

	(void)state;
	/* Too small an output buffer. */
	assert_int_equal(pc_password_hash(&small, "x", 1, h, 40), -1);
	assert_int_equal(h[0], '\0');
	assert_int_equal(pc_password_hash(&bad_t, "x", 1, h, sizeof(h)), -1);
	assert_int_equal(pc_password_hash(&bad_m, "x", 1, h, sizeof(h)), -1);
	assert_int_equal(pc_password_hash(NULL, "x", 1, h, sizeof(h)), -1);
	assert_int_equal(pc_password_hash(&small, NULL, 1, h, sizeof(h)), -1);
	assert_int_equal(pc_password_hash(&small, "x", 1, NULL, 0), -1);
}

static void
test_verify_malformed(void **state)
{
	static const char	*bad[] = {
		"",
		"garbage",
		"$argon2id$",
		/* other variants are not ours */
		"$argon2i$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2d$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2id$v=16$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2id$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		/* field order, leading zeros, junk */
		"$argon2id$v=19$t=1,m=8192,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2id$v=19$m=08192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64 " ",
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64 "=",
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$",
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64,
		"$argon2id$v=19$m=8192,t=1,p=1$$" HASH_B64,
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64 "$x",
		"$argon2id$v=19$m=99999999999,t=1,p=1$" SALT_B64 "$" HASH_B64,
		"$argon2id$v=19$m=8192,t=0,p=1$" SALT_B64 "$" HASH_B64,
		" $argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64,
		/* a b64 length that cannot be (4n+1) */
		"$argon2id$v=19$m=8192,t=1,p=1$" SALT_B64 "$" HASH_B64 "AA",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pc_password_verify(bad[i], KAT_PW, strlen(KAT_PW)) != -1)
			fail_msg("verify accepted malformed #%zu: %s", i,
			    bad[i]);
	}
	assert_int_equal(pc_password_verify(NULL, KAT_PW, strlen(KAT_PW)),
	    -1);
	assert_int_equal(pc_password_verify(KAT_ENCODED, NULL, 3), -1);
}

static void
test_needs_rehash(void **state)
{
	static const struct pc_argon2_params	prod = { 3, 65536, 4 };
	static const struct {
		const char	*enc;
		int		 want;
	} cases[] = {
		{ "$argon2id$v=19$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64, 0 },
		{ "$argon2id$v=19$m=131072,t=3,p=4$" SALT_B64 "$" HASH_B64, 0 },
		{ "$argon2id$v=19$m=65536,t=4,p=4$" SALT_B64 "$" HASH_B64, 0 },
		{ "$argon2id$v=19$m=65536,t=3,p=8$" SALT_B64 "$" HASH_B64, 0 },
		{ "$argon2id$v=19$m=65535,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=65536,t=2,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=65536,t=3,p=1$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=8192,t=9,p=9$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2i$v=19$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2d$v=19$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=16$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=065536,t=3,p=4$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=65536,t=3,p=4,x=1$" SALT_B64 "$" HASH_B64,
		    1 },
		{ "$argon2id$v=19$m=65536,t=3$" SALT_B64 "$" HASH_B64, 1 },
		{ "$argon2id$v=19$m=65536,t=3,p=4$" SALT_B64 "$" HASH_B64 "!",
		    1 },
		/* 8-byte salt, 16-byte hash: weaker than what we write */
		{ "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$" SALT_B64, 1 },
		{ "$argon2id$v=19$m=65536,t=3,p=4$" SALT_B64 "$" SALT_B64, 1 },
		{ "$argon2id$v=19$m=4294967295,t=3,p=4$" SALT_B64 "$"
		    HASH_B64, 0 },
		{ "$argon2id$v=19$m=4294967296,t=3,p=4$" SALT_B64 "$"
		    HASH_B64, 1 },
		{ "", 1 },
		{ "plaintext", 1 },
		{ "$2b$12$abcdefghijklmnopqrstuv", 1 },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pc_password_needs_rehash(cases[i].enc, &prod) !=
		    cases[i].want)
			fail_msg("needs_rehash #%zu (%s): want %d", i,
			    cases[i].enc, cases[i].want);
	}
	assert_int_equal(pc_password_needs_rehash(NULL, &prod), 1);
	assert_int_equal(pc_password_needs_rehash(KAT_ENCODED, NULL), 1);
}

static void
test_dummy_hash(void **state)
{
	struct pc_argon2_params	other = { 2, 8192, 1 };
	const char		*d1, *d2, *d3;

	(void)state;
	d1 = pc_password_dummy_hash(&small);
	assert_non_null(d1);
	d2 = pc_password_dummy_hash(&small);
	assert_ptr_equal(d1, d2);
	assert_true(strncmp(d1, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
	assert_int_equal(pc_password_needs_rehash(d1, &small), 0);
	/* Verifies (costs the work) and never matches. */
	assert_int_equal(pc_password_verify(d1, "", 0), 0);
	assert_int_equal(pc_password_verify(d1, KAT_PW, strlen(KAT_PW)), 0);

	d3 = pc_password_dummy_hash(&other);
	assert_non_null(d3);
	assert_ptr_not_equal(d1, d3);
	assert_true(strncmp(d3, "$argon2id$v=19$m=8192,t=2,p=1$", 30) == 0);
	assert_ptr_equal(pc_password_dummy_hash(&small), d1);
	assert_null(pc_password_dummy_hash(NULL));
}

/* n copies of s, then tail; into a static buffer. */
static const char *
rep(const char *s, size_t n, const char *tail)
{
	static char	buf[1024];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(buf, s);
	strcat(buf, tail);
	return (buf);
}

struct check_case {
	const char			*pw;
	size_t				 len;	/* 0: strlen */
	const char			*user;
	enum pc_password_verdict	 want;
};

static void
run_check(const struct check_case *c, size_t i)
{
	enum pc_password_verdict	got;
	size_t				len;

	len = c->len ? c->len : strlen(c->pw);
	got = pc_password_check(c->pw, len, c->user);
	if (got != c->want)
		fail_msg("check #%zu \"%s\": got %s, want %s", i, c->pw,
		    pc_password_verdict_code(got),
		    pc_password_verdict_code(c->want));
}

static void
test_check_table(void **state)
{
	static const struct check_case	cases[] = {
		{ "", 0, NULL, PC_PASSWORD_TOO_SHORT },
		{ "abcdefghij1", 0, NULL, PC_PASSWORD_TOO_SHORT },
		{ "abcdefghijk1", 0, NULL, PC_PASSWORD_OK },
		{ "Blue-kettle-7", 0, "alice", PC_PASSWORD_OK },
		{ "correct horse 12", 0, NULL, PC_PASSWORD_OK },
		{ "123456789012", 0, NULL, PC_PASSWORD_NEEDS_LETTER },
		{ "!!!!!!!!!!!1", 0, NULL, PC_PASSWORD_NEEDS_LETTER },
		{ "abcdefghijklmn", 0, NULL, PC_PASSWORD_NEEDS_DIGIT },
		{ "Blue kettle steam", 0, NULL, PC_PASSWORD_NEEDS_DIGIT },
		/* Japanese: counted in code points, any non-ASCII is a letter */
		{ "日本語のパスワード1", 0, NULL, PC_PASSWORD_TOO_SHORT },
		{ "日本語のパスワード12", 0, NULL, PC_PASSWORD_TOO_SHORT },
		{ "日本語のパスワード123", 0, NULL, PC_PASSWORD_OK },
		{ "日本語のパスワードです12", 0, NULL, PC_PASSWORD_OK },
		{ "日本語のパスワードですよね", 0, NULL,
		    PC_PASSWORD_NEEDS_DIGIT },
		{ "１２３日本語のパスワード", 0, NULL,
		    PC_PASSWORD_NEEDS_DIGIT },	/* fullwidth digits are not */
		{ "Ünïcödé-wörd-9", 0, NULL, PC_PASSWORD_OK },
		{ "\xf0\x9f\x94\x91\xf0\x9f\x94\x91""123456789", 0, NULL,
		    PC_PASSWORD_TOO_SHORT },
		{ "\xf0\x9f\x94\x91\xf0\x9f\x94\x91""1234567890", 0, NULL,
		    PC_PASSWORD_OK },
		{ "\xf4\x8f\xbf\xbf""abcdefghij1", 0, NULL, PC_PASSWORD_OK },
		/* invalid UTF-8 */
		{ "abcdefghijk1\xff", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "\xff", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\x80", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xc0\xaf", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xc1\xbf", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xe0\x80\xaf", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xf0\x80\x80\xaf", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xed\xa0\x80", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },	/* U+D800 */
		{ "abcdefghijk1\xed\xbf\xbf", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },	/* U+DFFF */
		{ "abcdefghijk1\xf4\x90\x80\x80", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },	/* U+110000 */
		{ "abcdefghijk1\xf5\x80\x80\x80", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xe6\x97", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xe6\x97x", 0, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\xf0\x9f\x94", 0, NULL,
		    PC_PASSWORD_INVALID_UTF8 },
		{ "abcdefghijk1\0", 13, NULL, PC_PASSWORD_INVALID_UTF8 },
		{ "abc\0defghijk1", 13, NULL, PC_PASSWORD_INVALID_UTF8 },
		/* common passwords, also padded with digits and punctuation */
		{ "password1234", 0, NULL, PC_PASSWORD_COMMON },
		{ "Password123456", 0, NULL, PC_PASSWORD_COMMON },
		{ "PASSWORD123456", 0, NULL, PC_PASSWORD_COMMON },
		{ "qwertyuiop2024!", 0, NULL, PC_PASSWORD_COMMON },
		{ "2024qwertyuiop", 0, NULL, PC_PASSWORD_COMMON },
		{ "1q2w3e4r5t6y", 0, NULL, PC_PASSWORD_COMMON },
		{ "Administrator1", 0, NULL, PC_PASSWORD_COMMON },
		{ "letmein12345", 0, NULL, PC_PASSWORD_COMMON },
		{ "iloveyou1234", 0, NULL, PC_PASSWORD_COMMON },
		{ "PayConsole2024", 0, NULL, PC_PASSWORD_COMMON },
		{ "Monkey123456!", 0, NULL, PC_PASSWORD_COMMON },
		{ "!!Sunshine2020", 0, NULL, PC_PASSWORD_COMMON },
		{ "Football!!2023", 0, NULL, PC_PASSWORD_COMMON },
		{ "football2023xy", 0, NULL, PC_PASSWORD_OK },
		/* username, case-insensitive, only from 3 bytes on */
		{ "myAlicePass12", 0, "alice", PC_PASSWORD_CONTAINS_USERNAME },
		{ "ALICE-rocks-99", 0, "Alice", PC_PASSWORD_CONTAINS_USERNAME },
		{ "rocks-99-alice", 0, "alice", PC_PASSWORD_CONTAINS_USERNAME },
		{ "rocks-99-alic3", 0, "alice", PC_PASSWORD_OK },
		{ "bobcat-winter9", 0, "bo", PC_PASSWORD_OK },
		{ "bobcat-winter9", 0, "bob", PC_PASSWORD_CONTAINS_USERNAME },
		{ "bobcat-winter9", 0, "", PC_PASSWORD_OK },
		{ "bobcat-winter9", 0, NULL, PC_PASSWORD_OK },
		{ "short1", 0, "a-very-long-user-name", PC_PASSWORD_TOO_SHORT },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_check(&cases[i], i);
	assert_int_equal(pc_password_check(NULL, 0, NULL),
	    PC_PASSWORD_TOO_SHORT);
	assert_int_equal(pc_password_check(NULL, 5, NULL),
	    PC_PASSWORD_INVALID_UTF8);
}

static void
test_check_lengths(void **state)
{
	const char	*pw;

	(void)state;
	/* ASCII: 12 and 128 pass, 11 and 129 do not. */
	pw = rep("ab", 5, "1x");
	assert_int_equal(strlen(pw), 12);
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_OK);
	pw = rep("ab", 5, "1");
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_TOO_SHORT);
	pw = rep("xk", 63, "19");
	assert_int_equal(strlen(pw), 128);
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_OK);
	pw = rep("xk", 63, "190");
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_TOO_LONG);

	/* Three-byte code points: 12 and 128 pass, 11 and 129 do not. */
	pw = rep("あ", 11, "1");
	assert_int_equal(strlen(pw), 34);
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_OK);
	pw = rep("あ", 10, "1");
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_TOO_SHORT);
	pw = rep("あ", 127, "1");
	assert_int_equal(strlen(pw), 382);
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_OK);
	pw = rep("あ", 128, "1");
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_TOO_LONG);

	/* Four-byte code points: 128 of them is 512 bytes. */
	pw = rep("\xf0\x9f\x94\x91", 127, "1");
	assert_int_equal(strlen(pw), 509);
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_OK);
	pw = rep("\xf0\x9f\x94\x91", 128, "1");
	assert_int_equal(pc_password_check(pw, strlen(pw), NULL),
	    PC_PASSWORD_TOO_LONG);
}

static void
test_verdict_codes(void **state)
{
	(void)state;
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_OK), "ok");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_TOO_SHORT),
	    "password_too_short");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_TOO_LONG),
	    "password_too_long");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_NEEDS_LETTER),
	    "password_needs_letter");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_NEEDS_DIGIT),
	    "password_needs_digit");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_COMMON),
	    "password_common");
	assert_string_equal(
	    pc_password_verdict_code(PC_PASSWORD_CONTAINS_USERNAME),
	    "password_contains_username");
	assert_string_equal(pc_password_verdict_code(PC_PASSWORD_INVALID_UTF8),
	    "password_invalid_utf8");
	assert_string_not_equal(
	    pc_password_verdict_code((enum pc_password_verdict)99), "ok");
}

static void
test_wipe(void **state)
{
	unsigned char	buf[32];
	size_t		i;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	pc_wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	pc_wipe(NULL, 10);
	pc_wipe(buf, 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hash_errors),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_dummy_hash),
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_check_lengths),
		cmocka_unit_test(test_verdict_codes),
		cmocka_unit_test(test_wipe),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
