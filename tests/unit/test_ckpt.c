/*
 * test_ckpt.c: signed checkpoints (src/ckpt.c).
 *
 * The expected lines were made by `openssl pkeyutl -sign -rawin` (Ed25519
 * is deterministic) and Python's hashlib, never by the code under test:
 *   key    = Ed25519 seed SEED below; K its `openssl pkey -pubout
 *            -outform DER | sha256sum`;
 *   texts  = b'[1, "a"]', b'[2, "b"]', b'[3, "c"]' as events 1..3;
 *            h_i = sha256(h_{i-1} + text_i), h_0 = 32 zero bytes;
 *   m1     = {"seq":1,"last_event":2,"head":h_2,"at":1700000000,
 *            "prev":0*64}; m2 = seq 2, last_event 3, head h_3,
 *            at 1700000300, prev sha256(m1).
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ckpt.h"

static const char SEED[] =
    "466c9a91d76462d7f7c81eaeeee3b7474fef91d4f55e68808a10ac20ce632e44";
static const char OTHER_SEED[] =
    "19fb2eafd1fe6339b18739e211b46db6c09e37fcc552dbeaec4bc601bbb18828";

static const char LINE1[] = "{\"seq\":1,\"last_event\":2,\"head\":\""
    "8ed583b4f06e3e602705d7d3bada4bdc1eed333eae06bcc83ebfa86065b24d4b\","
    "\"at\":1700000000,\"prev\":\""
    "0000000000000000000000000000000000000000000000000000000000000000\","
    "\"key\":\""
    "9732d9d2b11836d3506a43574e323e6db7bbbb61f63ca371923c7f06949129f2\","
    "\"sig\":\""
    "99b34213e28104c65477ca3f12bb76ba7334b74395faa2533f3cb4e872fe089c"
    "1b6bb8b1cf361a07fa0842848f880d44f1bdd6b85e985dd1e2765acdad837105\"}";
static const char LINE2[] = "{\"seq\":2,\"last_event\":3,\"head\":\""
    "270a739ab532ec1173a4006195429dbf01f164e6eb63aa4e45101c79ba461244\","
    "\"at\":1700000300,\"prev\":\""
    "cf58288296875e25821c25a6b9c573f6efc8053b038812f51faf82fab6e1a4e0\","
    "\"key\":\""
    "9732d9d2b11836d3506a43574e323e6db7bbbb61f63ca371923c7f06949129f2\","
    "\"sig\":\""
    "f3c486c475f334156af0b27f03910e4f73c1e860e178e47858c84dce153e3af3"
    "8ebde109b1f4e9e78106f0fca360981a246718d43dfd09c03e26fb9823a5a101\"}";
static const char MSG1[] = "{\"seq\":1,\"last_event\":2,\"head\":\""
    "8ed583b4f06e3e602705d7d3bada4bdc1eed333eae06bcc83ebfa86065b24d4b\","
    "\"at\":1700000000,\"prev\":\""
    "0000000000000000000000000000000000000000000000000000000000000000\"}";
static const char *const TEXTS[] = { "[1, \"a\"]", "[2, \"b\"]",
    "[3, \"c\"]" };

static void	unhex(const char *, uint8_t *, size_t);
static void	key_from_seed(struct pc_ckpt_key *, const char *);
static char	*pem_file(const struct pc_ckpt_key *, int, mode_t);
static FILE	*lines_file(const char *const *, size_t);
static int	read_lines(const char *const *, size_t, struct pc_ckpt_key *,
		    int64_t *, char *);

static void
unhex(const char *s, uint8_t *out, size_t len)
{
	size_t		i;
	unsigned int	b;

	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* The key under test, written as PEM and read back through the loader. */
