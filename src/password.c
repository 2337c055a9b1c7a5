/*
 * password.c: argon2id hashing and the password policy (pure).
 *
 * Policy (PCI DSS 8.3.6, NIST SP 800-63B): 12..128 code points of valid
 * UTF-8, at least one letter and one digit, not a common password (also
 * once digits and punctuation around it are taken off), and not
 * containing the username.
 */
#include <sys/types.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common_passwords.h"
#include "password.h"
#include "wipe.h"

#define PASSWORD_SALT_LEN	16
#define PASSWORD_HASH_LEN	32
#define PASSWORD_DUMMY_PW_LEN	32
#define PASSWORD_DUMMY_SLOTS	4
#define PASSWORD_USER_MIN	3
/* Largest byte length PC_PASSWORD_MAX code points can take. */
#define PASSWORD_BUF_MAX	(PC_PASSWORD_MAX * 4)

/* What password_parse() found in an encoded "$argon2id$v=19$..." string. */
struct password_encoded {
	uint32_t	m;
	uint32_t	t;
	uint32_t	p;
	size_t		saltlen;	/* decoded bytes */
	size_t		hashlen;	/* decoded bytes */
};

struct password_dummy {
	int			used;
	struct pc_argon2_params	prm;
	char			enc[PC_PASSWORD_HASH_MAX];
};

static int	password_utf8_next(const unsigned char *, size_t, size_t *,
		    uint32_t *);
static int	password_is_common(const char *, size_t);
static int	password_in_list(const char *);
static int	password_list_cmp(const void *, const void *);
static int	password_is_strip(unsigned char);
static unsigned char	password_lower(unsigned char);
static int	password_contains_user(const char *, size_t, const char *);
static int	password_parse(const char *, struct password_encoded *);
static const char	*password_parse_num(const char *, uint32_t *);
static const char	*password_parse_b64(const char *, size_t *);

/*
 * Unknown usernames must cost one argon2 run too. The dummy hashes are
 * made under a mutex on first use for each parameter set (the server asks
 * once at start-up) and never change afterwards, so the pointers handed
 * out stay valid and stable from any thread.
 */
static pthread_mutex_t		password_dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct password_dummy	password_dummies[PASSWORD_DUMMY_SLOTS];

