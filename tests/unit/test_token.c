/*
 * test_token.c: unit tests for src/token.c (cmocka).
 *
 * Expected strings are literals printed by python3 while writing this
 * file, never by the code under test:
 *   base64:  base64.urlsafe_b64encode(tok).rstrip(b'=')
 *   hash:    hashlib.sha256(tok).hexdigest()
 *   csrf:    base64url(sha256(b"payconsole csrf v1\x00" + tok)), no
 *            padding; the label's NUL is hashed because token.c feeds
 *            sizeof(label) bytes.
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

#include "token.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ROUNDS		1000

static const char	b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char	cookie_tail[] =
    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=";

/* Fixed tokens: filled by setup_group. */
enum { TOK_ZERO, TOK_SEQ, TOK_DESC, TOK_NTOK };
static uint8_t		toks[TOK_NTOK][PC_TOKEN_LEN];

struct known {
	int		 tok;
	const char	*b64;
	const char	*hex;
	const char	*csrf;
};

static const struct known	known_cases[] = {
	{ TOK_ZERO,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "\\x66687aadf862bd776c8fc18b8e9f8e20"
	    "089714856ee233b3902a591d0d5f2925",
	    "OxRta-HsGyw-I6BSkLnn1QxDcxfmza61FUGLYmlguI0" },
	/* bytes 0x00..0x1f */
	{ TOK_SEQ,
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	    "\\x630dcd2966c4336691125448bbb25b4f"
	    "f412a49c732db2c8abc1b8581bd710dd",
	    "D9tz88By8WoGwxBVOrFsBNvfjcUp4W0SEGubz9glucw" },
	/* bytes 0xff down to 0xe0: exercises '-' and '_' */
	{ TOK_DESC,
	    "__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA",
	    "\\x1865c00831e73f7ee23fc13cb2d0f588"
	    "b9c341835ca7472f8ec035aba4b789d6",
	    "ueAOh000tjbSCUte90IOGPJHcAuDxWXIkOGf1tL3NIU" },
};

static int
setup_group(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < PC_TOKEN_LEN; i++) {
		toks[TOK_ZERO][i] = 0;
		toks[TOK_SEQ][i] = (uint8_t)i;
		toks[TOK_DESC][i] = (uint8_t)(0xff - i);
	}
	return (0);
}

static void
assert_b64url(const char *s)
{
	size_t	i;

	assert_int_equal(strlen(s), PC_TOKEN_B64_LEN);
	for (i = 0; i < PC_TOKEN_B64_LEN; i++)
		assert_non_null(strchr(b64url_alpha, s[i]));
}

static void
test_new(void **state)
{
	uint8_t	a[PC_TOKEN_LEN], b[PC_TOKEN_LEN];

	(void)state;
	assert_int_equal(pc_token_new(a), 0);
	assert_int_equal(pc_token_new(b), 0);
	assert_memory_not_equal(a, b, PC_TOKEN_LEN);
}

static void
test_roundtrip_random(void **state)
{
	uint8_t	tok[PC_TOKEN_LEN], back[PC_TOKEN_LEN];
	char	enc[PC_TOKEN_B64_LEN + 8];
	int	i;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(RAND_bytes(tok, sizeof(tok)), 1);
		memset(enc, 'x', sizeof(enc));
		pc_token_encode(tok, enc);
		assert_b64url(enc);
		/* Nothing written past the NUL. */
		assert_int_equal(enc[PC_TOKEN_B64_LEN + 1], 'x');
		memset(back, 0xa5, sizeof(back));
		assert_int_equal(pc_token_decode(enc, strlen(enc), back), 0);
		assert_memory_equal(back, tok, PC_TOKEN_LEN);
	}
}

