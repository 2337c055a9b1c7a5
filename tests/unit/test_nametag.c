/*
 * test_nametag.c: the recorded form of an unknown username. The
 * expected tags were computed with Python's hmac module (an independent
 * implementation): key = HMAC-SHA256(KEK, label), tag = HMAC-SHA256(key,
 * folded name), first 8 bytes.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nametag.h"

struct tag_case {
	const char	*name;
	const char	*tag;
};

static void	test_tag_row(void **);
static void	test_refusals(void **);
static void	test_key_matters(void **);

static struct pc_kek	kek;

#define ROW(n, t)							\
	{ "tag " #n, test_tag_row, NULL, NULL,				\
	  &(struct tag_case){ n, t } }

static const struct CMUnitTest tests[] = {
	ROW("admin", "unknown:cc4443f63d8fedfc:5"),
	/* Folded first: case, width, compatibility forms. */
	ROW("Admin", "unknown:cc4443f63d8fedfc:5"),
	ROW("ADMIN", "unknown:cc4443f63d8fedfc:5"),
	ROW("\xef\xbc\xa1\xef\xbc\xa4\xef\xbc\xad\xef\xbc\xa9\xef\xbc\xae",
	    "unknown:cc4443f63d8fedfc:5"),
	ROW("Hunter2 Password!", "unknown:d8803dbaa5b6c875:17"),
	/* Simple lower case, as the database finds accounts: ß stays ß
	 * (two names, as two accounts would be), a final sigma is σ. */
	ROW("Stra\xc3\x9f" "e", "unknown:8bca63ab86c1198e:6"),
	ROW("strasse", "unknown:26f390a13aaeb41f:7"),
	ROW("\xce\x9f\xce\x94\xce\x9f\xce\xa3", "unknown:a6b190cf4c63c598:4"),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_key_matters),
};

static void
test_tag_row(void **state)
{
	const struct tag_case	*c = *state;
	char			 out[PC_NAMETAG_MAX];

	assert_int_equal(pc_nametag(&kek, c->name, strlen(c->name), out), 0);
	assert_string_equal(out, c->tag);
}

static void
test_refusals(void **state)
{
	char	out[PC_NAMETAG_MAX], big[1100];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(pc_nametag(&kek, "", 0, out), -1);
	assert_string_equal(out, "");
	assert_int_equal(pc_nametag(&kek, NULL, 3, out), -1);
	assert_int_equal(pc_nametag(NULL, "abc", 3, out), -1);
	memset(big, 'a', sizeof(big));
	assert_int_equal(pc_nametag(&kek, big, sizeof(big), out), -1);
	assert_int_equal(pc_nametag(&kek, big, 1024, out), 0);
	assert_true(strncmp(out, "unknown:", 8) == 0);
	assert_string_equal(out + 8 + 16, ":1024");
	/* Not UTF-8: the bytes as they are, counted as bytes. */
	assert_int_equal(pc_nametag(&kek, "\xff\xfe", 2, out), 0);
	assert_string_equal(out + 8 + 16, ":2");
	/* Japanese: code points, not bytes. */
	assert_int_equal(pc_nametag(&kek, "\xe3\x83\x91\xe3\x82\xb9\xe3\x83"
	    "\xaf\xe3\x83\xbc\xe3\x83\x89", 15, out), 0);
	assert_string_equal(out + 8 + 16, ":5");
}

static void
test_key_matters(void **state)
{
	struct pc_kek	other;
	char		a[PC_NAMETAG_MAX], b[PC_NAMETAG_MAX];

	(void)state;
	other = kek;
	other.key[31] ^= 1;
	assert_int_equal(pc_nametag(&kek, "admin", 5, a), 0);
	assert_int_equal(pc_nametag(&other, "admin", 5, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(pc_nametag(&kek, "admin1", 6, b), 0);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	size_t	i;

	kek.id = 1;
	for (i = 0; i < sizeof(kek.key); i++)
		kek.key[i] = (uint8_t)(i + 1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
