/*
 * test_devcookie.c: the device cookie __Host-pc_device (src/devcookie.c).
 *
 * The expected values were computed with Python's hmac, hashlib, struct,
 * base64 and unicodedata modules (/usr/bin/python3, an independent
 * implementation), never by the code under test. KEK key bytes 1..32
 * (as in test_nametag.c):
 *   tag(n)  = "unknown:%s:%d" % (HMAC-SHA256(HMAC-SHA256(kek,
 *             b"payconsole unknown-username tag v1"), f)[:8].hex(), len(f))
 *             with f = unicodedata.normalize("NFKC", n).lower(); tag("admin")
 *             is "unknown:cc4443f63d8fedfc:5" as test_nametag.c lists;
 *   key     = HMAC-SHA256(kek, b"payconsole device cookie v1");
 *   mac     = HMAC-SHA256(key, secret + struct.pack(">q", expires) +
 *             tag(name).encode());
 *   value   = b64(secret) + "." + str(expires) + "." + b64(mac), with
 *             b64(x) = base64.urlsafe_b64encode(x).rstrip(b"=").
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/rand.h>

#include "devcookie.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ROUNDS		200

/* Secrets: bytes 0x00..0x1f, 0xff down to 0xe0, all zero. */
enum { SEC_SEQ, SEC_DESC, SEC_ZERO, SEC_N };

#define S_SEQ	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define S_DESC	"__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA"
#define S_ZERO	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
/* The MAC of S_SEQ, 1800000000, "admin". */
#define M_ADMIN	"vcGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9jRIM"
/* The MAC of S_SEQ, 1800000001, "admin". */
#define M_LATER	"qb3MiUUaWxNCu24Kq0z65ZnX3tdtUm1fiYQoKN01WfQ"
/* The MAC of S_SEQ, 1800000000, "bob". */
#define M_BOB	"6SksyKcC8JOuuQvi2an3ai_wfp1mk_set8CEhMSnuGQ"
#define DEV	"__Host-pc_device="
#define V_ADMIN	S_SEQ ".1800000000." M_ADMIN
#define E_ADMIN	1800000000

struct vector {
	int		 sec;
	int64_t		 expires;
	const char	*name;
	const char	*value;
};

static const struct vector	vectors[] = {
	{ SEC_SEQ, E_ADMIN, "admin", V_ADMIN },
	{ SEC_DESC, 2000000000, "Hunter2 Password!", S_DESC ".2000000000."
	    "yoY_lUYPsglZ53oIZlEU3k55oZWLxGKDtZ9aABL0H2I" },
	/* One digit of expiry. */
	{ SEC_ZERO, 1, "admin", S_ZERO ".1."
	    "XUf6gjR8SQsu9uYMFPHd2fdwog_PRHA-v0cEUqwX6vo" },
	/* The longest expiry read: 18 digits. */
	{ SEC_SEQ, 999999999999999999LL, "admin",
	    S_SEQ ".999999999999999999."
	    "MYzfD6AEucHEdippcoRwJNv3G0I4eK5pGeqi4QQNaac" },
};

static const char	attrs[] =
    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=";

/* Headers verified for "admin" at E_ADMIN - 1: accepted, secret SEC_SEQ. */
static const char *const	accepted[] = {
	DEV V_ADMIN,
	"a=b; " DEV V_ADMIN "; c=d",
	"a=b;" DEV V_ADMIN ";c=d",
	"\t " DEV V_ADMIN " \t; __Host-pc_session=x",
	";;" DEV V_ADMIN ";;",
	"__Host-pc_device2=x; x__Host-pc_device=y; " DEV V_ADMIN,
};

