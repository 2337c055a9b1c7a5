/*
 * test_secretbox.c: AES-256-GCM sealing and the key file.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "secretbox.h"

#define HEX64	"000102030405060708090a0b0c0d0e0f" \
		"101112131415161718191a1b1c1d1e1f"
#define HEX64UC	"000102030405060708090A0B0C0D0E0F" \
		"101112131415161718191A1B1C1D1E1F"

static const uint8_t	 ad_totp[] = "totp:42";
static const uint8_t	 secret[] = "JBSWY3DPEHPK3PXP";

/*
 * Made independently with Python's cryptography (AESGCM): key 00..1f,
 * id 0x01020304, nonce a0..ab, AAD = header || "totp:42",
 * plaintext "JBSWY3DPEHPK3PXP". Pins the layout and the AAD order.
 */
static const char	*kat_hex =
    "0101020304a0a1a2a3a4a5a6a7a8a9aaabac5a2f7a1cf846ef272dd798342a988e"
    "5c4cc194e8ad5740c21d029e1dc6de95";

static void
test_key(struct pc_kek *k, uint32_t id)
{
	size_t	i;

	k->id = id;
	for (i = 0; i < PC_SECRETBOX_KEY_LEN; i++)
		k->key[i] = (uint8_t)i;
}

static size_t
unhex(const char *s, uint8_t *out, size_t outlen)
{
	size_t		i;
	unsigned int	b;

	for (i = 0; s[2 * i] != '\0' && i < outlen; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			fail();
		out[i] = (uint8_t)b;
	}
	return (i);
}

static int
all_zero(const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			return (0);
	}
	return (1);
}

static void
test_known_answer(void **state)
{
	struct pc_kek	k;
	uint8_t		blob[64], out[64];
	size_t		len;

	(void)state;
	test_key(&k, 0x01020304);
	len = unhex(kat_hex, blob, sizeof(blob));
	assert_int_equal(len, 16 + PC_SECRETBOX_OVERHEAD);
	assert_int_equal(pc_secretbox_key_id(blob, len), 0x01020304);
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob, len, out,
	    sizeof(out)), 16);
	assert_memory_equal(out, secret, 16);
	/* Without the header in the AAD the tag would not match. */
	assert_int_equal(pc_secretbox_open(&k, NULL, 0, blob, len, out,
	    sizeof(out)), -1);
}

static void
test_round_trip(void **state)
{
	static const size_t	lens[] = { 0, 1, 16, 17, 32, 1000 };
	struct pc_kek		k;
	uint8_t			in[1000], blob[1000 + PC_SECRETBOX_OVERHEAD];
	uint8_t			blob2[sizeof(blob)], out[1000];
	size_t			i, j, len;

	(void)state;
	test_key(&k, 7);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 31 + 5);

	for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
		len = lens[j];
		assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, in, len,
		    blob, len + PC_SECRETBOX_OVERHEAD), 0);
		assert_int_equal(blob[0], 0x01);
		assert_int_equal(pc_secretbox_key_id(blob,
		    len + PC_SECRETBOX_OVERHEAD), 7);
		memset(out, 0xee, sizeof(out));
		assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob,
		    len + PC_SECRETBOX_OVERHEAD, out, len), (int)len);
		if (len > 0)
			assert_memory_equal(out, in, len);

		/* A fresh nonce each time. */
		assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, in, len,
		    blob2, sizeof(blob2)), 0);
		assert_memory_not_equal(blob + 5, blob2 + 5, 12);
	}

	/* No additional data at all is allowed too. */
	assert_int_equal(pc_secretbox_seal(&k, NULL, 0, secret, 16, blob,
	    sizeof(blob)), 0);
	assert_int_equal(pc_secretbox_open(&k, NULL, 0, blob,
	    16 + PC_SECRETBOX_OVERHEAD, out, sizeof(out)), 16);
	assert_memory_equal(out, secret, 16);
}

static void
test_tamper_every_byte(void **state)
{
	static const uint8_t	flips[] = { 0x01, 0x80, 0xff };
	struct pc_kek		k;
	uint8_t			blob[16 + PC_SECRETBOX_OVERHEAD], out[16];
	size_t			i, f, len = sizeof(blob);

	(void)state;
	test_key(&k, 7);
	assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, secret, 16, blob,
	    sizeof(blob)), 0);

	for (i = 0; i < len; i++) {
		for (f = 0; f < sizeof(flips); f++) {
			blob[i] ^= flips[f];
			memset(out, 0xee, sizeof(out));
			if (pc_secretbox_open(&k, ad_totp, 7, blob, len, out,
			    sizeof(out)) != -1)
				fail_msg("opened with byte %zu ^ 0x%02x", i,
				    flips[f]);
			/* Nothing unauthenticated is left behind. */
			assert_true(all_zero(out, sizeof(out)));
			blob[i] ^= flips[f];
		}
	}
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob, len, out,
	    sizeof(out)), 16);
}

