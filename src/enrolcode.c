/*
 * enrolcode.c: enrolment code halves, made and read (enrolcode.h).
 */
#include <string.h>

#include <openssl/rand.h>

#include "enrolcode.h"

static const char	pc_enrolcode_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int	pc_enrolcode_value(unsigned char);

int
pc_enrolcode_new(uint8_t code[PC_ENROLCODE_LEN])
{
	return (RAND_bytes(code, PC_ENROLCODE_LEN) == 1 ? 0 : -1);
}

void
pc_enrolcode_format(const uint8_t code[PC_ENROLCODE_LEN], char *out)
{
	uint32_t	acc;
	int		bits, n, o;
	size_t		i;

	acc = 0;
	bits = n = o = 0;
	for (i = 0; i < PC_ENROLCODE_LEN || bits > 0; ) {
		if (bits < 5 && i < PC_ENROLCODE_LEN) {
			acc = (acc << 8) | code[i++];
			bits += 8;
			continue;
		}
		/* The last group: pad with zero bits to five. */
		if (bits < 5) {
			acc <<= 5 - bits;
			bits = 5;
		}
		if (n > 0 && n % 4 == 0)
			out[o++] = '-';
		out[o++] = pc_enrolcode_alpha[(acc >> (bits - 5)) & 0x1f];
		bits -= 5;
		n++;
	}
	out[o] = '\0';
}

/* A typed character's value, 0..31, or -1. */
static int
pc_enrolcode_value(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		c = (unsigned char)(c - 'a' + 'A');
	/* Read the way a person means them: no digit 0, 1 or 8 exists. */
	if (c == '0')
		c = 'O';
	else if (c == '1')
		c = 'I';
	else if (c == '8')
		c = 'B';
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= '2' && c <= '7')
		return (c - '2' + 26);
	return (-1);
}

int
pc_enrolcode_parse(const char *text, size_t len,
    uint8_t code[PC_ENROLCODE_LEN])
{
	uint32_t	acc;
	size_t		i, o;
	int		bits, n, v;

	acc = 0;
	bits = n = 0;
	o = 0;
	if (len > PC_ENROLCODE_INPUT_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		if (text[i] == '-' || text[i] == ' ')
			continue;
		if ((v = pc_enrolcode_value((unsigned char)text[i])) == -1 ||
		    ++n > PC_ENROLCODE_CHARS)
			goto bad;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			code[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
			acc &= (1U << bits) - 1;
		}
	}
	/* All 26 characters, and the two padding bits zero. */
	if (n != PC_ENROLCODE_CHARS || o != PC_ENROLCODE_LEN || acc != 0)
		goto bad;
	return (0);

bad:
	memset(code, 0, PC_ENROLCODE_LEN);
	return (-1);
}
