/*
 * fuzz_enrolcode.c: pc_enrolcode_parse() on arbitrary bytes.
 *
 * Properties: what parses is exactly 26 base32 characters once blanks
 * and dashes are dropped, case folded and 0/1/8 read as O/I/B, and
 * formatting the result gives those characters back (one value per
 * text, so a half cannot be typed two ways that open different doors);
 * anything else leaves the output zeroed. Any 16 bytes format and parse
 * back.
 */
#include "enrolcode.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		code[PC_ENROLCODE_LEN], back[PC_ENROLCODE_LEN];
	char		norm[PC_ENROLCODE_INPUT_MAX + 1];
	char		text[PC_ENROLCODE_TEXT], canon[PC_ENROLCODE_CHARS + 1];
	char		*s, c;
	size_t		i, n;

	s = fz_cstr(data, size);
	if (pc_enrolcode_parse(s, size, code) == 0) {
		FZ_CHECK(size <= PC_ENROLCODE_INPUT_MAX);
		for (i = n = 0; i < size; i++) {
			c = s[i];
			if (c == '-' || c == ' ')
				continue;
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			c = c == '0' ? 'O' : c == '1' ? 'I' : c == '8' ? 'B' :
			    c;
			FZ_CHECK((c >= 'A' && c <= 'Z') ||
			    (c >= '2' && c <= '7'));
			norm[n++] = c;
		}
		FZ_CHECK(n == PC_ENROLCODE_CHARS);
		pc_enrolcode_format(code, text);
		for (i = n = 0; text[i] != '\0'; i++) {
			if (text[i] != '-')
				canon[n++] = text[i];
		}
		FZ_CHECK(n == PC_ENROLCODE_CHARS);
		FZ_CHECK(memcmp(canon, norm, n) == 0);
	} else {
		for (i = 0; i < PC_ENROLCODE_LEN; i++)
			FZ_CHECK(code[i] == 0);
	}

	if (size >= PC_ENROLCODE_LEN) {
		pc_enrolcode_format(data, text);
		FZ_CHECK(strlen(text) == PC_ENROLCODE_TEXT - 1);
		FZ_CHECK(pc_enrolcode_parse(text, strlen(text), back) == 0);
		FZ_CHECK(memcmp(back, data, PC_ENROLCODE_LEN) == 0);
	}
	free(s);
	return (0);
}