static void
key_from_seed(struct pc_ckpt_key *k, const char *seed)
{
	struct pc_ckpt_key	raw;
	uint8_t			s[32];
	char			*path, err[256];

	unhex(seed, s, sizeof(s));
	raw.pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, s,
	    sizeof(s));
	assert_non_null(raw.pkey);
	path = pem_file(&raw, 1, 0600);
	EVP_PKEY_free(raw.pkey);
	if (pc_ckpt_key_load(k, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	(void)unlink(path);
	free(path);
}

/* A temporary PEM file of k (private or public) with the given mode. */
static char *
pem_file(const struct pc_ckpt_key *k, int private, mode_t mode)
{
	char	*path;
	FILE	*f;
	int	 fd;

	path = strdup("/tmp/test_ckpt.XXXXXX");
	assert_non_null(path);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	if (private)
		assert_int_equal(PEM_write_PKCS8PrivateKey(f, k->pkey, NULL,
		    NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_PUBKEY(f, k->pkey), 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return (path);
}

static FILE *
lines_file(const char *const *lines, size_t n)
{
	FILE	*f;
	size_t	 i;

	assert_non_null(f = tmpfile());
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	rewind(f);
	return (f);
}

static int
read_lines(const char *const *lines, size_t n, struct pc_ckpt_key *k,
    int64_t *bad, char *why)
{
	struct pc_ckpt_list	 l;
	FILE			*f;
	int			 rc;

	f = lines_file(lines, n);
	rc = pc_ckpt_read(f, k, &l, bad, why, PC_CKPT_WHY_MAX);
	fclose(f);
	pc_ckpt_list_free(&l);
	return (rc);
}

/* The message and the line as openssl and hashlib made them. */
static void
test_sign_matches_openssl(void **state)
{
	struct pc_ckpt_key	k;
	struct pc_ckpt		c, p;
	char			buf[PC_CKPT_LINE_MAX];
	int			n;

	(void)state;
	key_from_seed(&k, SEED);
	assert_int_equal(pc_ckpt_parse(&p, LINE1, strlen(LINE1)), 0);
	memset(&c, 0, sizeof(c));
	c.seq = 1;
	c.last_event = 2;
	c.at = 1700000000;
	memcpy(c.head, p.head, sizeof(c.head));
	n = pc_ckpt_message(&c, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(MSG1));
	assert_string_equal(buf, MSG1);
	assert_int_equal(pc_ckpt_sign(&c, &k), 0);
	assert_int_equal(pc_ckpt_line(&c, buf, sizeof(buf)),
	    (int)strlen(LINE1));
	assert_string_equal(buf, LINE1);

	/* The next one links to it. */
	assert_int_equal(pc_ckpt_parse(&p, LINE2, strlen(LINE2)), 0);
	memset(&c.sig, 0, sizeof(c.sig));
	assert_int_equal(pc_ckpt_digest(&c, c.prev), 0);
	assert_memory_equal(c.prev, p.prev, sizeof(c.prev));
	c.seq = 2;
	c.last_event = 3;
	c.at = 1700000300;
	memcpy(c.head, p.head, sizeof(c.head));
	assert_int_equal(pc_ckpt_sign(&c, &k), 0);
	assert_int_equal(pc_ckpt_line(&c, buf, sizeof(buf)),
	    (int)strlen(LINE2));
	assert_string_equal(buf, LINE2);
	pc_ckpt_key_free(&k);
	assert_null(k.pkey);
}

/* Anything but the canonical form is refused. */
static void
test_parse_canonical_only(void **state)
{
	static const struct {
		const char	*from, *to;
	} edits[] = {
		{ "{\"seq\":1,", "{\"seq\":01," },
		{ "{\"seq\":1,", "{\"seq\":+1," },
		{ "{\"seq\":1,", "{\"seq\": 1," },
		{ "{\"seq\":1,", "{\"seq\":0," },
		{ "{\"seq\":1,", "{\"seq\":-1," },
		{ "\"last_event\":2,", "\"last_event\":-2," },
		{ "\"head\":\"8e", "\"head\":\"8E" },
		{ "\"head\":\"8e", "\"head\":\"8" },
		{ "\"at\":1700000000,", "\"at\":1700000000.0," },
		{ "\"key\":", "\"kid\":" },
		{ "05\"}", "05\",\"x\":1}" },
		{ "05\"}", "05\"} " },
		{ "05\"}", "05\"}\n" },
		{ "{\"seq\":1,\"last_event\":2,",
		  "{\"last_event\":2,\"seq\":1," },
	};
	struct pc_ckpt	c;
	char		buf[PC_CKPT_LINE_MAX * 2];
	const char	*at;
	size_t		i, pre;

	(void)state;
	assert_int_equal(pc_ckpt_parse(&c, LINE1, strlen(LINE1)), 0);
	assert_int_equal(c.seq, 1);
	assert_int_equal(c.last_event, 2);
	assert_int_equal(c.at, 1700000000);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		assert_non_null(at = strstr(LINE1, edits[i].from));
		pre = (size_t)(at - LINE1);
		(void)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, LINE1,
		    edits[i].to, at + strlen(edits[i].from));
		if (pc_ckpt_parse(&c, buf, strlen(buf)) != -1)
			fail_msg("accepted: %s", buf);
	}
	/* A NUL inside, and a length short by one. */
	memcpy(buf, LINE1, sizeof(LINE1));
	buf[10] = '\0';
	assert_int_equal(pc_ckpt_parse(&c, buf, strlen(LINE1)), -1);
	assert_int_equal(pc_ckpt_parse(&c, LINE1, strlen(LINE1) - 1), -1);
}

static void
test_verify(void **state)
{
	struct pc_ckpt_key	k, other;
	struct pc_ckpt		c;

	(void)state;
	key_from_seed(&k, SEED);
	key_from_seed(&other, OTHER_SEED);
	assert_int_equal(pc_ckpt_parse(&c, LINE1, strlen(LINE1)), 0);
	assert_int_equal(pc_ckpt_verify(&c, &k), 0);
	assert_int_equal(pc_ckpt_verify(&c, &other), -1);
	c.last_event = 1;
	assert_int_equal(pc_ckpt_verify(&c, &k), -1);
	c.last_event = 2;
	c.head[31] ^= 1;
	assert_int_equal(pc_ckpt_verify(&c, &k), -1);
	c.head[31] ^= 1;
	c.sig[0] ^= 1;
	assert_int_equal(pc_ckpt_verify(&c, &k), -1);
	/* Re-signed by another key: the fingerprint says so. */
	c.sig[0] ^= 1;
	assert_int_equal(pc_ckpt_sign(&c, &other), 0);
	assert_int_equal(pc_ckpt_verify(&c, &k), -1);
	assert_int_equal(pc_ckpt_verify(&c, &other), 0);
	pc_ckpt_key_free(&k);
	pc_ckpt_key_free(&other);
}

/* The file: the first bad sequence, and why. */
static void
test_read_file(void **state)
{
	struct pc_ckpt_key	 k, other;
	struct pc_ckpt		 c;
	const char		*ok[] = { LINE1, LINE2 };
	const char		*swapped[] = { LINE2, LINE1 };
	const char		*twice[] = { LINE1, LINE1 };
	const char		*gap[] = { LINE2 };
	const char		*forged[] = { LINE1, NULL };
	char			 buf[PC_CKPT_LINE_MAX];
	char			 why[PC_CKPT_WHY_MAX];
	int64_t			 bad;

	(void)state;
	key_from_seed(&k, SEED);
	key_from_seed(&other, OTHER_SEED);
	assert_int_equal(read_lines(ok, 2, &k, &bad, why), 0);
	assert_int_equal(read_lines(ok, 2, &other, &bad, why), -1);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "signed with another key");
	assert_int_equal(read_lines(swapped, 2, &k, &bad, why), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(read_lines(twice, 2, &k, &bad, why), -1);
	assert_int_equal(bad, 2);
	assert_string_equal(why, "repeated or out of order");
	assert_int_equal(read_lines(gap, 1, &k, &bad, why), -1);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "missing (the next line skips it)");
	assert_int_equal(read_lines(ok, 0, &k, &bad, why), -1);
	assert_int_equal(bad, 1);

	/* A field changed, then the same re-signed by another key. */
	assert_int_equal(pc_ckpt_parse(&c, LINE2, strlen(LINE2)), 0);
	c.at++;
	assert_true(pc_ckpt_line(&c, buf, sizeof(buf)) > 0);
	forged[1] = buf;
	assert_int_equal(read_lines(forged, 2, &k, &bad, why), -1);
	assert_int_equal(bad, 2);
	assert_string_equal(why, "bad signature (forged or altered)");
	assert_int_equal(pc_ckpt_sign(&c, &other), 0);
	assert_true(pc_ckpt_line(&c, buf, sizeof(buf)) > 0);
	assert_int_equal(read_lines(forged, 2, &k, &bad, why), -1);
	assert_int_equal(bad, 2);
	assert_string_equal(why, "signed with another key");
	/* Signed by the right key but not linked to checkpoint 1. */
	c.at--;
	c.prev[0] ^= 1;
	assert_int_equal(pc_ckpt_sign(&c, &k), 0);
	assert_true(pc_ckpt_line(&c, buf, sizeof(buf)) > 0);
	assert_int_equal(read_lines(forged, 2, &k, &bad, why), -1);
	assert_int_equal(bad, 2);
	assert_string_equal(why, "prev is not the previous checkpoint's "
	    "digest");
	pc_ckpt_key_free(&k);
	pc_ckpt_key_free(&other);
}