/* Headers refused for "admin" at E_ADMIN - 1 (secret wiped). */
static const char *const	refused[] = {
	/* A changed MAC character, secret character or expiry. */
	DEV S_SEQ ".1800000000."
	    "wcGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9jRIM",
	DEV "BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    ".1800000000." M_ADMIN,
	DEV S_SEQ ".1800000001." M_ADMIN,
	DEV S_SEQ ".1799999999." M_ADMIN,
	/* A right MAC for another expiry or another name. */
	DEV S_SEQ ".1800000000." M_LATER,
	DEV S_SEQ ".1800000000." M_BOB,
	/* The expiry: leading zero, sign, not digits, empty, too long. */
	DEV S_SEQ ".01800000000." M_ADMIN,
	DEV S_SEQ ".+1800000000." M_ADMIN,
	DEV S_SEQ ".-1800000000." M_ADMIN,
	DEV S_SEQ ".18000000x0." M_ADMIN,
	DEV S_SEQ ". 1800000000." M_ADMIN,
	DEV S_SEQ ".1800000000 ." M_ADMIN,
	DEV S_SEQ ".1800.000000." M_ADMIN,
	DEV S_SEQ ".0x6b49d200." M_ADMIN,
	DEV S_SEQ ".." M_ADMIN,
	DEV S_SEQ "." M_ADMIN,
	DEV S_SEQ ".0000000000000000001800000000." M_ADMIN,
	DEV S_SEQ ".18446744075509551616." M_ADMIN,
	/* Its right MAC, but 19 digits: longer than read. */
	DEV S_SEQ ".1000000000000000000."
	    "VyDc9-wQePbOs_nl-clKZlrWzq0NTcx6Geb9eT2o--0",
	/* Non-canonical base64url: the spare low bits of the last char. */
	DEV "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"
	    ".1800000000." M_ADMIN,
	DEV S_SEQ ".1800000000."
	    "vcGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9jRIN",
	/* Standard base64, padding, quotes. */
	DEV "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    ".1800000000.vcGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9jRIM=",
	DEV S_SEQ ".1800000000.vcGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9j+IM",
	DEV "\"" V_ADMIN "\"",
	/* Wrong lengths. */
	DEV "AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    ".1800000000." M_ADMIN,
	DEV "A" S_SEQ ".1800000000." M_ADMIN,
	DEV S_SEQ ".1800000000."
	    "cGckQUDCArbZMiWWnYe4LP9epuwNFBqoEhy9Y9jRIM",
	DEV S_SEQ ".1800000000." M_ADMIN "A",
	DEV S_SEQ ".1800000000." M_ADMIN ".",
	DEV S_SEQ ".1800000000",
	DEV S_SEQ,
	DEV V_ADMIN " x",
	DEV,
	/* Missing, doubled, misnamed. */
	"",
	"a=b; c=d",
	"__Host-pc_session=" S_SEQ,
	"__host-pc_device=" V_ADMIN,
	"__Host-pc_device2=" V_ADMIN,
	"x__Host-pc_device=" V_ADMIN,
	"__Host-pc_device =" V_ADMIN,
	"a=" DEV V_ADMIN,
	"__Host-pc_device; a=" V_ADMIN,
	DEV V_ADMIN "; " DEV V_ADMIN,
	DEV V_ADMIN "; a=b; " DEV S_SEQ ".1800000001." M_LATER,
	DEV V_ADMIN "; " DEV,
	DEV "; " DEV V_ADMIN,
};

static struct pc_kek	kek;
static uint8_t		secs[SEC_N][PC_DEVCOOKIE_SECRET_LEN];

static void	assert_wiped(const uint8_t *);
static void	check_headers(const char *const *, size_t, int);
static int	verify_hdr(const struct pc_kek *, const char *, const char *,
		    int64_t, uint8_t *);

static void
assert_wiped(const uint8_t *s)
{
	static const uint8_t	zero[PC_DEVCOOKIE_SECRET_LEN];

	assert_memory_equal(s, zero, PC_DEVCOOKIE_SECRET_LEN);
}

/* Verify with the secret prefilled, so a refusal must wipe it. */
static int
verify_hdr(const struct pc_kek *k, const char *hdr, const char *name,
    int64_t now, uint8_t *secret)
{
	int	rc;

	memset(secret, 0xa5, PC_DEVCOOKIE_SECRET_LEN);
	rc = pc_devcookie_verify(k, hdr, name, now, secret);
	if (rc != 0)
		assert_wiped(secret);
	return (rc);
}