static void
test_wrong_ad(void **state)
{
	struct pc_kek	k;
	uint8_t		blob[16 + PC_SECRETBOX_OVERHEAD], out[16];

	(void)state;
	test_key(&k, 7);
	assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, secret, 16, blob,
	    sizeof(blob)), 0);
	assert_int_equal(pc_secretbox_open(&k, (const uint8_t *)"totp:43", 7,
	    blob, sizeof(blob), out, sizeof(out)), -1);
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 6, blob,
	    sizeof(blob), out, sizeof(out)), -1);
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 8, blob,
	    sizeof(blob), out, sizeof(out)), -1);
	assert_int_equal(pc_secretbox_open(&k, NULL, 0, blob, sizeof(blob),
	    out, sizeof(out)), -1);
	assert_int_equal(pc_secretbox_open(&k, NULL, 7, blob, sizeof(blob),
	    out, sizeof(out)), -1);
	assert_true(all_zero(out, sizeof(out)));
}

static void
test_wrong_key(void **state)
{
	struct pc_kek	k, k2;
	uint8_t		blob[16 + PC_SECRETBOX_OVERHEAD], out[16];

	(void)state;
	test_key(&k, 7);
	assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, secret, 16, blob,
	    sizeof(blob)), 0);

	/* Same key bytes, other id: refused before any decryption. */
	test_key(&k2, 8);
	assert_int_equal(pc_secretbox_open(&k2, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out)), -1);

	/* Rewriting the id in the header to match fails the tag. */
	blob[4] = 8;
	assert_int_equal(pc_secretbox_key_id(blob, sizeof(blob)), 8);
	assert_int_equal(pc_secretbox_open(&k2, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out)), -1);
	blob[4] = 7;

	/* Same id, other key bytes. */
	test_key(&k2, 7);
	k2.key[31] ^= 1;
	assert_int_equal(pc_secretbox_open(&k2, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out)), -1);

	/* Id 0 is never a key. */
	test_key(&k2, 0);
	assert_int_equal(pc_secretbox_seal(&k2, NULL, 0, secret, 16, blob,
	    sizeof(blob)), -1);
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out)), 16);
}

static void
test_lengths(void **state)
{
	struct pc_kek	k;
	uint8_t		blob[16 + PC_SECRETBOX_OVERHEAD], out[16];
	uint8_t		big[sizeof(blob) + 1];
	size_t		len;

	(void)state;
	test_key(&k, 7);
	assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, secret, 16, blob,
	    sizeof(blob) - 1), -1);
	assert_int_equal(pc_secretbox_seal(&k, ad_totp, 7, secret, 16, blob,
	    sizeof(blob)), 0);

	/* Every truncation fails. */
	for (len = 0; len < sizeof(blob); len++) {
		if (pc_secretbox_open(&k, ad_totp, 7, blob, len, out,
		    sizeof(out)) != -1)
			fail_msg("opened truncated to %zu", len);
		if (len < PC_SECRETBOX_OVERHEAD)
			assert_int_equal(pc_secretbox_key_id(blob, len), 0);
	}
	/* One byte appended fails. */
	memcpy(big, blob, sizeof(blob));
	big[sizeof(blob)] = 0;
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, big, sizeof(big),
	    out, sizeof(out)), -1);

	/* Output too small. */
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out) - 1), -1);

	/* Unknown version. */
	blob[0] = 0x02;
	assert_int_equal(pc_secretbox_key_id(blob, sizeof(blob)), 0);
	assert_int_equal(pc_secretbox_open(&k, ad_totp, 7, blob,
	    sizeof(blob), out, sizeof(out)), -1);
	assert_int_equal(pc_secretbox_key_id(NULL, 100), 0);
}

struct parse_case {
	const char	*text;
	size_t		 len;	/* 0: strlen */
	int		 want;
	uint32_t	 id;
};

