/*
 * fuzz_jsonin.c: pc_jsonin_parse() on arbitrary bytes.
 *
 * Properties: a body is taken only if it is valid UTF-8 of at most
 * PC_JSONIN_MAX_LEN bytes; then the root is an object, nested at most
 * PC_JSONIN_MAX_DEPTH deep, whose every member name and string is valid
 * UTF-8 without NUL and has no name twice in one object; the getters
 * agree with the tree; written out again (jansson, ASCII only) and
 * parsed again it is the same tree. A refused body leaves no root.
 */
#include <jansson.h>

#include "jsonin.h"
#include "fuzz_util.h"

static void
check_str(const char *s, size_t len)
{
	FZ_CHECK(s != NULL);
	FZ_CHECK(strlen(s) == len);
	FZ_CHECK(fz_utf8_valid(s, len));
}

/* Depth of v (1 for a container of scalars), checking every string. */
static int
walk(json_t *v)
{
	const char	*key, *k2;
	json_t		*m, *m2;
	size_t		i;
	int		d, max;

	if (json_is_string(v)) {
		check_str(json_string_value(v), json_string_length(v));
		return (0);
	}
	if (!json_is_object(v) && !json_is_array(v))
		return (0);
	max = 0;
	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			check_str(key, strlen(key));
			json_object_foreach(v, k2, m2) {
				if (m2 != m)
					FZ_CHECK(strcmp(k2, key) != 0);
			}
			if ((d = walk(m)) > max)
				max = d;
		}
	} else {
		json_array_foreach(v, i, m) {
			if ((d = walk(m)) > max)
				max = d;
		}
	}
	return (max + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_jsonin	j, j2;
	enum pc_jsonin_result	r;
	const char		*key, *s;
	json_t			*m;
	uint8_t			*buf;
	char			*out;
	size_t			len;
	int64_t			n;
	json_malloc_t		jmalloc;
	json_free_t		jfree;
	int			b, opt;

	buf = fz_dup(data, size);
	r = pc_jsonin_parse(&j, buf, size);
	if (r != PC_JSONIN_OK) {
		FZ_CHECK(j.root == NULL);
		pc_jsonin_free(&j);
		free(buf);
		return (0);
	}

	FZ_CHECK(size > 0 && size <= PC_JSONIN_MAX_LEN);
	FZ_CHECK(fz_utf8_valid(data, size));
	FZ_CHECK(json_is_object(j.root));
	FZ_CHECK(walk(j.root) <= PC_JSONIN_MAX_DEPTH);

	json_object_foreach(j.root, key, m) {
		FZ_CHECK(pc_jsonin_has(&j, key));
		opt = pc_jsonin_string_opt(&j, key, &s, &len);
		FZ_CHECK(opt == (json_is_string(m) ? 1 : -1));
		FZ_CHECK((pc_jsonin_string(&j, key, &len) != NULL) ==
		    json_is_string(m));
		FZ_CHECK(pc_jsonin_int(&j, key, INT64_MIN, INT64_MAX, &n) ==
		    json_is_integer(m));
		FZ_CHECK(pc_jsonin_bool(&j, key, &b) == json_is_boolean(m));
	}

	/* The same tree again from its own ASCII text. */
	out = json_dumps(j.root, JSON_COMPACT | JSON_ENSURE_ASCII);
	FZ_CHECK(out != NULL);
	len = strlen(out);
	if (len <= PC_JSONIN_MAX_LEN) {
		FZ_CHECK(pc_jsonin_parse(&j2, out, len) == PC_JSONIN_OK);
		FZ_CHECK(json_equal(j.root, j2.root));
		pc_jsonin_free(&j2);
	}
	/* jansson's text comes from its allocator, pc_jsonin's. */
	json_get_alloc_funcs(&jmalloc, &jfree);
	jfree(out);

	pc_jsonin_free(&j);
	FZ_CHECK(j.root == NULL);
	free(buf);
	return (0);
}
