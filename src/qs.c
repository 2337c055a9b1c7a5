/*
 * qs.c: strict query-string parsing. See qs.h.
 *
 * Hex digits are OpenSSL's (OPENSSL_hexchar2int), UTF-8 is utf8.c's
 * (ICU). The rest stays ours, checked 2026-12: Kore's
 * http_argument_urldecode() keeps "%zz" as text and decodes "%c0%af"
 * (an overlong '/') and "%ff" to bytes that are not UTF-8, all refused
 * here, and it needs Kore headers, which this pure file may not
 * include; no other linked library decodes query strings.
 * For pc_qs_local_time(), glibc's strptime("%Y-%m-%dT%H:%M:%S") accepted
 * 2026-02-31, 2025-02-29, second 60 and a leading space, all refused
 * here.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "qs.h"
#include "utf8.h"

int
pc_qs_parse(struct pc_qs *qs, const char *q, const char *const *allowed)
{
	const char	*p, *eq, *amp;
	size_t		nlen, i, o;
	int		hi, lo, ok;
	char		*v;

	memset(qs, 0, sizeof(*qs));
	if (q == NULL || *q == '\0')
		return (0);

	for (p = q; *p != '\0'; p = (*amp == '&') ? amp + 1 : amp) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		if (amp == p || (*amp == '&' && amp[1] == '\0'))
			return (-1);
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			return (-1);
		nlen = (size_t)(eq - p);
		if (nlen == 0 || nlen >= sizeof(qs->name[0]) ||
		    qs->n >= PC_QS_MAX_PAIRS)
			return (-1);
		for (i = 0; i < nlen; i++) {
			if (!((p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
				return (-1);
		}
		memcpy(qs->name[qs->n], p, nlen);
		qs->name[qs->n][nlen] = '\0';

		ok = 0;
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], qs->name[qs->n]) == 0)
				ok = 1;
		}
		for (i = 0; i < qs->n; i++) {
			if (strcmp(qs->name[i], qs->name[qs->n]) == 0)
				ok = 0;
		}
		if (!ok)
			return (-1);

		v = qs->value[qs->n];
		o = 0;
		for (p = eq + 1; p < amp; p++) {
			if (o + 1 >= PC_QS_VALUE_MAX)
				return (-1);
			if (*p == '+') {
				v[o++] = ' ';
			} else if (*p == '%') {
				if (amp - p < 3)
					return (-1);
				if ((hi = OPENSSL_hexchar2int(
				    (unsigned char)p[1])) < 0 ||
				    (lo = OPENSSL_hexchar2int(
				    (unsigned char)p[2])) < 0)
					return (-1);
				v[o++] = (char)(hi << 4 | lo);
				p += 2;
			} else {
				v[o++] = *p;
			}
		}
		v[o] = '\0';
		if (!pc_utf8_text(v, o, 0))
			return (-1);
		qs->n++;
	}
	return (0);
}

const char *
pc_qs_get(const struct pc_qs *qs, const char *name)
{
	size_t		i;

	for (i = 0; i < qs->n; i++) {
		if (strcmp(qs->name[i], name) == 0)
			return (qs->value[i][0] != '\0' ? qs->value[i] : NULL);
	}
	return (NULL);
}

/* "YYYY-MM-DDTHH:MM:SS", a real calendar date and time of day. */
int
pc_qs_local_time(const char *v)
{
	static const int	mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	int			y, mo, d, h, mi, s, n;

	/* NOLINTNEXTLINE(cert-err34-c): widths bound each field; strspn and the separators check the rest */
	if (strlen(v) != 19 || sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y,
	    &mo, &d, &h, &mi, &s, &n) != 6 || n != 19 || v[4] != '-' ||
	    v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' ||
	    strspn(v, "0123456789-T:") != 19)
		return (0);
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || s > 59)
		return (0);
	/* 29 February only in leap years. */
	if (mo == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (0);
	return (1);
}
