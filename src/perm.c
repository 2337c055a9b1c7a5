/*
 * perm.c: permission decisions and path patterns. See perm.h.
 */
#include <string.h>

#include "civilday.h"
#include "halfyear.h"
#include "isoweek.h"
#include "perm.h"

static int	pc_perm_period(const char *, const char *, size_t *,
		    int64_t *);

/*
 * A period segment that matches any name (":half", ":day"): returns the
 * pattern's length with the segment's in *n and the period's id, 0 when
 * it names none (the handler's 400); -1 when the path has no segment
 * there; 0 when the pattern is no period segment.
 */
static int
pc_perm_period(const char *p, const char *s, size_t *n, int64_t *id)
{
	int	y, a, b;
	size_t	k;

	if (strncmp(p, ":half", 5) == 0 && (p[5] == '/' || p[5] == '\0'))
		k = 5;
	else if (strncmp(p, ":day", 4) == 0 && (p[4] == '/' || p[4] == '\0'))
		k = 4;
	else
		return (0);
	for (*n = 0; s[*n] != '\0' && s[*n] != '/'; (*n)++) {
		if (*n >= PC_PERM_SEGMENT_MAX)
			return (-1);
	}
	if (*n == 0)
		return (-1);
	if (k == 5 && pc_halfyear_parse(s, *n, &y, &a) == 0)
		*id = (int64_t)y * 10 + a;
	if (k == 4 && pc_civilday_parse(s, *n, &y, &a, &b) == 0)
		*id = (int64_t)y * 10000 + a * 100 + b;
	return ((int)k);
}

uint8_t
pc_perm_role(const char *role)
{
	if (role == NULL)
		return (0);
	if (strcmp(role, "operator") == 0)
		return (PC_ROLE_OPERATOR);
	if (strcmp(role, "admin") == 0)
		return (PC_ROLE_ADMIN);
	if (strcmp(role, "auditor") == 0)
		return (PC_ROLE_AUDITOR);
	return (0);
}

enum pc_perm_verdict
pc_perm_decide(uint8_t roles, uint8_t flags, uint8_t role, int must_change,
    int64_t reauth_at, int64_t now)
{
	if (role == 0 || (roles & role) == 0)
		return (PC_PERM_FORBIDDEN);
	if (must_change && !(flags & PC_RF_MUSTCHANGE_OK))
		return (PC_PERM_PASSWORD_CHANGE);
	if ((flags & PC_RF_REAUTH) &&
	    (reauth_at <= 0 || now - reauth_at > PC_REAUTH_SECONDS ||
	    reauth_at > now + 60))
		return (PC_PERM_REAUTH);
	return (PC_PERM_ALLOW);
}

int
pc_perm_path_match(const char *pattern, const char *path, int64_t *id)
{
	const char	*p, *s;
	size_t		n;
	int64_t		v;
	int		y, w, k;

	*id = 0;
	p = pattern;
	s = path;
	while (*p != '\0') {
		if (strncmp(p, ":id", 3) == 0 && (p[3] == '/' || p[3] == '\0')) {
			if (*s < '1' || *s > '9')
				return (0);
			v = 0;
			for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
				if (n >= 18)
					return (0);
				v = v * 10 + (s[n] - '0');
			}
			if (s[n] != '/' && s[n] != '\0')
				return (0);
			*id = v;
			s += n;
			p += 3;
			continue;
		}
		if (strncmp(p, ":week", 5) == 0 &&
		    (p[5] == '/' || p[5] == '\0')) {
			for (n = 0; s[n] != '\0' && s[n] != '/' && n < 9; n++)
				;
			if (pc_isoweek_parse(s, n, &y, &w) == -1)
				return (0);
			*id = (int64_t)y * 100 + w;
			s += n;
			p += 5;
			continue;
		}
		/* Any segment: a malformed period is the handler's 400. */
		if ((k = pc_perm_period(p, s, &n, id)) == -1)
			return (0);
		if (k > 0) {
			s += n;
			p += k;
			continue;
		}
		if (*p != *s)
			return (0);
		p++;
		s++;
	}
	if (*s != '\0') {
		*id = 0;
		return (0);
	}
	return (1);
}
