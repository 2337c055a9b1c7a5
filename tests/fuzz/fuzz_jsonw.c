/*
 * fuzz_jsonw.c: pc_jsonw_string(), pc_jsonw_stringn() and
 * pc_json_escape() on arbitrary bytes.
 *
 * The document written is [ stringn(text), string(text up to a NUL),
 * { string(text) : stringn(text) } ] and is then read back with a
 * strict JSON reader.
 *
 * Properties: the output is valid UTF-8 with no raw control character
 * (C0, DEL), no raw '<', '>', '&' (HTML-safe), no raw U+2028/U+2029
 * (JavaScript-safe); every string decodes to the input with each byte
 * that is not part of valid UTF-8 replaced by U+FFFD (NUL kept, as
 * \u0000); pc_json_escape() gives the same text as the writer, or -1
 * with the buffer wiped when it does not fit.
 */
#include "jsonw.h"
#include "fuzz_util.h"

/* The code points a string of s must decode to. */
static void
ref_cps(const unsigned char *s, size_t len, struct fz_buf *b)
{
	size_t		i, n;
	uint32_t	cp;

	for (i = 0; i < len; i += n) {
		if ((n = fz_utf8(s + i, len - i, &cp)) == 0) {
			cp = 0xfffd;
			n = 1;
		}
		fz_put_cp(b, cp);
	}
}

static unsigned int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return ((unsigned int)(c - '0'));
	if (c >= 'a' && c <= 'f')
		return ((unsigned int)(c - 'a' + 10));
	if (c >= 'A' && c <= 'F')
		return ((unsigned int)(c - 'A' + 10));
	FZ_CHECK(!"hex digit");
	return (0);
}

/* Read one JSON string at s[*o]; decoded UTF-8 into b. */
static void
read_string(const char *s, size_t len, size_t *o, struct fz_buf *b)
{
	size_t		i = *o, k, n;
	uint32_t	cp;

	FZ_CHECK(i < len && s[i] == '"');
	for (i++; ; ) {
		FZ_CHECK(i < len);
		if (s[i] == '"')
			break;
		if (s[i] != '\\') {
			n = fz_utf8((const unsigned char *)s + i, len - i, &cp);
			FZ_CHECK(n != 0);
			fz_put(b, s + i, n);
			i += n;
			continue;
		}
		FZ_CHECK(i + 1 < len);
		switch (s[i + 1]) {
		case '"': fz_put(b, "\"", 1); i += 2; continue;
		case '\\': fz_put(b, "\\", 1); i += 2; continue;
		case '/': fz_put(b, "/", 1); i += 2; continue;
		case 'b': fz_put(b, "\b", 1); i += 2; continue;
		case 'f': fz_put(b, "\f", 1); i += 2; continue;
		case 'n': fz_put(b, "\n", 1); i += 2; continue;
		case 'r': fz_put(b, "\r", 1); i += 2; continue;
		case 't': fz_put(b, "\t", 1); i += 2; continue;
		case 'u':
			FZ_CHECK(i + 6 <= len);
			cp = 0;
			for (k = 2; k < 6; k++)
				cp = cp << 4 | hexval(s[i + k]);
			/* The writer never needs surrogate pairs. */
			FZ_CHECK(cp < 0xd800 || cp > 0xdfff);
			fz_put_cp(b, cp);
			i += 6;
			continue;
		}
		FZ_CHECK(!"escape");
	}
	*o = i + 1;
}

static void
expect(const char *s, size_t len, size_t *o, const char *lit)
{
	FZ_CHECK(*o + strlen(lit) <= len &&
	    memcmp(s + *o, lit, strlen(lit)) == 0);
	*o += strlen(lit);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_jsonw	w;
	struct fz_buf	full, cut, got;
	char		*in, *cs, *out, *esc;
	size_t		len, o, i, first_end, small;
	int		r;

	in = (char *)fz_dup(data, size);
	cs = fz_cstr(data, size);

	pc_jsonw_init(&w);
	pc_jsonw_array_open(&w, NULL);
	pc_jsonw_stringn(&w, NULL, in, size);
	pc_jsonw_string(&w, NULL, cs);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_stringn(&w, cs, in, size);
	pc_jsonw_object_close(&w);
	pc_jsonw_array_close(&w);
	out = pc_jsonw_finish(&w, &len);
	FZ_CHECK(out != NULL && strlen(out) == len);

	FZ_CHECK(fz_utf8_valid(out, len));
	for (i = 0; i < len; i++) {
		FZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
		FZ_CHECK(out[i] != '<' && out[i] != '>' && out[i] != '&');
		FZ_CHECK(i + 2 >= len || !((unsigned char)out[i] == 0xe2 &&
		    (unsigned char)out[i + 1] == 0x80 &&
		    ((unsigned char)out[i + 2] == 0xa8 ||
		    (unsigned char)out[i + 2] == 0xa9)));
	}

	fz_init(&full);
	fz_init(&cut);
	fz_init(&got);
	ref_cps(data, size, &full);
	ref_cps((const unsigned char *)cs, strlen(cs), &cut);

	o = 0;
	expect(out, len, &o, "[");
	read_string(out, len, &o, &got);
	first_end = o;
	FZ_CHECK(got.len == full.len && memcmp(got.p, full.p, got.len) == 0);
	expect(out, len, &o, ",");
	got.len = 0;
	read_string(out, len, &o, &got);
	FZ_CHECK(got.len == cut.len && memcmp(got.p, cut.p, got.len) == 0);
	expect(out, len, &o, ",{");
	got.len = 0;
	read_string(out, len, &o, &got);
	FZ_CHECK(got.len == cut.len && memcmp(got.p, cut.p, got.len) == 0);
	expect(out, len, &o, ":");
	got.len = 0;
	read_string(out, len, &o, &got);
	FZ_CHECK(got.len == full.len && memcmp(got.p, full.p, got.len) == 0);
	expect(out, len, &o, "}]");
	FZ_CHECK(o == len);

	/* pc_json_escape(): room enough, then a buffer picked by the input. */
	if ((esc = malloc(first_end + 1)) == NULL)
		abort();
	r = pc_json_escape(in, size, esc, first_end);
	FZ_CHECK(r == (int)first_end - 1 &&
	    memcmp(esc, out + 1, first_end - 1) == 0 && esc[r] == '\0');
	free(esc);
	small = 1 + (size > 0 ? data[0] : 0) % 64;
	if ((esc = malloc(small)) == NULL)
		abort();
	r = pc_json_escape(in, size, esc, small);
	if (r >= 0) {
		FZ_CHECK((size_t)r == first_end - 1 &&
		    memcmp(esc, out + 1, (size_t)r) == 0);
	} else {
		for (i = 0; i < small; i++)
			FZ_CHECK(esc[i] == '\0');
	}
	free(esc);

	free(got.p);
	free(cut.p);
	free(full.p);
	free(out);
	free(cs);
	free(in);
	return (0);
}
