/*
 * jsonin.c: request bodies as JSON, strictly. Pure: no Kore header.
 *
 * jansson (Debian's libjansson) does the RFC 8259 work: every escape,
 * surrogate pairs joined, lone surrogates, invalid UTF-8, control
 * characters in strings, "01" and "\u0000" refused, trailing bytes
 * refused (no JSON_DISABLE_EOF_CHECK), a top-level scalar refused (no
 * JSON_DECODE_ANY), a repeated member name refused
 * (JSON_REJECT_DUPLICATES: with the first or the last one winning, a
 * check and a use could read different values). Here: the size and
 * depth bounds, an object at the top, typed getters, the media type.
 *
 * Wiping: jansson's json_decref() frees without wiping, and its lexer
 * keeps copies of every token (a password too) in scratch buffers that
 * a walk of the finished tree never sees. So jansson allocates through
 * pc_jsonin_malloc(), which records each block's size in front of it,
 * and frees through pc_jsonin_mfree(), which wipes the whole block
 * first: tree, member names, lexer buffers, on success and on error.
 * jansson's allocator is process-wide; nothing else in payconsole uses
 * jansson.
 */
#include <sys/random.h>

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "jsonin.h"
#include "utf8.h"

/* Room for the block's size, keeping malloc's alignment. */
#define PC_JSONIN_HDR	alignof(max_align_t)

static void	*pc_jsonin_malloc(size_t);
static void	 pc_jsonin_mfree(void *);
static void	 pc_jsonin_setup(void);
static int	 pc_jsonin_depth_ok(const unsigned char *, size_t);
static json_t	*pc_jsonin_get(const struct pc_jsonin *, const char *);
static const char *pc_jsonin_skip_ows(const char *);
static const char *pc_jsonin_word(const char *, const char *);

static void *
pc_jsonin_malloc(size_t len)
{
	unsigned char	*p;

	if (len > SIZE_MAX - PC_JSONIN_HDR)
		return (NULL);
	if ((p = malloc(PC_JSONIN_HDR + len)) == NULL)
		return (NULL);
	memcpy(p, &len, sizeof(len));
	return (p + PC_JSONIN_HDR);
}

static void
pc_jsonin_mfree(void *ptr)
{
	unsigned char	*p;
	size_t		len;

	if (ptr == NULL)
		return;
	p = (unsigned char *)ptr - PC_JSONIN_HDR;
	memcpy(&len, p, sizeof(len));
	explicit_bzero(p, PC_JSONIN_HDR + len);
	free(p);
}

/*
 * Once per process, before jansson allocates anything: the wiping
 * allocator, and the seed of its hash tables from getrandom(2) (jansson
 * would open /dev/urandom, absent in the workers' chroot).
 */
static void
pc_jsonin_setup(void)
{
	static int	done;
	uint32_t	seed;

	if (done)
		return;
	json_set_alloc_funcs(pc_jsonin_malloc, pc_jsonin_mfree);
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = 0;		/* jansson then seeds itself */
	json_object_seed(seed);
	done = 1;
}

/*
 * Containers nested at most PC_JSONIN_MAX_DEPTH deep, counted on the
 * text before jansson builds anything (and without recursion): outside
 * strings, every bracket of valid JSON is structure. Text that is not
 * valid JSON may be miscounted here; jansson refuses it anyway.
 */
static int
pc_jsonin_depth_ok(const unsigned char *s, size_t len)
{
	size_t	i;
	int	depth, in_str;

	depth = in_str = 0;
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_str = 1;
			break;
		case '{':
		case '[':
			if (++depth > PC_JSONIN_MAX_DEPTH)
				return (0);
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			break;
		}
	}
	return (1);
}

/*
 * Parse buf[0..len) into j. On PC_JSONIN_OK j->root is an object; on
 * anything else j->root is NULL. Either way pc_jsonin_free(j) is safe.
 */
