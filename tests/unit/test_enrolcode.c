/*
 * test_enrolcode.c: unit tests for src/enrolcode.c, src/bytea.c and
 * src/dberr.c (cmocka).
 *
 * Expected texts were printed by python3 while writing this file, never
 * by the code under test: base64.b32encode(half).rstrip(b'='), grouped
 * by four.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/rand.h>

#include "bytea.h"
#include "dberr.h"
#include "enrolcode.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*hex;
	const char	*text;
} known[] = {
	{ "00000000000000000000000000000000",
	    "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AA" },
	{ "000102030405060708090a0b0c0d0e0f",
	    "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4" },
	{ "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0",
	    "777P-37H3-7L47-R57W-6X2P-H4XR-6A" },
};

static void
from_hex(const char *hex, uint8_t *out)
{
	size_t		i;
	unsigned int	v;

	for (i = 0; i < strlen(hex) / 2; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
test_format_known(void **state)
{
	uint8_t	code[PC_ENROLCODE_LEN], back[PC_ENROLCODE_LEN];
	char	text[PC_ENROLCODE_TEXT];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(known); i++) {
		from_hex(known[i].hex, code);
		memset(text, 'x', sizeof(text));
		pc_enrolcode_format(code, text);
		assert_string_equal(text, known[i].text);
		assert_int_equal(strlen(text), PC_ENROLCODE_TEXT - 1);
		assert_int_equal(pc_enrolcode_parse(known[i].text,
		    strlen(known[i].text), back), 0);
		assert_memory_equal(back, code, PC_ENROLCODE_LEN);
	}
}

/* What people type: case, blanks, dashes anywhere, 0/1/8 for O/I/B. */
static void
test_parse_forgiving(void **state)
{
	static const char *const same[] = {
		"aaaq-eaye-auda-ocaj-bifq-ydio-b4",
		"AAAQEAYEAUDAOCAJBIFQYDIOB4",
		"  AAAQ EAYE AUDA OCAJ BIFQ YDIO B4 ",
		"AAAQ-EAYE-AUDA-0CAJ-8IFQ-YD1O-B4",
		"A-A-A-Q-EAYEAUDAOCAJBIFQYDIO-B4",
	};
	uint8_t	want[PC_ENROLCODE_LEN], got[PC_ENROLCODE_LEN];
	size_t	i;

	(void)state;
	from_hex(known[1].hex, want);
	for (i = 0; i < NELEM(same); i++) {
		memset(got, 0xa5, sizeof(got));
		assert_int_equal(pc_enrolcode_parse(same[i], strlen(same[i]),
		    got), 0);
		assert_memory_equal(got, want, PC_ENROLCODE_LEN);
	}
}

static void
test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B",	/* 25 characters */
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4A",	/* 27 */
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B5",	/* padding bit set */
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B7",	/* padding bits set */
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B9",	/* 9 is no digit here */
		"AAAQ_EAYE-AUDA-OCAJ-BIFQ-YDIO-B4",	/* '_' */
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4\n",
		"AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO=B4",
		"ÄAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4",
		/* longer than anyone types: refused before it is read */
		"A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-A-"
		"-------------",
	};
	uint8_t	got[PC_ENROLCODE_LEN];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		memset(got, 0xa5, sizeof(got));
		assert_int_equal(pc_enrolcode_parse(bad[i], strlen(bad[i]),
		    got), -1);
		/* Nothing half-read is left behind. */
		assert_int_equal(got[0] | got[7] | got[15], 0);
	}
	/* A NUL inside: the length counts, the NUL is no character. */
	assert_int_equal(pc_enrolcode_parse("AAAQ\0EAYE", 9, got), -1);
}

static void
test_roundtrip_random(void **state)
{
	uint8_t	a[PC_ENROLCODE_LEN], b[PC_ENROLCODE_LEN];
	uint8_t	back[PC_ENROLCODE_LEN];
	char	text[PC_ENROLCODE_TEXT];
	int	i;

	(void)state;
	assert_int_equal(pc_enrolcode_new(a), 0);
	assert_int_equal(pc_enrolcode_new(b), 0);
	assert_memory_not_equal(a, b, PC_ENROLCODE_LEN);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(RAND_bytes(a, sizeof(a)), 1);
		pc_enrolcode_format(a, text);
		assert_int_equal(pc_enrolcode_parse(text, strlen(text),
		    back), 0);
		assert_memory_equal(back, a, PC_ENROLCODE_LEN);
	}
}

static void
test_bytea(void **state)
{
	static const uint8_t	in[] = { 0x00, 0x7f, 0x80, 0xff, 0x0a };
	uint8_t			out[8];
	char			text[PC_BYTEA_TEXT(sizeof(in))];
	size_t			len;

	(void)state;
	assert_int_equal(pc_bytea_encode(in, sizeof(in), text,
	    sizeof(text)), 0);
	assert_string_equal(text, "\\x007f80ff0a");
	/* One byte short of room: refused, not cut. */
	assert_int_equal(pc_bytea_encode(in, sizeof(in), text,
	    sizeof(text) - 1), -1);
	assert_int_equal(pc_bytea_decode("\\x007F80ff0a", out, sizeof(out),
	    &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(pc_bytea_decode("\\x", out, sizeof(out), &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(pc_bytea_decode("007f", out, sizeof(out), &len), -1);
	assert_int_equal(pc_bytea_decode("\\x0", out, sizeof(out), &len), -1);
	assert_int_equal(pc_bytea_decode("\\x0g", out, sizeof(out), &len), -1);
	assert_int_equal(pc_bytea_decode("\\x000102030405060708", out,
	    sizeof(out), &len), -1);
}

/* Every SQLSTATE the migrations raise has its answer; others are 503. */
static void
test_dberr_table(void **state)
{
	static const struct {
		const char	*st;
		int		status;
		const char	*code;
	} want[] = {
		{ "PCA01", 401, "unauthenticated" },
		{ "PCA02", 403, "reauth_required" },
		{ "PCA03", 403, "forbidden" },
		{ "PCA04", 403, "self_forbidden" },
		{ "PCA05", 404, "not_found" },
		{ "PCA06", 409, "approval_not_pending" },
		{ "PCA07", 409, "approval_expired" },
		{ "PCA08", 409, "operation_mismatch" },
		{ "PCA09", 403, "four_eyes" },
		{ "PCA10", 403, "password_change_required" },
		{ "PCA11", 409, "approval_pending" },
		{ "PCA12", 409, "refund_exceeds_captured" },
		{ "PCA13", 409, "invalid_transition" },
		{ "PCA14", 409, "conflict" },
		{ "23505", 409, "conflict" },
		{ "23514", 400, "invalid_request" },
		{ "22023", 400, "invalid_request" },
		{ "22P02", 400, "invalid_request" },
		{ "42501", 503, "unavailable" },
		{ "PCA99", 503, "unavailable" },
		{ "", 503, "unavailable" },
		{ NULL, 503, "unavailable" },
	};
	const struct pc_dberr	*e;
	size_t			i;

	(void)state;
	for (i = 0; i < NELEM(want); i++) {
		e = pc_dberr_lookup(want[i].st);
		assert_non_null(e);
		assert_int_equal(e->status, want[i].status);
		assert_string_equal(e->code, want[i].code);
		assert_true(strlen(e->message) > 10);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_parse_forgiving),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_bytea),
		cmocka_unit_test(test_dberr_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