enum pc_password_verdict
pc_password_check(const char *pw, size_t len, const char *username)
{
	const unsigned char	*p = (const unsigned char *)pw;
	size_t			 off, cps;
	uint32_t		 cp;
	int			 letter, digit;

	if (pw == NULL)
		return (len == 0 ? PC_PASSWORD_TOO_SHORT :
		    PC_PASSWORD_INVALID_UTF8);

	cps = 0;
	letter = digit = 0;
	for (off = 0; off < len; cps++) {
		if (password_utf8_next(p, len, &off, &cp) == -1)
			return (PC_PASSWORD_INVALID_UTF8);
		if (cp >= 0x80 ||
		    (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			letter = 1;	/* scripts without case count too */
		else if (cp >= '0' && cp <= '9')
			digit = 1;
	}

	if (cps < PC_PASSWORD_MIN)
		return (PC_PASSWORD_TOO_SHORT);
	if (cps > PC_PASSWORD_MAX)
		return (PC_PASSWORD_TOO_LONG);
	if (!letter)
		return (PC_PASSWORD_NEEDS_LETTER);
	if (!digit)
		return (PC_PASSWORD_NEEDS_DIGIT);
	if (password_is_common(pw, len))
		return (PC_PASSWORD_COMMON);
	if (password_contains_user(pw, len, username))
		return (PC_PASSWORD_CONTAINS_USERNAME);

	return (PC_PASSWORD_OK);
}

/* The stable error code of each verdict, indexed by the enum. */
static const char *const password_verdict_codes[] = {
	[PC_PASSWORD_OK] = "ok",
	[PC_PASSWORD_TOO_SHORT] = "password_too_short",
	[PC_PASSWORD_TOO_LONG] = "password_too_long",
	[PC_PASSWORD_NEEDS_LETTER] = "password_needs_letter",
	[PC_PASSWORD_NEEDS_DIGIT] = "password_needs_digit",
	[PC_PASSWORD_COMMON] = "password_common",
	[PC_PASSWORD_CONTAINS_USERNAME] = "password_contains_username",
	[PC_PASSWORD_INVALID_UTF8] = "password_invalid_utf8",
};

const char *
pc_password_verdict_code(enum pc_password_verdict v)
{
	size_t	i = (size_t)v;

	/* Never "ok" for a value we do not know. */
	if (i >= sizeof(password_verdict_codes) /
	    sizeof(password_verdict_codes[0]) ||
	    password_verdict_codes[i] == NULL)
		return ("password_rejected");
	return (password_verdict_codes[i]);
}

int
pc_password_hash(const struct pc_argon2_params *prm, const char *pw,
    size_t len, char *out, size_t outlen)
{
	uint8_t		salt[PASSWORD_SALT_LEN];
	size_t		need;
	int		rc;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (prm == NULL || (pw == NULL && len != 0) ||
	    (uint64_t)len > ARGON2_MAX_PWD_LENGTH)
		return (-1);

	need = argon2_encodedlen(prm->t, prm->m_kib, prm->p,
	    PASSWORD_SALT_LEN, PASSWORD_HASH_LEN, Argon2_id);
	if (need == 0 || need > outlen)
		return (-1);

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return (-1);

	rc = argon2id_hash_encoded(prm->t, prm->m_kib, prm->p, pw, len,
	    salt, sizeof(salt), PASSWORD_HASH_LEN, out, outlen);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return (-1);
	}

	return (0);
}

int
pc_password_verify(const char *encoded, const char *pw, size_t len)
{
	struct password_encoded	enc;
	int			rc;

	if (encoded == NULL || (pw == NULL && len != 0) ||
	    (uint64_t)len > ARGON2_MAX_PWD_LENGTH)
		return (-1);

	/* Only what we write ourselves reaches libargon2's decoder. */
	if (password_parse(encoded, &enc) == -1)
		return (-1);

	rc = argon2id_verify(encoded, pw, len);
	if (rc == ARGON2_OK)
		return (1);
	if (rc == ARGON2_VERIFY_MISMATCH)
		return (0);

	return (-1);
}

int
pc_password_needs_rehash(const char *encoded,
    const struct pc_argon2_params *prm)
{
	struct password_encoded	enc;

	if (encoded == NULL || prm == NULL)
		return (1);
	if (password_parse(encoded, &enc) == -1)
		return (1);

	if (enc.m < prm->m_kib || enc.t < prm->t || enc.p < prm->p)
		return (1);
	if (enc.saltlen < PASSWORD_SALT_LEN || enc.hashlen < PASSWORD_HASH_LEN)
		return (1);

	return (0);
}

const char *
pc_password_dummy_hash(const struct pc_argon2_params *prm)
{
	struct password_dummy	*d, *spare;
	uint8_t			 pw[PASSWORD_DUMMY_PW_LEN];
	const char		*ret;
	size_t			 i;

	if (prm == NULL)
		return (NULL);

	ret = NULL;
	spare = NULL;
	pthread_mutex_lock(&password_dummy_lock);

	for (i = 0; i < PASSWORD_DUMMY_SLOTS; i++) {
		d = &password_dummies[i];
		if (!d->used) {
			if (spare == NULL)
				spare = d;
			continue;
		}
		if (d->prm.t == prm->t && d->prm.m_kib == prm->m_kib &&
		    d->prm.p == prm->p) {
			ret = d->enc;
			goto out;
		}
	}

	/* All slots taken: more parameter sets than any caller needs. */
	if (spare == NULL)
		goto out;

	/* A random password nobody knows: the dummy can never match. */
	if (RAND_bytes(pw, sizeof(pw)) != 1)
		goto out;
	if (pc_password_hash(prm, (const char *)pw, sizeof(pw),
	    spare->enc, sizeof(spare->enc)) == -1)
		goto out;

	spare->prm = *prm;
	spare->used = 1;
	ret = spare->enc;

out:
	pthread_mutex_unlock(&password_dummy_lock);
	OPENSSL_cleanse(pw, sizeof(pw));
	return (ret);
}

/*
 * Decode one code point at *off, strictly: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no NUL, no truncated sequence.
 */
static int
password_utf8_next(const unsigned char *s, size_t len, size_t *off,
    uint32_t *cpp)
{
	size_t		i = *off, n, k;
	uint32_t	cp, min;
	unsigned char	c = s[i];

	if (c == 0x00)
		return (-1);
	if (c < 0x80) {
		*cpp = c;
		*off = i + 1;
		return (0);
	}

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return (-1);	/* continuation, 0xc0/0xc1, 0xf5.. */
	}

	if (len - i - 1 < n)
		return (-1);
	for (k = 1; k <= n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return (-1);
		cp = (cp << 6) | (s[i + k] & 0x3f);
	}

	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (-1);

	*cpp = cp;
	*off = i + n + 1;
	return (0);
}