static void
test_vectors(void **state)
{
	uint8_t		 back[PC_DEVCOOKIE_SECRET_LEN];
	char		 out[PC_DEVCOOKIE_HEADER_MAX], want[256], hdr[256];
	const struct vector *v;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(vectors); i++) {
		v = &vectors[i];
		/* Made here: the Python value, then the attributes. */
		(void)snprintf(want, sizeof(want), "%s%s%s900", DEV, v->value,
		    attrs);
		memset(out, 'x', sizeof(out));
		assert_int_equal(pc_devcookie_format(&kek, secs[v->sec],
		    v->expires, v->expires - 900, v->name, out, sizeof(out)),
		    0);
		assert_string_equal(out, want);
		assert_null(strstr(out, "Domain"));

		/* Made by Python: read back, up to the last second. */
		(void)snprintf(hdr, sizeof(hdr), "%s%s", DEV, v->value);
		assert_int_equal(verify_hdr(&kek, hdr, v->name,
		    v->expires - 1, back), 0);
		assert_memory_equal(back, secs[v->sec], sizeof(back));
		assert_int_equal(verify_hdr(&kek, hdr, v->name, v->expires,
		    back), -1);
		assert_int_equal(verify_hdr(&kek, hdr, v->name,
		    v->expires + 1, back), -1);
	}
}

static void
test_format_attrs(void **state)
{
	char	out[PC_DEVCOOKIE_HEADER_MAX], want[256];
	size_t	n;

	(void)state;
	/* Max-Age is expires - now: one second, a day, 90 days. */
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 1, "admin", out, sizeof(out)), 0);
	assert_string_equal(out, DEV V_ADMIN "; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=1");
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 86400, "admin", out, sizeof(out)), 0);
	assert_string_equal(out, DEV V_ADMIN "; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=86400");
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 7776000, "admin", out, sizeof(out)), 0);
	assert_string_equal(out, DEV V_ADMIN "; Path=/; Secure; HttpOnly; "
	    "SameSite=Strict; Max-Age=7776000");

	/* Exactly enough room, then one byte short (out then wiped). */
	(void)snprintf(want, sizeof(want), "%s", out);
	n = strlen(want);
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 7776000, "admin", out, n + 1), 0);
	assert_string_equal(out, want);
	memset(out, 'x', sizeof(out));
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 7776000, "admin", out, n), -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[n - 1], '\0');
	assert_int_equal(out[n], 'x');

	/* Already expired, no name, a name too long to tag. */
	out[0] = 'x';
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN, "admin", out, sizeof(out)), -1);
	assert_int_equal(out[0], '\0');
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN + 1, "admin", out, sizeof(out)), -1);
	assert_int_equal(pc_devcookie_format(&kek, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 1, "", out, sizeof(out)), -1);
	assert_int_equal(pc_devcookie_format(NULL, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 1, "admin", out, sizeof(out)), -1);
}

static void
test_roundtrip_random(void **state)
{
	uint8_t	sec[PC_DEVCOOKIE_SECRET_LEN];
	uint8_t	back[PC_DEVCOOKIE_SECRET_LEN];
	char	out[PC_DEVCOOKIE_HEADER_MAX], *semi;
	int64_t	now;
	int	i;

	(void)state;
	now = 1764000000;
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(RAND_bytes(sec, sizeof(sec)), 1);
		assert_int_equal(pc_devcookie_format(&kek, sec, now + 1 + i,
		    now, "carol", out, sizeof(out)), 0);
		/* The browser sends back name=value only. */
		assert_non_null(semi = strchr(out, ';'));
		*semi = '\0';
		assert_int_equal(verify_hdr(&kek, out, "carol", now, back), 0);
		assert_memory_equal(back, sec, sizeof(sec));
		assert_int_equal(verify_hdr(&kek, out, "Carol", now + i, back),
		    0);
		assert_int_equal(verify_hdr(&kek, out, "carol", now + 1 + i,
		    back), -1);
		assert_int_equal(verify_hdr(&kek, out, "carol2", now, back),
		    -1);
	}
}