static void
test_kek_parse(void **state)
{
	static const struct parse_case	cases[] = {
		{ "1 " HEX64, 0, 0, 1 },
		{ "1 " HEX64 "\n", 0, 0, 1 },
		{ "42 " HEX64UC, 0, 0, 42 },
		{ "42 000102030405060708090A0B0C0D0E0F"
		    "101112131415161718191a1b1c1d1e1f\n", 0, 0, 42 },
		{ "2147483647 " HEX64, 0, 0, 2147483647 },
		{ "", 0, -1, 0 },
		{ "\n", 0, -1, 0 },
		{ "1", 0, -1, 0 },
		{ "1 ", 0, -1, 0 },
		{ HEX64, 0, -1, 0 },
		{ "0 " HEX64, 0, -1, 0 },
		{ "01 " HEX64, 0, -1, 0 },
		{ "00 " HEX64, 0, -1, 0 },
		{ "2147483648 " HEX64, 0, -1, 0 },
		{ "99999999999999999999 " HEX64, 0, -1, 0 },
		{ "-1 " HEX64, 0, -1, 0 },
		{ "+1 " HEX64, 0, -1, 0 },
		{ " 1 " HEX64, 0, -1, 0 },
		{ "1  " HEX64, 0, -1, 0 },
		{ "1\t" HEX64, 0, -1, 0 },
		{ "1 " HEX64 " ", 0, -1, 0 },
		{ "1 " HEX64 "\n\n", 0, -1, 0 },
		{ "1 " HEX64 "\r\n", 0, -1, 0 },
		{ "1 " HEX64 " extra", 0, -1, 0 },
		{ "1 2 " HEX64, 0, -1, 0 },
		{ "1 " HEX64 "00", 0, -1, 0 },				/* long */
		{ "1 " HEX64 "0", 0, -1, 0 },
		{ "1 000102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1", 0, -1, 0 },	/* short */
		{ "1 000102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e", 0, -1, 0 },
		{ "1 000102030405060708090a0b0c0d0e0g"
		    "101112131415161718191a1b1c1d1e1f", 0, -1, 0 },	/* bad hex */
		{ "1 000102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1 ", 0, -1, 0 },
		{ "1 0x0102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1f", 0, -1, 0 },
		{ "1 " HEX64 "\0", 67, -1, 0 },
		{ "1\0" HEX64, 66, -1, 0 },
	};
	struct pc_kek	k, want;
	size_t		i, len;
	int		rc;

	(void)state;
	test_key(&want, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		memset(&k, 0xaa, sizeof(k));
		rc = pc_kek_parse(&k, cases[i].text, len);
		if (rc != cases[i].want)
			fail_msg("parse #%zu \"%s\": got %d", i,
			    cases[i].text, rc);
		if (rc == 0) {
			assert_int_equal(k.id, cases[i].id);
			assert_memory_equal(k.key, want.key, sizeof(k.key));
		} else {
			/* A failed parse leaves no partial key behind. */
			assert_true(all_zero((uint8_t *)&k, sizeof(k)));
		}
	}
	assert_int_equal(pc_kek_parse(&k, NULL, 0), -1);

	pc_kek_parse(&k, "1 " HEX64, strlen("1 " HEX64));
	pc_kek_wipe(&k);
	assert_true(all_zero((uint8_t *)&k, sizeof(k)));
}

/* A temporary key file with mode; the path goes to path. */
static void
key_file(char *path, size_t pathlen, const char *text, size_t len,
    mode_t mode)
{
	const char	*dir;
	int		 fd;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, pathlen, "%s/pc-kek-XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void
test_kek_load(void **state)
{
	static const char	good[] = "9 " HEX64 "\n";
	static const mode_t	bad_modes[] = { 0644, 0640, 0604, 0602,
	    0620, 0601, 0610, 0666 };
	struct pc_kek		k, want;
	char			path[256], err[512], big[300];
	char			link[300];
	size_t			i;

	(void)state;
	test_key(&want, 9);

	key_file(path, sizeof(path), good, strlen(good), 0600);
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), 0);
	assert_int_equal(k.id, 9);
	assert_memory_equal(k.key, want.key, sizeof(k.key));
	pc_kek_wipe(&k);

	/* 0400 is fine too. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), 0);

	/* Group or other bits: refused with the path, never the key. */
	for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		assert_int_equal(chmod(path, bad_modes[i]), 0);
		memset(&k, 0xaa, sizeof(k));
		assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), -1);
		assert_non_null(strstr(err,
		    "is readable or writable by group or others"));
		assert_non_null(strstr(err, path));
		assert_null(strstr(err, "0102030405"));
		assert_true(all_zero((uint8_t *)&k, sizeof(k)));
	}

	/* A symbolic link to a good file is refused. */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s.link", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(pc_kek_load(&k, link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	unlink(link);
	unlink(path);

	/* Missing file. */
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));

	/* Not a regular file. */
	assert_int_equal(pc_kek_load(&k, "/", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	/* Too large, even if it starts with a good line. */
	memset(big, '\n', sizeof(big));
	memcpy(big, good, strlen(good));
	key_file(path, sizeof(path), big, sizeof(big), 0600);
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	unlink(path);

	/* Malformed: the message names the file, never its bytes. */
	key_file(path, sizeof(path), "9 " HEX64 " junk\n",
	    strlen("9 " HEX64 " junk\n"), 0600);
	memset(&k, 0xaa, sizeof(k));
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	assert_null(strstr(err, "0102030405"));
	assert_true(all_zero((uint8_t *)&k, sizeof(k)));
	unlink(path);

	/* Empty file. */
	key_file(path, sizeof(path), "", 0, 0600);
	assert_int_equal(pc_kek_load(&k, path, err, sizeof(err)), -1);
	/* No room for a message is fine. */
	assert_int_equal(pc_kek_load(&k, path, NULL, 0), -1);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_wrong_ad),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_kek_parse),
		cmocka_unit_test(test_kek_load),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