static void
test_encode_known(void **state)
{
	uint8_t	back[PC_TOKEN_LEN];
	char	enc[PC_TOKEN_B64_LEN + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(known_cases); i++) {
		pc_token_encode(toks[known_cases[i].tok], enc);
		assert_string_equal(enc, known_cases[i].b64);
		assert_int_equal(pc_token_decode(known_cases[i].b64,
		    strlen(known_cases[i].b64), back), 0);
		assert_memory_equal(back, toks[known_cases[i].tok],
		    PC_TOKEN_LEN);
	}
}

/*
 * Mutations of the all-zero token's encoding ("A" x 43): the character
 * at pos becomes c (pos -1: unchanged), and len is passed as length.
 */
struct decode_case {
	int		 pos;
	char		 c;
	size_t		 len;
	int		 rc;
	int		 last;	/* expected tok[31] when rc == 0 */
};

static const struct decode_case	decode_cases[] = {
	{ -1, 0, 43, 0, 0x00 },
	{ -1, 0, 42, -1, 0 },
	{ -1, 0, 44, -1, 0 },	/* 44th char is another 'A' */
	{ -1, 0, 0, -1, 0 },
	{ 0, '+', 43, -1, 0 },
	{ 10, '/', 43, -1, 0 },
	{ 42, '=', 43, -1, 0 },
	{ 41, '=', 43, -1, 0 },
	{ 20, ' ', 43, -1, 0 },
	{ 20, '\0', 43, -1, 0 },
	{ 42, '\0', 43, -1, 0 },
	{ 5, '.', 43, -1, 0 },
	{ 5, '@', 43, -1, 0 },	/* 'A' - 1 */
	{ 5, '[', 43, -1, 0 },	/* 'Z' + 1 */
	{ 5, '`', 43, -1, 0 },	/* 'a' - 1 */
	{ 5, '{', 43, -1, 0 },	/* 'z' + 1 */
	{ 5, ':', 43, -1, 0 },	/* '9' + 1 */
	{ 5, (char)0x80, 43, -1, 0 },
	{ 5, (char)0xff, 43, -1, 0 },
	{ 40, '*', 43, -1, 0 },
	{ 41, '~', 43, -1, 0 },
	/* Last char: the low 2 bits of its value are spare, must be 0. */
	{ 42, 'B', 43, -1, 0 },
	{ 42, 'C', 43, -1, 0 },
	{ 42, 'D', 43, -1, 0 },
	{ 42, '_', 43, -1, 0 },
	{ 42, 'E', 43, 0, 0x01 },
	{ 42, '8', 43, 0, 0x0f },
	{ 42, '0', 43, 0, 0x0d },
	/* Valid characters elsewhere are fine. */
	{ 0, '_', 43, 0, 0x00 },
	{ 41, '_', 43, 0, 0xf0 },
};

static void
test_decode_table(void **state)
{
	uint8_t	tok[PC_TOKEN_LEN];
	char	s[PC_TOKEN_B64_LEN + 2];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(decode_cases); i++) {
		memset(s, 'A', sizeof(s) - 1);
		s[sizeof(s) - 1] = '\0';
		if (decode_cases[i].pos >= 0)
			s[decode_cases[i].pos] = decode_cases[i].c;
		memset(tok, 0xa5, sizeof(tok));
		if (pc_token_decode(s, decode_cases[i].len, tok) !=
		    decode_cases[i].rc)
			fail_msg("decode case %zu: rc != %d", i,
			    decode_cases[i].rc);
		if (decode_cases[i].rc == 0)
			assert_int_equal(tok[PC_TOKEN_LEN - 1],
			    decode_cases[i].last);
	}
}

static void
test_hash_hex(void **state)
{
	uint8_t	h[32];
	char	hex[67], byte[3];
	size_t	i, k;

	(void)state;
	for (i = 0; i < NELEM(known_cases); i++) {
		memset(hex, 'x', sizeof(hex));
		pc_token_hash_hex(toks[known_cases[i].tok], hex);
		assert_string_equal(hex, known_cases[i].hex);
		assert_int_equal(strlen(hex), 66);
		assert_int_equal(hex[0], '\\');
		assert_int_equal(hex[1], 'x');
		for (k = 2; k < 66; k++)
			assert_non_null(strchr("0123456789abcdef", hex[k]));
		/* The raw hash agrees with the hex. */
		pc_token_hash(toks[known_cases[i].tok], h);
		for (k = 0; k < sizeof(h); k++) {
			(void)snprintf(byte, sizeof(byte), "%02x", h[k]);
			assert_memory_equal(byte, hex + 2 + 2 * k, 2);
		}
	}
}

