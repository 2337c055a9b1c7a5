/*
 * ckpt.c: signed checkpoints of the audit chain (pure): the canonical
 * message and line (ckpt.h), Ed25519 through OpenSSL's EVP, and the
 * chain's link function for the offline verifier.
 */
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "errmsg.h"
#include "keyfile.h"

/* A PEM PKCS#8 Ed25519 key is 119 bytes; room for comments. */
#define CKPT_KEYFILE_MAX	4096

#define CKPT_MSG_FMT							\
	"{\"seq\":%" PRId64 ",\"last_event\":%" PRId64			\
	",\"head\":\"%s\",\"at\":%" PRId64 ",\"prev\":\"%s\""

static void	ckpt_hex(const uint8_t *, size_t, char *);
static int	ckpt_unhex(const char *, uint8_t *, size_t);
static int	ckpt_fingerprint(struct pc_ckpt_key *);
static int	ckpt_key_from_pem(struct pc_ckpt_key *, const char *, size_t,
		    int);
static int	ckpt_expect(const char **, const char *);
static int	ckpt_int(const char **, int64_t *);
static int	ckpt_qhex(const char **, uint8_t *, size_t);
static const char *ckpt_check_line(const struct pc_ckpt *,
		    const struct pc_ckpt *, int64_t,
		    const struct pc_ckpt_key *);
