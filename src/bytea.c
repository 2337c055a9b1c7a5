/*
 * bytea.c: PostgreSQL's hex form of bytea (bytea.h).
 */
#include <string.h>

#include "bytea.h"

static int	pc_bytea_hexval(char);

int
pc_bytea_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	if (outlen < 3 || (outlen - 3) / 2 < len)
		return (-1);
	out[0] = '\\';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = digits[in[i] >> 4];
		out[3 + 2 * i] = digits[in[i] & 0x0f];
	}
	out[2 + 2 * len] = '\0';
	return (0);
}

int
pc_bytea_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t		i, n;
	int		hi, lo;

	if (strncmp(s, "\\x", 2) != 0)
		return (-1);
	s += 2;
	n = strlen(s);
	if (n % 2 || n / 2 > max)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = pc_bytea_hexval(s[2 * i])) < 0 ||
		    (lo = pc_bytea_hexval(s[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return (0);
}

static int
pc_bytea_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}