static unsigned char
password_lower(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A' + 'a');
	return (c);
}

/* Digits and ASCII punctuation people pad a common password with. */
static int
password_is_strip(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (1);
	if ((c >= 0x20 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) ||
	    (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e))
		return (1);
	return (0);
}

static int
password_list_cmp(const void *key, const void *elem)
{
	return (strcmp(key, *(const char *const *)elem));
}

static int
password_in_list(const char *s)
{
	if (*s == '\0')
		return (0);
	return (bsearch(s, pc_common_passwords, pc_common_passwords_count,
	    sizeof(pc_common_passwords[0]), password_list_cmp) != NULL);
}

/*
 * The lower-cased candidate, then its core without trailing digits and
 * punctuation, then also without leading ones: "Password123456" and
 * "qwertyuiop2024!" are as weak as the listed word itself.
 */
static int
password_is_common(const char *pw, size_t len)
{
	char		buf[PASSWORD_BUF_MAX + 1];
	size_t		i, end, start;
	int		hit;

	/* Callers checked the length; anything else is refused. */
	if (len > PASSWORD_BUF_MAX)
		return (1);

	for (i = 0; i < len; i++)
		buf[i] = (char)password_lower((unsigned char)pw[i]);
	buf[len] = '\0';

	hit = password_in_list(buf);

	end = len;
	while (!hit && end > 0 && password_is_strip((unsigned char)buf[end - 1]))
		end--;
	if (!hit && end < len) {
		buf[end] = '\0';
		hit = password_in_list(buf);
	}

	start = 0;
	while (!hit && start < end &&
	    password_is_strip((unsigned char)buf[start]))
		start++;
	if (!hit && start > 0)
		hit = password_in_list(buf + start);

	pc_wipe(buf, sizeof(buf));
	return (hit);
}

static int
password_contains_user(const char *pw, size_t len, const char *user)
{
	size_t		ulen, i, k;

	if (user == NULL)
		return (0);
	ulen = strlen(user);
	/* Very short names would refuse half the dictionary. */
	if (ulen < PASSWORD_USER_MIN || ulen > len)
		return (0);

	for (i = 0; i + ulen <= len; i++) {
		for (k = 0; k < ulen; k++) {
			if (password_lower((unsigned char)pw[i + k]) !=
			    password_lower((unsigned char)user[k]))
				break;
		}
		if (k == ulen)
			return (1);
	}

	return (0);
}

/* Decimal 1..UINT32_MAX without leading zeros. */
static const char *
password_parse_num(const char *s, uint32_t *v)
{
	uint64_t	n = 0;
	size_t		i;

	if (s[0] < '1' || s[0] > '9')
		return (NULL);
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 10)
			return (NULL);
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > UINT32_MAX)
		return (NULL);

	*v = (uint32_t)n;
	return (s + i);
}

/* Unpadded standard base64 as libargon2 writes it; *dlen decoded bytes. */
static const char *
password_parse_b64(const char *s, size_t *dlen)
{
	size_t		i;

	for (i = 0; (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
	    s[i] == '+' || s[i] == '/'; i++)
		;
	if (i == 0 || i % 4 == 1)
		return (NULL);

	*dlen = (i / 4) * 3 + (i % 4 == 0 ? 0 : i % 4 - 1);
	return (s + i);
}

/* Strictly "$argon2id$v=19$m=M,t=T,p=P$salt$hash", nothing before or after. */
static int
password_parse(const char *s, struct password_encoded *e)
{
	static const char	pfx[] = "$argon2id$v=19$m=";

	memset(e, 0, sizeof(*e));

	if (strncmp(s, pfx, sizeof(pfx) - 1) != 0)
		return (-1);
	s += sizeof(pfx) - 1;

	if ((s = password_parse_num(s, &e->m)) == NULL)
		return (-1);
	if (strncmp(s, ",t=", 3) != 0)
		return (-1);
	if ((s = password_parse_num(s + 3, &e->t)) == NULL)
		return (-1);
	if (strncmp(s, ",p=", 3) != 0)
		return (-1);
	if ((s = password_parse_num(s + 3, &e->p)) == NULL)
		return (-1);
	if (*s++ != '$')
		return (-1);
	if ((s = password_parse_b64(s, &e->saltlen)) == NULL)
		return (-1);
	if (*s++ != '$')
		return (-1);
	if ((s = password_parse_b64(s, &e->hashlen)) == NULL)
		return (-1);
	if (*s != '\0')
		return (-1);

	return (0);
}