static int	ckpt_walk_fail(struct pc_ckpt_walk *, const struct pc_ckpt *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	ckpt_walk_settle(struct pc_ckpt_walk *);

/* len bytes as 2 * len lower-case hex digits and a NUL. */
static void
ckpt_hex(const uint8_t *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* Exactly 2 * len lower-case hex digits into out. 0 or -1. */
static int
ckpt_unhex(const char *s, uint8_t *out, size_t len)
{
	size_t		i;
	int		hi, lo;

	if (strlen(s) != 2 * len)
		return (-1);
	for (i = 0; i < 2 * len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return (-1);
	}
	for (i = 0; i < len; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return (0);
}

/* SHA-256 of the DER SubjectPublicKeyInfo, as openssl would give it. */
static int
ckpt_fingerprint(struct pc_ckpt_key *k)
{
	unsigned char	*der;
	unsigned int	 mdlen;
	int		 len, rc;

	der = NULL;
	if ((len = i2d_PUBKEY(k->pkey, &der)) <= 0)
		return (-1);
	rc = EVP_Digest(der, (size_t)len, k->fpr, &mdlen, EVP_sha256(),
	    NULL) == 1 && mdlen == PC_CKPT_HASH_LEN ? 0 : -1;
	OPENSSL_free(der);
	return (rc);
}

/* PEM text into k: a private key (private = 1) or a public one. */
static int
ckpt_key_from_pem(struct pc_ckpt_key *k, const char *pem, size_t len,
    int private)
{
	BIO		*bio;

	memset(k, 0, sizeof(*k));
	if (len > INT32_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return (-1);
	k->pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k->pkey == NULL || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519 ||
	    ckpt_fingerprint(k) == -1) {
		pc_ckpt_key_free(k);
		return (-1);
	}
	return (0);
}

int
pc_ckpt_key_load(struct pc_ckpt_key *k, const char *path, char *err,
    size_t errlen)
{
	char		buf[CKPT_KEYFILE_MAX];
	size_t		len;
	int		rc;

	memset(k, 0, sizeof(*k));
	if (pc_keyfile_read(path, buf, sizeof(buf), &len, err, errlen) == -1)
		return (-1);
	/* No passphrase callback: an encrypted key fails, never prompts. */
	rc = ckpt_key_from_pem(k, buf, len, 1);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1)
		pc_errmsg(err, errlen, "key file %s is not an unencrypted PEM "
		    "PKCS#8 Ed25519 private key", path);
	return (rc);
}

int
pc_ckpt_pubkey_load(struct pc_ckpt_key *k, const char *path, char *err,
    size_t errlen)
{
	char		buf[CKPT_KEYFILE_MAX];
	FILE		*f;
	size_t		len;

	memset(k, 0, sizeof(*k));
	if ((f = fopen(path, "r")) == NULL) {
		pc_errmsg(err, errlen, "%s: cannot be read", path);
		return (-1);
	}
	len = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	if (len == sizeof(buf) || ckpt_key_from_pem(k, buf, len, 0) == -1) {
		pc_errmsg(err, errlen, "%s is not a PEM Ed25519 public key",
		    path);
		return (-1);
	}
	return (0);
}

int
pc_ckpt_key_generate(struct pc_ckpt_key *k)
{
	memset(k, 0, sizeof(*k));
	if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    ckpt_fingerprint(k) == -1) {
		pc_ckpt_key_free(k);
		return (-1);
	}
	return (0);
}

/* EVP_PKEY_free() cleanses the private key's bytes. */
void
pc_ckpt_key_free(struct pc_ckpt_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	OPENSSL_cleanse(k->fpr, sizeof(k->fpr));
}

int
pc_ckpt_message(const struct pc_ckpt *c, char *buf, size_t len)
{
	char		head[2 * PC_CKPT_HASH_LEN + 1];
	char		prev[2 * PC_CKPT_HASH_LEN + 1];
	int		n;

	if (c->seq < 1 || c->last_event < 0 || c->at < 0)
		return (-1);
	ckpt_hex(c->head, sizeof(c->head), head);
	ckpt_hex(c->prev, sizeof(c->prev), prev);
	n = snprintf(buf, len, CKPT_MSG_FMT "}", c->seq, c->last_event, head,
	    c->at, prev);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (n);
}

int
pc_ckpt_line(const struct pc_ckpt *c, char *buf, size_t len)
{
	char		msg[PC_CKPT_MSG_MAX];
	char		key[2 * PC_CKPT_HASH_LEN + 1];
	char		sig[2 * PC_CKPT_SIG_LEN + 1];
	int		n;

	/* The message without its closing brace, then key and sig. */
	if ((n = pc_ckpt_message(c, msg, sizeof(msg))) == -1)
		return (-1);
	msg[n - 1] = '\0';
	ckpt_hex(c->key, sizeof(c->key), key);
	ckpt_hex(c->sig, sizeof(c->sig), sig);
	n = snprintf(buf, len, "%s,\"key\":\"%s\",\"sig\":\"%s\"}", msg, key,
	    sig);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (n);
}

/* The literal lit at *p, then past it. 0 or -1. */
static int
ckpt_expect(const char **p, const char *lit)
{
	size_t	len = strlen(lit);

	if (strncmp(*p, lit, len) != 0)
		return (-1);
	*p += len;
	return (0);
}

/* Decimal digits at *p (the canonical check comes after). 0 or -1. */
static int
ckpt_int(const char **p, int64_t *v)
{
	char		*end;
	long long	 n;

	if (**p < '0' || **p > '9')
		return (-1);
	errno = 0;
	n = strtoll(*p, &end, 10);
	if (errno != 0)
		return (-1);
	*v = (int64_t)n;
	*p = end;
	return (0);
}

/* len bytes as quoted hex at *p. 0 or -1. */
static int
ckpt_qhex(const char **p, uint8_t *out, size_t len)
{
	char	hex[2 * PC_CKPT_SIG_LEN + 1];

	if (len > PC_CKPT_SIG_LEN || strlen(*p) < 2 * len + 1)
		return (-1);
	memcpy(hex, *p, 2 * len);
	hex[2 * len] = '\0';
	if (ckpt_unhex(hex, out, len) == -1)
		return (-1);
	*p += 2 * len;
	return (ckpt_expect(p, "\""));
}

int
pc_ckpt_parse(struct pc_ckpt *c, const char *line, size_t len)
{
	char		 in[PC_CKPT_LINE_MAX], again[PC_CKPT_LINE_MAX];
	const char	*p;
	int		 n;

	memset(c, 0, sizeof(*c));
	if (len >= sizeof(in) || memchr(line, '\0', len) != NULL)
		return (-1);
	memcpy(in, line, len);
	in[len] = '\0';
	p = in;
	if (ckpt_expect(&p, "{\"seq\":") == -1 || ckpt_int(&p, &c->seq) == -1 ||
	    ckpt_expect(&p, ",\"last_event\":") == -1 ||
	    ckpt_int(&p, &c->last_event) == -1 ||
	    ckpt_expect(&p, ",\"head\":\"") == -1 ||
	    ckpt_qhex(&p, c->head, sizeof(c->head)) == -1 ||
	    ckpt_expect(&p, ",\"at\":") == -1 || ckpt_int(&p, &c->at) == -1 ||
	    ckpt_expect(&p, ",\"prev\":\"") == -1 ||
	    ckpt_qhex(&p, c->prev, sizeof(c->prev)) == -1 ||
	    ckpt_expect(&p, ",\"key\":\"") == -1 ||
	    ckpt_qhex(&p, c->key, sizeof(c->key)) == -1 ||
	    ckpt_expect(&p, ",\"sig\":\"") == -1 ||
	    ckpt_qhex(&p, c->sig, sizeof(c->sig)) == -1 ||
	    ckpt_expect(&p, "}") == -1 || *p != '\0')
		goto bad;
	/* Only the canonical form: what we would write, byte for byte. */
	if ((n = pc_ckpt_line(c, again, sizeof(again))) == -1 ||
	    (size_t)n != len || memcmp(again, in, len) != 0)
		goto bad;
	return (0);
bad:
	memset(c, 0, sizeof(*c));
	return (-1);
}

int
pc_ckpt_digest(const struct pc_ckpt *c, uint8_t out[PC_CKPT_HASH_LEN])
{
	char		msg[PC_CKPT_MSG_MAX];
	unsigned int	mdlen;
	int		n;

	if ((n = pc_ckpt_message(c, msg, sizeof(msg))) == -1)
		return (-1);
	if (EVP_Digest(msg, (size_t)n, out, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != PC_CKPT_HASH_LEN)
		return (-1);
	return (0);
}

int
pc_ckpt_sign(struct pc_ckpt *c, const struct pc_ckpt_key *k)
{
	EVP_MD_CTX	*md;
	char		msg[PC_CKPT_MSG_MAX];
	size_t		siglen;
	int		n, rc;

	if (k->pkey == NULL || (n = pc_ckpt_message(c, msg,
	    sizeof(msg))) == -1 || (md = EVP_MD_CTX_new()) == NULL)
		return (-1);
	siglen = sizeof(c->sig);
	rc = EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(md, c->sig, &siglen, (const unsigned char *)msg,
	    (size_t)n) == 1 && siglen == PC_CKPT_SIG_LEN ? 0 : -1;
	EVP_MD_CTX_free(md);
	memcpy(c->key, k->fpr, sizeof(c->key));
	return (rc);
}

int
pc_ckpt_verify(const struct pc_ckpt *c, const struct pc_ckpt_key *k)
{
	EVP_MD_CTX	*md;
	char		msg[PC_CKPT_MSG_MAX];
	int		n, rc;

	if (k->pkey == NULL || CRYPTO_memcmp(c->key, k->fpr,
	    sizeof(c->key)) != 0 || (n = pc_ckpt_message(c, msg,
	    sizeof(msg))) == -1 || (md = EVP_MD_CTX_new()) == NULL)
		return (-1);
	rc = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(md, c->sig, sizeof(c->sig),
	    (const unsigned char *)msg, (size_t)n) == 1 ? 0 : -1;
	EVP_MD_CTX_free(md);
	return (rc);
}

int
pc_ckpt_chain_step(uint8_t h[PC_CKPT_HASH_LEN], const void *text,
    size_t len)
{
	EVP_MD_CTX	*md;
	unsigned int	 mdlen;
	int		 rc;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return (-1);
	rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, h, PC_CKPT_HASH_LEN) == 1 &&
	    EVP_DigestUpdate(md, text, len) == 1 &&
	    EVP_DigestFinal_ex(md, h, &mdlen) == 1 &&
	    mdlen == PC_CKPT_HASH_LEN ? 0 : -1;
	EVP_MD_CTX_free(md);
	return (rc);
}

int
pc_ckpt_key_write(const struct pc_ckpt_key *k, const char *path, FILE *out,
    char *err, size_t errlen)
{
	BIO		*mem;
	char		*pem;
	long		 len;
	ssize_t		 w;
	size_t		 off;
	int		 fd, rc;

	if ((mem = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(mem, k->pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(mem, &pem)) <= 0) {
		BIO_free(mem);
		pc_errmsg(err, errlen, "the key cannot be encoded");
		return (-1);
	}
	rc = -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		pc_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (off = 0; off < (size_t)len; off += (size_t)w) {
		if ((w = write(fd, pem + off, (size_t)len - off)) <= 0) {
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			break;
		}
	}
	if (off != (size_t)len || fsync(fd) == -1) {
		pc_errmsg(err, errlen, "%s: cannot be written", path);
		close(fd);
		(void)unlink(path);
		goto out;
	}
	close(fd);
	if (PEM_write_PUBKEY(out, k->pkey) != 1) {
		pc_errmsg(err, errlen, "the public key cannot be written");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(pem, (size_t)len);
	BIO_free(mem);
	return (rc);
}

/* Line by line: the checks of one checkpoint against the one before. */
static const char *
ckpt_check_line(const struct pc_ckpt *c, const struct pc_ckpt *before,
    int64_t want, const struct pc_ckpt_key *k)
{
	uint8_t		prev[PC_CKPT_HASH_LEN];

	if (c->seq < want)
		return ("repeated or out of order");
	if (c->seq > want)
		return ("missing (the next line skips it)");
	if (CRYPTO_memcmp(c->key, k->fpr, sizeof(c->key)) != 0)
		return ("signed with another key");
	if (pc_ckpt_verify(c, k) == -1)
		return ("bad signature (forged or altered)");
	if (before == NULL) {
		memset(prev, 0, sizeof(prev));
	} else if (pc_ckpt_digest(before, prev) == -1)
		return ("the previous checkpoint cannot be digested");
	if (memcmp(prev, c->prev, sizeof(prev)) != 0)
		return ("prev is not the previous checkpoint's digest");
	if (before != NULL && c->last_event < before->last_event)
		return ("its last event goes back");
	return (NULL);
}

int
pc_ckpt_read(FILE *f, const struct pc_ckpt_key *k, struct pc_ckpt_list *l,
    int64_t *bad, char *why, size_t whylen)
{
	char			 line[PC_CKPT_LINE_MAX + 2];
	struct pc_ckpt		 c, *v;
	const char		*reason;
	size_t			 len, cap;

	memset(l, 0, sizeof(*l));
	cap = 0;
	*bad = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		reason = NULL;
		if (len == 0 || line[len - 1] != '\n')
			reason = "a line that is cut or too long";
		else if (pc_ckpt_parse(&c, line, len - 1) == -1)
			reason = "a line not in the canonical form";
		else
			reason = ckpt_check_line(&c, l->n ? &l->v[l->n - 1] :
			    NULL, (int64_t)l->n + 1, k);
		if (reason != NULL) {
			*bad = (int64_t)l->n + 1;
			pc_errmsg(why, whylen, "%s", reason);
			return (-1);
		}
		if (l->n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL) {
				*bad = (int64_t)l->n + 1;
				pc_errmsg(why, whylen, "out of memory");
				return (-1);
			}
			l->v = v;
		}
		l->v[l->n++] = c;
	}
	if (ferror(f)) {
		*bad = (int64_t)l->n + 1;
		pc_errmsg(why, whylen, "the file cannot be read");
		return (-1);
	}
	if (l->n == 0) {
		*bad = 1;
		pc_errmsg(why, whylen, "the file holds no checkpoint");
		return (-1);
	}
	return (0);
}

void
pc_ckpt_list_free(struct pc_ckpt_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
ckpt_walk_fail(struct pc_ckpt_walk *w, const struct pc_ckpt *c,
    const char *fmt, ...)
{
	va_list		ap;

	w->bad = c->seq;
	va_start(ap, fmt);
	(void)vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	return (-1);
}

/* Every checkpoint the walk has reached: compared, or its event gone. */
static int
ckpt_walk_settle(struct pc_ckpt_walk *w)
{
	const struct pc_ckpt	*c;

	for (; w->next < w->l->n; w->next++) {
		c = &w->l->v[w->next];
		if (c->last_event > w->last)
			break;
		if (c->last_event < w->last)
			return (ckpt_walk_fail(w, c, "event %" PRId64 " is "
			    "missing (the trail skips from it to event %"
			    PRId64 ")", c->last_event, w->last));
		if (memcmp(c->head, w->h, sizeof(w->h)) != 0)
			return (ckpt_walk_fail(w, c, "the chain recomputed to "
			    "event %" PRId64 " differs from the signed head "
			    "(an event up to it was changed, removed or "
			    "rolled back)", c->last_event));
	}
	return (0);
}

void
pc_ckpt_walk_init(struct pc_ckpt_walk *w, const struct pc_ckpt_list *l,
    int64_t anchor_event, const uint8_t anchor[PC_CKPT_HASH_LEN])
{
	memset(w, 0, sizeof(*w));
	w->l = l;
	w->last = anchor_event;
	memcpy(w->h, anchor, sizeof(w->h));
	/* Before the retention anchor, the events are gone by design. */
	while (w->next < l->n && l->v[w->next].last_event < anchor_event) {
		w->next++;
		w->skipped++;
	}
}

int
pc_ckpt_walk_event(struct pc_ckpt_walk *w, int64_t id, const void *text,
    size_t len)
{
	if (ckpt_walk_settle(w) == -1)
		return (-1);
	if (id <= w->last) {
		w->bad = w->next < w->l->n ? w->l->v[w->next].seq : 0;
		(void)snprintf(w->why, sizeof(w->why), "event %" PRId64
		    " comes out of order", id);
		return (-1);
	}
	if (pc_ckpt_chain_step(w->h, text, len) == -1) {
		w->bad = w->next < w->l->n ? w->l->v[w->next].seq : 0;
		(void)snprintf(w->why, sizeof(w->why), "SHA-256 failed");
		return (-1);
	}
	w->last = id;
	return (ckpt_walk_settle(w));
}

int
pc_ckpt_walk_end(struct pc_ckpt_walk *w)
{
	const struct pc_ckpt	*c;

	if (ckpt_walk_settle(w) == -1)
		return (-1);
	if (w->next < w->l->n) {
		c = &w->l->v[w->next];
		return (ckpt_walk_fail(w, c, "event %" PRId64 " is missing "
		    "(the trail ends at event %" PRId64 ": truncated or "
		    "rolled back)", c->last_event, w->last));
	}
	return (0);
}
