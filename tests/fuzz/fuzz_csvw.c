/*
 * fuzz_csvw.c: pc_csvw_field() on arbitrary bytes, against a reference.
 *
 * The document written is: field(text), int(size) CRLF field(second half
 * of text) CRLF. It is then read back with a strict RFC 4180 reader.
 *
 * Properties: the output is valid UTF-8 without NUL; every text field
 * starts with '"' and is one quoted field; after the quote, a field does
 * not start with a formula character (= + - @ TAB CR or their
 * full-width forms) unless it is the neutralising "'"; and each field's
 * bytes are exactly the reference: NULs dropped, invalid UTF-8 bytes as
 * U+FFFD, '"' doubled, "'" in front when the first non-NUL input
 * character is a formula character.
 */
#include <inttypes.h>

#include "csvw.h"
#include "fuzz_util.h"

static int
ref_formula(const unsigned char *s, size_t len)
{
	if (len == 0)
		return (0);
	if (strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
		return (1);
	return (len >= 3 && s[0] == 0xef && s[1] == 0xbc &&
	    (s[2] == 0x9d || s[2] == 0x8b || s[2] == 0x8d || s[2] == 0xa0));
}

static void
ref_field(const unsigned char *s, size_t len, struct fz_buf *b)
{
	size_t		i, n;
	uint32_t	cp;

	fz_put(b, "\"", 1);
	for (i = 0; i < len && s[i] == '\0'; i++)
		;
	if (ref_formula(s + i, len - i))
		fz_put(b, "'", 1);
	for (i = 0; i < len; i += n) {
		n = fz_utf8(s + i, len - i, &cp);
		if (n == 0) {
			fz_put(b, "\xef\xbf\xbd", 3);
			n = 1;
		} else if (cp == '"') {
			fz_put(b, "\"\"", 2);
		} else if (cp != 0) {
			fz_put(b, s + i, n);
		}
	}
	fz_put(b, "\"", 1);
}

/* One quoted field at out[*o]: check it, return its bytes with quotes. */
static size_t
read_quoted(const char *out, size_t len, size_t o)
{
	size_t	i;

	FZ_CHECK(o < len && out[o] == '"');
	for (i = o + 1; i < len; i++) {
		if (out[i] != '"')
			continue;
		if (i + 1 < len && out[i + 1] == '"') {
			i++;
			continue;
		}
		break;
	}
	FZ_CHECK(i < len);		/* the closing quote */
	i++;
	/* After the opening quote: no formula unless neutralised. */
	if (i - o > 2)
		FZ_CHECK(!ref_formula((const unsigned char *)out + o + 1,
		    i - o - 2) || out[o + 1] == '\'');
	return (i - o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_csvw	w;
	struct fz_buf	want;
	char		*in, *out, num[32];
	size_t		len, o, n, half;

	in = (char *)fz_dup(data, size);
	half = size / 2;
	pc_csvw_init(&w);
	pc_csvw_field(&w, in, size);
	pc_csvw_int(&w, (int64_t)size);
	pc_csvw_endrow(&w);
	pc_csvw_field(&w, in + half, size - half);
	pc_csvw_endrow(&w);
	out = pc_csvw_finish(&w, &len);
	FZ_CHECK(out != NULL);
	FZ_CHECK(strlen(out) == len);
	FZ_CHECK(fz_utf8_valid(out, len));

	fz_init(&want);
	ref_field(data, size, &want);
	(void)snprintf(num, sizeof(num), ",%zu\r\n", size);
	fz_put(&want, num, strlen(num));
	ref_field(data + half, size - half, &want);
	fz_put(&want, "\r\n", 2);

	o = 0;
	n = read_quoted(out, len, o);
	o += n;
	FZ_CHECK(strncmp(out + o, num, strlen(num)) == 0);
	o += strlen(num);
	n = read_quoted(out, len, o);
	o += n;
	FZ_CHECK(len - o == 2 && memcmp(out + o, "\r\n", 2) == 0);

	FZ_CHECK(len == want.len && memcmp(out, want.p, len) == 0);

	explicit_bzero(out, len);
	free(out);
	free(want.p);
	free(in);
	return (0);
}