static void
test_names(void **state)
{
	static const char *const	same[] = {
		"admin", "Admin", "ADMIN",
		"\xef\xbc\xa1\xef\xbc\xa4\xef\xbc\xad\xef\xbc\xa9\xef\xbc\xae",
		"\xef\xbd\x81\xef\xbd\x84\xef\xbd\x8d\xef\xbd\x89\xef\xbd\x8e",
	};
	static const char *const	other[] = {
		"bob", "admin1", "admi", "admin ", " admin", "adm\xc4\xb1n",
		"\xd0\xb0\x64min", "", "\xff\xfe",
	};
	uint8_t		back[PC_DEVCOOKIE_SECRET_LEN];
	char		big[1100];
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(same); i++) {
		if (verify_hdr(&kek, DEV V_ADMIN, same[i], E_ADMIN - 1,
		    back) != 0)
			fail_msg("name %zu \"%s\" refused", i, same[i]);
		assert_memory_equal(back, secs[SEC_SEQ], sizeof(back));
	}
	for (i = 0; i < NELEM(other); i++) {
		if (verify_hdr(&kek, DEV V_ADMIN, other[i], E_ADMIN - 1,
		    back) != -1)
			fail_msg("name %zu \"%s\" accepted", i, other[i]);
	}
	/* Too long to tag: refused, not truncated. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(verify_hdr(&kek, DEV V_ADMIN, big, E_ADMIN - 1,
	    back), -1);
	/* Bob's cookie is his. */
	assert_int_equal(verify_hdr(&kek, DEV S_SEQ ".1800000000." M_BOB,
	    "Bob", E_ADMIN - 1, back), 0);
	assert_int_equal(verify_hdr(&kek, DEV S_SEQ ".1800000000." M_BOB,
	    "admin", E_ADMIN - 1, back), -1);
}

/* Each header verified for "admin" at E_ADMIN - 1: want (0 or -1). */
static void
check_headers(const char *const *hdrs, size_t n, int want)
{
	uint8_t	back[PC_DEVCOOKIE_SECRET_LEN];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (verify_hdr(&kek, hdrs[i], "admin", E_ADMIN - 1,
		    back) != want)
			fail_msg("header %zu \"%s\": want %d", i, hdrs[i],
			    want);
		if (want == 0)
			assert_memory_equal(back, secs[SEC_SEQ], sizeof(back));
	}
}

static void
test_accepted(void **state)
{
	(void)state;
	check_headers(accepted, NELEM(accepted), 0);
}

static void
test_refused(void **state)
{
	uint8_t	back[PC_DEVCOOKIE_SECRET_LEN];

	(void)state;
	check_headers(refused, NELEM(refused), -1);
	assert_int_equal(verify_hdr(&kek, NULL, "admin", E_ADMIN - 1, back),
	    -1);
	/* The right cookie, now expired. */
	assert_int_equal(verify_hdr(&kek, DEV V_ADMIN, "admin", E_ADMIN,
	    back), -1);
	assert_int_equal(verify_hdr(&kek, DEV V_ADMIN, "admin", INT64_MAX,
	    back), -1);
}

static void
test_other_kek(void **state)
{
	struct pc_kek	other;
	uint8_t		back[PC_DEVCOOKIE_SECRET_LEN];
	char		out[PC_DEVCOOKIE_HEADER_MAX], *semi;

	(void)state;
	/* Another key: refused; and its own cookie is not ours. */
	other = kek;
	other.key[31] ^= 1;
	assert_int_equal(verify_hdr(&other, DEV V_ADMIN, "admin", E_ADMIN - 1,
	    back), -1);
	assert_int_equal(verify_hdr(NULL, DEV V_ADMIN, "admin", E_ADMIN - 1,
	    back), -1);
	assert_int_equal(pc_devcookie_format(&other, secs[SEC_SEQ], E_ADMIN,
	    E_ADMIN - 1, "admin", out, sizeof(out)), 0);
	assert_non_null(semi = strchr(out, ';'));
	*semi = '\0';
	assert_string_not_equal(out, DEV V_ADMIN);
	assert_int_equal(verify_hdr(&kek, out, "admin", E_ADMIN - 1, back),
	    -1);
	assert_int_equal(verify_hdr(&other, out, "admin", E_ADMIN - 1, back),
	    0);
	assert_memory_equal(back, secs[SEC_SEQ], sizeof(back));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_format_attrs),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_other_kek),
	};
	size_t	i;

	kek.id = 1;
	for (i = 0; i < sizeof(kek.key); i++)
		kek.key[i] = (uint8_t)(i + 1);
	for (i = 0; i < PC_DEVCOOKIE_SECRET_LEN; i++) {
		secs[SEC_SEQ][i] = (uint8_t)i;
		secs[SEC_DESC][i] = (uint8_t)(0xff - i);
		secs[SEC_ZERO][i] = 0;
	}
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
