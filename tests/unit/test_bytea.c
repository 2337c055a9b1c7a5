/*
 * test_bytea.c: PostgreSQL's hex text of bytea, both ways (src/bytea.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bytea.h"

static void
test_encode(void **state)
{
	static const uint8_t	in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char			out[PC_BYTEA_TEXT(4)];

	(void)state;
	assert_int_equal(pc_bytea_encode(in, 4, out, sizeof(out)), 0);
	assert_string_equal(out, "\\x000fa5ff");
	assert_int_equal(pc_bytea_encode(in, 0, out, 3), 0);
	assert_string_equal(out, "\\x");
	/* One byte short of room. */
	assert_int_equal(pc_bytea_encode(in, 4, out, sizeof(out) - 1), -1);
	assert_int_equal(pc_bytea_encode(in, 0, out, 2), -1);
}

static void
test_decode(void **state)
{
	uint8_t		out[4];
	size_t		len;

	(void)state;
	assert_int_equal(pc_bytea_decode("\\x000fA5fF", out, 4, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0x0f);
	assert_int_equal(out[2], 0xa5);
	assert_int_equal(out[3], 0xff);
	assert_int_equal(pc_bytea_decode("\\x", out, 4, &len), 0);
	assert_int_equal(len, 0);

	assert_int_equal(pc_bytea_decode("\\x0", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("\\x0g", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("\\x 0", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("x00", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("\\X00", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("", out, 4, &len), -1);
	assert_int_equal(pc_bytea_decode("\\x0000000000", out, 4, &len), -1);
}

/* Every byte value as either digit: only [0-9a-fA-F] is a digit. */
static void
test_decode_every_char(void **state)
{
	char		s[5] = "\\x00";
	uint8_t		out[1];
	size_t		len;
	int		c, pos, want, v;

	(void)state;
	for (pos = 2; pos < 4; pos++) {
		for (c = 1; c < 256; c++) {
			memcpy(s, "\\x00", 5);
			s[pos] = (char)c;
			if (c >= '0' && c <= '9')
				v = c - '0';
			else if (c >= 'a' && c <= 'f')
				v = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v = c - 'A' + 10;
			else
				v = -1;
			want = (v < 0) ? -1 : 0;
			assert_int_equal(pc_bytea_decode(s, out, 1, &len),
			    want);
			if (want == 0)
				assert_int_equal(out[0],
				    pos == 2 ? v << 4 : v);
		}
	}
}

/* Round trip of all 256 byte values. */
static void
test_round_trip(void **state)
{
	uint8_t		in[256], out[256];
	char		text[PC_BYTEA_TEXT(256)];
	size_t		i, len;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	assert_int_equal(pc_bytea_encode(in, sizeof(in), text,
	    sizeof(text)), 0);
	assert_int_equal(pc_bytea_decode(text, out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_every_char),
		cmocka_unit_test(test_round_trip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