enum pc_jsonin_result
pc_jsonin_parse(struct pc_jsonin *j, const void *buf, size_t len)
{
	json_error_t	err;
	json_t		*root;

	j->root = NULL;
	if (len == 0)
		return (PC_JSONIN_EMPTY);
	if (len > PC_JSONIN_MAX_LEN)
		return (PC_JSONIN_TOO_LARGE);
	/* jansson checks too; this is the decoder every parser here uses. */
	if (!pc_utf8_valid(buf, len))
		return (PC_JSONIN_ENCODING);
	if (!pc_jsonin_depth_ok(buf, len))
		return (PC_JSONIN_DEPTH);

	pc_jsonin_setup();
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	/* Its text may quote the input ("near '...'"). */
	explicit_bzero(&err, sizeof(err));
	if (root == NULL)
		return (PC_JSONIN_SYNTAX);

	if (!json_is_object(root)) {
		json_decref(root);
		return (PC_JSONIN_NOT_OBJECT);
	}
	j->root = root;
	return (PC_JSONIN_OK);
}

/* The tree, wiped by the allocator as it is freed. */
void
pc_jsonin_free(struct pc_jsonin *j)
{
	if (j->root != NULL)
		json_decref(j->root);
	j->root = NULL;
}

static json_t *
pc_jsonin_get(const struct pc_jsonin *j, const char *key)
{
	if (j->root == NULL)
		return (NULL);
	return (json_object_get(j->root, key));
}

const char *
pc_jsonin_string(const struct pc_jsonin *j, const char *key, size_t *len)
{
	const char	*s;
	size_t		n;

	if (pc_jsonin_string_opt(j, key, &s, &n) != 1)
		return (NULL);
	if (len != NULL)
		*len = n;
	return (s);
}

int
pc_jsonin_string_opt(const struct pc_jsonin *j, const char *key,
    const char **s, size_t *len)
{
	json_t		*v;

	*s = NULL;
	if (len != NULL)
		*len = 0;
	if ((v = pc_jsonin_get(j, key)) == NULL)
		return (0);
	if (!json_is_string(v))
		return (-1);
	*s = json_string_value(v);
	if (len != NULL)
		*len = json_string_length(v);
	return (1);
}

int
pc_jsonin_int(const struct pc_jsonin *j, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	json_t		*v;
	json_int_t	n;

	if ((v = pc_jsonin_get(j, key)) == NULL || !json_is_integer(v))
		return (0);
	n = json_integer_value(v);
	if (n < min || n > max)
		return (0);
	*out = (int64_t)n;
	return (1);
}

int
pc_jsonin_bool(const struct pc_jsonin *j, const char *key, int *out)
{
	json_t		*v;

	if ((v = pc_jsonin_get(j, key)) == NULL || !json_is_boolean(v))
		return (0);
	*out = json_is_true(v);
	return (1);
}

int
pc_jsonin_has(const struct pc_jsonin *j, const char *key)
{
	return (pc_jsonin_get(j, key) != NULL);
}

static const char *
pc_jsonin_skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return (s);
}

/* s past word (case-insensitive), or NULL if s does not start with it. */
static const char *
pc_jsonin_word(const char *s, const char *word)
{
	size_t	n;

	n = strlen(word);
	if (strncasecmp(s, word, n) != 0)
		return (NULL);
	return (s + n);
}

int
pc_jsonin_media_type(const char *ct)
{
	const char	*s, *v;

	if (ct == NULL)
		return (0);
	s = pc_jsonin_skip_ows(ct);
	if ((s = pc_jsonin_word(s, "application/json")) == NULL)
		return (0);
	s = pc_jsonin_skip_ows(s);
	if (*s == '\0')
		return (1);
	if (*s++ != ';')
		return (0);
	s = pc_jsonin_skip_ows(s);
	if ((s = pc_jsonin_word(s, "charset=")) == NULL)
		return (0);
	if ((v = pc_jsonin_word(s, "utf-8")) == NULL &&
	    (v = pc_jsonin_word(s, "\"utf-8\"")) == NULL)
		return (0);
	return (*pc_jsonin_skip_ows(v) == '\0');
}