/* The chain against the heads: untouched, altered, truncated, gone. */
static void
test_walk(void **state)
{
	struct pc_ckpt_list	l;
	struct pc_ckpt_walk	w;
	struct pc_ckpt		v[2];
	uint8_t			zero[PC_CKPT_HASH_LEN];
	int64_t			i;

	(void)state;
	memset(zero, 0, sizeof(zero));
	assert_int_equal(pc_ckpt_parse(&v[0], LINE1, strlen(LINE1)), 0);
	assert_int_equal(pc_ckpt_parse(&v[1], LINE2, strlen(LINE2)), 0);
	l.v = v;
	l.n = 2;

	pc_ckpt_walk_init(&w, &l, 0, zero);
	for (i = 0; i < 3; i++)
		assert_int_equal(pc_ckpt_walk_event(&w, i + 1, TEXTS[i],
		    strlen(TEXTS[i])), 0);
	assert_int_equal(pc_ckpt_walk_end(&w), 0);
	assert_int_equal(w.last, 3);

	/* Event 3 rewritten: checkpoint 2 is the first bad one. */
	pc_ckpt_walk_init(&w, &l, 0, zero);
	assert_int_equal(pc_ckpt_walk_event(&w, 1, TEXTS[0], 8), 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 2, TEXTS[1], 8), 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 3, TEXTS[0], 8), -1);
	assert_int_equal(w.bad, 2);
	assert_non_null(strstr(w.why, "differs"));

	/* Event 1 rewritten: checkpoint 1. */
	pc_ckpt_walk_init(&w, &l, 0, zero);
	assert_int_equal(pc_ckpt_walk_event(&w, 1, TEXTS[1], 8), 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 2, TEXTS[1], 8), -1);
	assert_int_equal(w.bad, 1);

	/* The tail cut after event 2: checkpoint 2 names event 3. */
	pc_ckpt_walk_init(&w, &l, 0, zero);
	assert_int_equal(pc_ckpt_walk_event(&w, 1, TEXTS[0], 8), 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 2, TEXTS[1], 8), 0);
	assert_int_equal(pc_ckpt_walk_end(&w), -1);
	assert_int_equal(w.bad, 2);
	assert_string_equal(w.why, "event 3 is missing (the trail ends at "
	    "event 2: truncated or rolled back)");

	/* Event 2 deleted: checkpoint 1's event is skipped over. */
	pc_ckpt_walk_init(&w, &l, 0, zero);
	assert_int_equal(pc_ckpt_walk_event(&w, 1, TEXTS[0], 8), 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 3, TEXTS[2], 8), -1);
	assert_int_equal(w.bad, 1);
	assert_non_null(strstr(w.why, "event 2 is missing"));

	/* Purged through event 2 with its hash as the anchor. */
	pc_ckpt_walk_init(&w, &l, 2, v[0].head);
	assert_int_equal(w.skipped, 0);
	assert_int_equal(pc_ckpt_walk_event(&w, 3, TEXTS[2], 8), 0);
	assert_int_equal(pc_ckpt_walk_end(&w), 0);
	pc_ckpt_walk_init(&w, &l, 3, v[1].head);
	assert_int_equal(w.skipped, 1);
	assert_int_equal(pc_ckpt_walk_end(&w), 0);
}

