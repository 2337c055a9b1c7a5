/*
 * perm.h: who may call what (pure). The route table in routes.c gives
 * each route a set of roles and flags; this file decides.
 */
#ifndef PC_PERM_H
#define PC_PERM_H

#include <stddef.h>
#include <stdint.h>

#define PC_ROLE_OPERATOR	0x01
#define PC_ROLE_ADMIN		0x02
#define PC_ROLE_AUDITOR		0x04
#define PC_ROLES_ANY		(PC_ROLE_OPERATOR | PC_ROLE_ADMIN | \
				    PC_ROLE_AUDITOR)

#define PC_RF_PUBLIC		0x01	/* no session needed */
#define PC_RF_REAUTH		0x02	/* both factors within 5 minutes */
#define PC_RF_MUSTCHANGE_OK	0x04	/* open during a forced change */

#define PC_REAUTH_SECONDS	300

enum pc_perm_verdict {
	PC_PERM_ALLOW = 0,
	PC_PERM_FORBIDDEN,		/* role not on the route (or none) */
	PC_PERM_PASSWORD_CHANGE,	/* must change the password first */
	PC_PERM_REAUTH,			/* re-authenticate first */
};

/* "operator" -> PC_ROLE_OPERATOR...; 0 for anything else. */
uint8_t	pc_perm_role(const char *);

/*
 * Decide for a signed-in user. A route with no roles is refused to
 * everyone (default deny). reauth_at and now are UTC seconds.
 */
enum pc_perm_verdict pc_perm_decide(uint8_t roles, uint8_t flags,
	    uint8_t role, int must_change, int64_t reauth_at, int64_t now);

/*
 * Match a path against a pattern whose segments are literal, ":id"
 * (1 to 18 decimal digits, no leading zero), ":week" (an ISO week that
 * exists, "2026-W47", given as the id 202647), ":half" (any segment of
 * 1 to PC_PERM_SEGMENT_MAX bytes; the id is 20261 for "2026-H1", 0 when
 * it names no half-year, for the handler to refuse with 400) or ":day"
 * (the same, the id 20261128 for "2026-11-28"). Returns 1 and the id
 * (0 if the pattern has none) or 0.
 */
#define PC_PERM_SEGMENT_MAX	32

int	pc_perm_path_match(const char *pattern, const char *path,
	    int64_t *id);

#endif