static void
test_csrf_known(void **state)
{
	char	a[PC_TOKEN_B64_LEN + 1], b[PC_TOKEN_B64_LEN + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(known_cases); i++) {
		pc_token_csrf(toks[known_cases[i].tok], a);
		assert_string_equal(a, known_cases[i].csrf);
		assert_b64url(a);
		/* Deterministic. */
		pc_token_csrf(toks[known_cases[i].tok], b);
		assert_string_equal(a, b);
		assert_int_equal(pc_token_csrf_ok(toks[known_cases[i].tok],
		    known_cases[i].csrf, strlen(known_cases[i].csrf)), 1);
		/* Not the session token's encoding. */
		assert_string_not_equal(a, known_cases[i].b64);
	}
}

static void
test_csrf_random(void **state)
{
	uint8_t	t1[PC_TOKEN_LEN], t2[PC_TOKEN_LEN];
	char	c1[PC_TOKEN_B64_LEN + 1], c2[PC_TOKEN_B64_LEN + 1];
	int	i;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(RAND_bytes(t1, sizeof(t1)), 1);
		memcpy(t2, t1, sizeof(t2));
		t2[i % PC_TOKEN_LEN] ^= 1 << (i % 8);
		pc_token_csrf(t1, c1);
		pc_token_csrf(t2, c2);
		assert_b64url(c1);
		assert_b64url(c2);
		assert_string_not_equal(c1, c2);
		assert_int_equal(pc_token_csrf_ok(t1, c1, strlen(c1)), 1);
		assert_int_equal(pc_token_csrf_ok(t1, c2, strlen(c2)), 0);
		assert_int_equal(pc_token_csrf_ok(t2, c1, strlen(c1)), 0);
	}
}

/* Presented CSRF strings for TOK_SEQ, derived from its right answer. */
enum { G_RIGHT, G_NULL, G_SHORT, G_LONG, G_CHANGED_FIRST, G_CHANGED_LAST,
	G_OTHER, G_SESSION, G_EMPTY };

struct csrf_case {
	int	given;
	int	ok;
};

static const struct csrf_case	csrf_cases[] = {
	{ G_RIGHT, 1 },
	{ G_NULL, 0 },
	{ G_SHORT, 0 },
	{ G_LONG, 0 },
	{ G_CHANGED_FIRST, 0 },
	{ G_CHANGED_LAST, 0 },
	{ G_OTHER, 0 },
	{ G_SESSION, 0 },
	{ G_EMPTY, 0 },
};

static void
test_csrf_ok_table(void **state)
{
	const char	*right = "D9tz88By8WoGwxBVOrFsBNvfjcUp4W0SEGubz9glucw";
	char		 buf[PC_TOKEN_B64_LEN + 2];
	const char	*given;
	size_t		 i, len;

	(void)state;
	for (i = 0; i < NELEM(csrf_cases); i++) {
		(void)snprintf(buf, sizeof(buf), "%s", right);
		given = buf;
		len = PC_TOKEN_B64_LEN;
		switch (csrf_cases[i].given) {
		case G_RIGHT:
			break;
		case G_NULL:
			given = NULL;
			break;
		case G_SHORT:
			len = PC_TOKEN_B64_LEN - 1;
			break;
		case G_LONG:
			buf[PC_TOKEN_B64_LEN] = 'A';
			buf[PC_TOKEN_B64_LEN + 1] = '\0';
			len = PC_TOKEN_B64_LEN + 1;
			break;
		case G_CHANGED_FIRST:
			buf[0] = 'E';
			break;
		case G_CHANGED_LAST:
			buf[PC_TOKEN_B64_LEN - 1] = 'x';
			break;
		case G_OTHER:	/* CSRF of the all-zero token */
			given = known_cases[TOK_ZERO].csrf;
			break;
		case G_SESSION:
			given = known_cases[TOK_SEQ].b64;
			break;
		case G_EMPTY:
			given = "";
			len = 0;
			break;
		}
		if (pc_token_csrf_ok(toks[TOK_SEQ], given, len) !=
		    csrf_cases[i].ok)
			fail_msg("csrf case %zu: expected %d", i,
			    csrf_cases[i].ok);
	}
}