/* Key files: mode, kind, and the keygen's output read back. */
static void
test_key_files(void **state)
{
	struct pc_ckpt_key	 k, g, pub;
	struct pc_ckpt		 c;
	char			*path, err[256];
	char			 out[] = "/tmp/test_ckpt.XXXXXX";
	FILE			*f;
	int			 fd;

	(void)state;
	key_from_seed(&k, SEED);
	path = pem_file(&k, 1, 0640);
	assert_int_equal(pc_ckpt_key_load(&g, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable or writable by group"));
	(void)unlink(path);
	free(path);
	/* A public key is not a signing key, and the reverse works. */
	path = pem_file(&k, 0, 0600);
	assert_int_equal(pc_ckpt_key_load(&g, path, err, sizeof(err)), -1);
	assert_int_equal(pc_ckpt_pubkey_load(&pub, path, err, sizeof(err)),
	    0);
	assert_memory_equal(pub.fpr, k.fpr, sizeof(k.fpr));
	assert_int_equal(pc_ckpt_parse(&c, LINE1, strlen(LINE1)), 0);
	assert_int_equal(pc_ckpt_verify(&c, &pub), 0);
	pc_ckpt_key_free(&pub);
	(void)unlink(path);
	free(path);

	/* keygen: a new 0600 file, never over an old one. */
	assert_true((fd = mkstemp(out)) != -1);
	close(fd);
	assert_int_equal(pc_ckpt_key_generate(&g), 0);
	assert_non_null(f = tmpfile());
	assert_int_equal(pc_ckpt_key_write(&g, out, f, err, sizeof(err)), -1);
	(void)unlink(out);
	assert_int_equal(pc_ckpt_key_write(&g, out, f, err, sizeof(err)), 0);
	pc_ckpt_key_free(&k);
	assert_int_equal(pc_ckpt_key_load(&k, out, err, sizeof(err)), 0);
	assert_memory_equal(k.fpr, g.fpr, sizeof(k.fpr));
	c.seq = 7;
	assert_int_equal(pc_ckpt_sign(&c, &k), 0);
	assert_int_equal(pc_ckpt_verify(&c, &g), 0);
	fclose(f);
	(void)unlink(out);
	pc_ckpt_key_free(&k);
	pc_ckpt_key_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_matches_openssl),
		cmocka_unit_test(test_parse_canonical_only),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_key_files),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