/*
 * Cookie headers. "@" is replaced by the encoding of TOK_SEQ and "#" by
 * that of TOK_DESC; want is the token expected on success.
 */
struct cookie_case {
	const char	*header;
	int		 rc;
	int		 want;
};

static const struct cookie_case	cookie_cases[] = {
	{ "__Host-pc_session=@", 0, TOK_SEQ },
	{ "__Host-pc_session=#", 0, TOK_DESC },
	{ "a=b; __Host-pc_session=@; c=d", 0, TOK_SEQ },
	{ "a=b; __Host-pc_session=#", 0, TOK_DESC },
	{ "__Host-pc_session=@; c=d", 0, TOK_SEQ },
	{ "a=b;__Host-pc_session=@;c=d", 0, TOK_SEQ },
	{ "  \ta=b ;\t  __Host-pc_session=@ \t ;  c=d  ", 0, TOK_SEQ },
	{ "\t__Host-pc_session=@\t", 0, TOK_SEQ },
	{ "__Host-pc_session=@;", 0, TOK_SEQ },
	{ "__Host-pc_session=@; ", 0, TOK_SEQ },
	{ ";;__Host-pc_session=@;;", 0, TOK_SEQ },
	{ "flag; __Host-pc_session=@", 0, TOK_SEQ },
	{ "__Host-pc_session2=#; __Host-pc_session=@", 0, TOK_SEQ },
	{ "x__Host-pc_session=#; __Host-pc_session=@", 0, TOK_SEQ },
	{ "a=__Host-pc_session=#; __Host-pc_session=@", 0, TOK_SEQ },
	/* Exactly one session cookie. */
	{ "__Host-pc_session=@; __Host-pc_session=#", -1, 0 },
	{ "__Host-pc_session=@; __Host-pc_session=@", -1, 0 },
	{ "__Host-pc_session=@; a=b; __Host-pc_session=@", -1, 0 },
	{ "__Host-pc_session=@; __Host-pc_session=", -1, 0 },
	{ "__Host-pc_session=; __Host-pc_session=@", -1, 0 },
	/* Not found. */
	{ "", -1, 0 },
	{ "   ", -1, 0 },
	{ ";", -1, 0 },
	{ "a=b; c=d", -1, 0 },
	{ "__host-pc_session=@", -1, 0 },
	{ "__HOST-PC_SESSION=@", -1, 0 },
	{ "x__Host-pc_session=@", -1, 0 },
	{ "__Host-pc_session2=@", -1, 0 },
	{ "__Host-pc_sessio=@", -1, 0 },
	{ "pc_session=@", -1, 0 },
	{ "__Host-pc_session", -1, 0 },
	{ "__Host-pc_session; a=@", -1, 0 },
	{ "a=__Host-pc_session=@", -1, 0 },
	/* Bad value. */
	{ "__Host-pc_session=", -1, 0 },
	{ "__Host-pc_session=;", -1, 0 },
	{ "__Host-pc_session=@A", -1, 0 },
	{ "__Host-pc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    -1, 0 },
	{ "__Host-pc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	    -1, 0 },
	{ "__Host-pc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    -1, 0 },
	{ "__Host-pc_session=\"@\"", -1, 0 },
	{ "__Host-pc_session=@ x", -1, 0 },
	{ "__Host-pc_session=@=", -1, 0 },
};

static void
expand(const char *tmpl, char *out, size_t len)
{
	char		 e1[PC_TOKEN_B64_LEN + 1], e2[PC_TOKEN_B64_LEN + 1];
	const char	*ins;
	size_t		 o, n;

	pc_token_encode(toks[TOK_SEQ], e1);
	pc_token_encode(toks[TOK_DESC], e2);
	for (o = 0; *tmpl != '\0'; tmpl++) {
		if (*tmpl == '@')
			ins = e1;
		else if (*tmpl == '#')
			ins = e2;
		else
			ins = NULL;
		n = ins != NULL ? strlen(ins) : 1;
		assert_true(o + n < len);
		if (ins != NULL)
			memcpy(out + o, ins, n);
		else
			out[o] = *tmpl;
		o += n;
	}
	out[o] = '\0';
}

static void
test_cookie_session_table(void **state)
{
	uint8_t	tok[PC_TOKEN_LEN];
	char	hdr[512];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < NELEM(cookie_cases); i++) {
		expand(cookie_cases[i].header, hdr, sizeof(hdr));
		memset(tok, 0xa5, sizeof(tok));
		rc = pc_cookie_session(hdr, tok);
		if (rc != cookie_cases[i].rc)
			fail_msg("cookie case %zu \"%s\": rc %d, want %d", i,
			    hdr, rc, cookie_cases[i].rc);
		if (rc == 0)
			assert_memory_equal(tok, toks[cookie_cases[i].want],
			    PC_TOKEN_LEN);
	}
}

static void
test_cookie_session_null(void **state)
{
	uint8_t	tok[PC_TOKEN_LEN];

	(void)state;
	assert_int_equal(pc_cookie_session(NULL, tok), -1);
}

/*
 * pc_cookie_find(): the one cookie of a name, its value as sent (not
 * decoded); want NULL when refused.
 */
struct find_case {
	const char	*header;
	const char	*name;
	const char	*want;
};

static const struct find_case	find_cases[] = {
	/* Present, alone or among others. */
	{ "pc_x=abc", "pc_x", "abc" },
	{ "a=b; pc_x=abc; c=d", "pc_x", "abc" },
	{ "a=b;pc_x=abc;c=d", "pc_x", "abc" },
	{ "pc_x=abc; pc_y=def", "pc_y", "def" },
	{ "pc_xx=1; xpc_x=2; pc_x=3", "pc_x", "3" },
	{ "flag; pc_x=abc", "pc_x", "abc" },
	/* Trailing white space is not the value's; inside it is. */
	{ "\t pc_x=abc \t; c=d", "pc_x", "abc" },
	{ "pc_x=a b", "pc_x", "a b" },
	{ "pc_x=a=b.c", "pc_x", "a=b.c" },
	/* Empty value: present, of length 0. */
	{ "pc_x=", "pc_x", "" },
	{ "a=b; pc_x=; c=d", "pc_x", "" },
	{ "pc_x=  ", "pc_x", "" },
	/* Absent. */
	{ "", "pc_x", NULL },
	{ ";; ;", "pc_x", NULL },
	{ "a=b; c=d", "pc_x", NULL },
	{ "pc_x; a=b", "pc_x", NULL },
	{ "PC_X=abc", "pc_x", NULL },
	{ "pc_x =abc", "pc_x", NULL },
	{ "a=pc_x=abc", "pc_x", NULL },
	/* Twice, whatever the values. */
	{ "pc_x=abc; pc_x=abc", "pc_x", NULL },
	{ "pc_x=abc; a=b; pc_x=def", "pc_x", NULL },
	{ "pc_x=; pc_x=abc", "pc_x", NULL },
	{ "pc_x=abc; pc_x=", "pc_x", NULL },
};

static void
test_cookie_find_table(void **state)
{
	const struct find_case	*c;
	const char		*val;
	size_t			 i, len;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(find_cases); i++) {
		c = &find_cases[i];
		val = NULL;
		len = 999;
		rc = pc_cookie_find(c->header, c->name, &val, &len);
		if (rc != (c->want != NULL ? 0 : -1))
			fail_msg("find case %zu \"%s\": rc %d", i, c->header,
			    rc);
		if (rc != 0)
			continue;
		assert_non_null(val);
		/* A pointer into the header, not a copy. */
		assert_true(val >= c->header &&
		    val + len <= c->header + strlen(c->header));
		assert_int_equal(len, strlen(c->want));
		assert_memory_equal(val, c->want, len);
	}
	assert_int_equal(pc_cookie_find(NULL, "pc_x", &val, &len), -1);
}

struct format_case {
	int		 tok;	/* -1: NULL */
	long		 max_age;
	const char	*want;
};

static const struct format_case	format_cases[] = {
	{ TOK_SEQ, 900, "__Host-pc_session="
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=900" },
	{ TOK_DESC, 900, "__Host-pc_session="
	    "__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=900" },
	{ TOK_SEQ, 0, "__Host-pc_session="
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
	{ TOK_SEQ, -1, "__Host-pc_session="
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
	{ TOK_SEQ, -900, "__Host-pc_session="
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
	{ TOK_SEQ, 86400, "__Host-pc_session="
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=86400" },
	{ -1, 0, "__Host-pc_session="
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
	{ -1, 900, "__Host-pc_session="
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
	{ -1, -5, "__Host-pc_session="
	    "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" },
};

static void
test_cookie_format_table(void **state)
{
	const uint8_t	*tok;
	char		 out[256];
	size_t		 i, n;

	(void)state;
	for (i = 0; i < NELEM(format_cases); i++) {
		tok = format_cases[i].tok < 0 ? NULL :
		    toks[format_cases[i].tok];
		memset(out, 'x', sizeof(out));
		assert_int_equal(pc_cookie_format(tok, format_cases[i].max_age,
		    out, sizeof(out)), 0);
		assert_string_equal(out, format_cases[i].want);
		assert_null(strstr(out, "Domain"));
		assert_null(strstr(out, "domain"));
		assert_non_null(strstr(out, cookie_tail));

		/* Exactly enough room, then one byte short. */
		n = strlen(format_cases[i].want);
		assert_int_equal(pc_cookie_format(tok, format_cases[i].max_age,
		    out, n + 1), 0);
		assert_string_equal(out, format_cases[i].want);
		assert_int_equal(pc_cookie_format(tok, format_cases[i].max_age,
		    out, n), -1);
		assert_int_equal(pc_cookie_format(tok, format_cases[i].max_age,
		    out, 1), -1);
	}
}

static void
test_cookie_format_roundtrip(void **state)
{
	uint8_t	tok[PC_TOKEN_LEN], back[PC_TOKEN_LEN];
	char	out[256], *semi;
	int	i;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(RAND_bytes(tok, sizeof(tok)), 1);
		assert_int_equal(pc_cookie_format(tok, 900, out,
		    sizeof(out)), 0);
		assert_null(strstr(out, "Domain"));
		/* The browser sends back name=value only. */
		assert_non_null(semi = strchr(out, ';'));
		*semi = '\0';
		memset(back, 0xa5, sizeof(back));
		assert_int_equal(pc_cookie_session(out, back), 0);
		assert_memory_equal(back, tok, PC_TOKEN_LEN);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_hash_hex),
		cmocka_unit_test(test_csrf_known),
		cmocka_unit_test(test_csrf_random),
		cmocka_unit_test(test_csrf_ok_table),
		cmocka_unit_test(test_cookie_session_table),
		cmocka_unit_test(test_cookie_session_null),
		cmocka_unit_test(test_cookie_find_table),
		cmocka_unit_test(test_cookie_format_table),
		cmocka_unit_test(test_cookie_format_roundtrip),
	};

	return (cmocka_run_group_tests(tests, setup_group, NULL));
}
