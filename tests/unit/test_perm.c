/*
 * test_perm.c: permission decisions and path patterns, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "perm.h"

#define NOW	1795000000LL
#define OP	PC_ROLE_OPERATOR
#define AD	PC_ROLE_ADMIN
#define AU	PC_ROLE_AUDITOR

static const struct {
	uint8_t			roles, flags, role;
	int			must_change;
	int64_t			reauth_at;
	enum pc_perm_verdict	want;
} decide_cases[] = {
	/* Default deny: a route without roles is nobody's. */
	{ 0, 0, OP, 0, NOW, PC_PERM_FORBIDDEN },
	{ 0, 0, AD, 0, NOW, PC_PERM_FORBIDDEN },
	{ 0, PC_RF_MUSTCHANGE_OK, AU, 0, NOW, PC_PERM_FORBIDDEN },
	/* Role membership. */
	{ AD, 0, AD, 0, NOW, PC_PERM_ALLOW },
	{ AD, 0, OP, 0, NOW, PC_PERM_FORBIDDEN },
	{ AD, 0, AU, 0, NOW, PC_PERM_FORBIDDEN },
	{ AD | AU, 0, AU, 0, NOW, PC_PERM_ALLOW },
	{ PC_ROLES_ANY, 0, OP, 0, NOW, PC_PERM_ALLOW },
	/* An unknown role string maps to 0: refused everywhere. */
	{ PC_ROLES_ANY, 0, 0, 0, NOW, PC_PERM_FORBIDDEN },
	/* Forced password change. */
	{ PC_ROLES_ANY, 0, OP, 1, NOW, PC_PERM_PASSWORD_CHANGE },
	{ PC_ROLES_ANY, PC_RF_MUSTCHANGE_OK, OP, 1, NOW, PC_PERM_ALLOW },
	/* The role check comes first: no hint for the wrong role. */
	{ AD, 0, OP, 1, NOW, PC_PERM_FORBIDDEN },
	/* Re-authentication within five minutes. */
	{ AD, PC_RF_REAUTH, AD, 0, NOW, PC_PERM_ALLOW },
	{ AD, PC_RF_REAUTH, AD, 0, NOW - 300, PC_PERM_ALLOW },
	{ AD, PC_RF_REAUTH, AD, 0, NOW - 301, PC_PERM_REAUTH },
	{ AD, PC_RF_REAUTH, AD, 0, 0, PC_PERM_REAUTH },
	{ AD, PC_RF_REAUTH, AD, 0, NOW + 3600, PC_PERM_REAUTH },
	{ AD, 0, AD, 0, 0, PC_PERM_ALLOW },
	{ AD, PC_RF_REAUTH, AD, 1, NOW, PC_PERM_PASSWORD_CHANGE },
};

static const struct {
	const char	*pattern, *path;
	int		match;
	int64_t		id;
} path_cases[] = {
	{ "/api/users", "/api/users", 1, 0 },
	{ "/api/users", "/api/users/", 0, 0 },
	{ "/api/users", "/api/user", 0, 0 },
	{ "/api/users", "/api/usersx", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/42/disable", 1, 42 },
	{ "/api/users/:id/disable", "/api/users/0/disable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/042/disable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/-1/disable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/1a/disable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users//disable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/7/disable/", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/7/enable", 0, 0 },
	{ "/api/users/:id/disable", "/api/users/123456789012345678/disable",
	    1, 123456789012345678LL },
	{ "/api/users/:id/disable", "/api/users/1234567890123456789/disable",
	    0, 0 },
	{ "/api/users/:id", "/api/users/9", 1, 9 },
	{ "/api/users/:id", "/api/users/9/x", 0, 0 },
	{ "/api/users/:id/sessions/revoke", "/api/users/5/sessions/revoke",
	    1, 5 },
	{ "/api/users/:id/sessions/revoke", "/api/users/5/sessions", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/2026-W47", 1, 202647 },
	/* A half-year: any segment matches, only a real one has an id. */
	{ "/api/reviews/accounts/:half", "/api/reviews/accounts/2026-H1", 1,
	    20261 },
	{ "/api/reviews/accounts/:half/signoff",
	    "/api/reviews/accounts/2026-H2/signoff", 1, 20262 },
	{ "/api/reviews/accounts/:half", "/api/reviews/accounts/2026-H3", 1,
	    0 },
	{ "/api/reviews/accounts/:half", "/api/reviews/accounts/2026-W47", 1,
	    0 },
	{ "/api/reviews/accounts/:half",
	    "/api/reviews/accounts/12345678901234567890123456789012", 1, 0 },
	{ "/api/reviews/accounts/:half",
	    "/api/reviews/accounts/123456789012345678901234567890123", 0, 0 },
	{ "/api/reviews/accounts/:half", "/api/reviews/accounts/", 0, 0 },
	{ "/api/reviews/accounts/:half", "/api/reviews/accounts/2026-H1/", 0,
	    0 },
	{ "/api/reviews/accounts/:half/signoff",
	    "/api/reviews/accounts/2026-H1/confirm", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/accounts", 0, 0 },
	/* A day: the same, the id YYYYMMDD for a day that exists. */
	{ "/api/reviews/daily/:day", "/api/reviews/daily/2026-11-28", 1,
	    20261128 },
	{ "/api/reviews/daily/:day/signoff",
	    "/api/reviews/daily/2024-02-29/signoff", 1, 20240229 },
	{ "/api/reviews/daily/:day", "/api/reviews/daily/2026-02-29", 1, 0 },
	{ "/api/reviews/daily/:day", "/api/reviews/daily/2026-W47", 1, 0 },
	{ "/api/reviews/daily/:day", "/api/reviews/daily/", 0, 0 },
	{ "/api/reviews/daily/:day", "/api/reviews/daily/2026-11-28/", 0, 0 },
	{ "/api/reviews/daily/:day/signoff",
	    "/api/reviews/daily/2026-11-28/confirm", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/daily", 0, 0 },
	{ "/api/reviews/:week/signoff", "/api/reviews/2026-W01/signoff", 1,
	    202601 },
	{ "/api/reviews/:week", "/api/reviews/2020-W53", 1, 202053 },
	{ "/api/reviews/:week", "/api/reviews/2021-W53", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/2026-W47/", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/2026-W470", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/2026-w47", 0, 0 },
	{ "/api/reviews/:week", "/api/reviews/", 0, 0 },
	{ "/api/reviews/:week/signoff", "/api/reviews/2026-W47/confirm", 0,
	    0 },
};

static void
test_decide(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		if (pc_perm_decide(decide_cases[i].roles,
		    decide_cases[i].flags, decide_cases[i].role,
		    decide_cases[i].must_change, decide_cases[i].reauth_at,
		    NOW) != decide_cases[i].want)
			fail_msg("decide case %zu", i);
	}
}

static void
test_path(void **state)
{
	size_t	i;
	int64_t	id;

	(void)state;
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		id = -1;
		if (pc_perm_path_match(path_cases[i].pattern,
		    path_cases[i].path, &id) != path_cases[i].match)
			fail_msg("path case %zu (%s)", i, path_cases[i].path);
		if (path_cases[i].match && id != path_cases[i].id)
			fail_msg("path case %zu id", i);
	}
}

static void
test_roles(void **state)
{
	(void)state;
	assert_int_equal(pc_perm_role("operator"), PC_ROLE_OPERATOR);
	assert_int_equal(pc_perm_role("admin"), PC_ROLE_ADMIN);
	assert_int_equal(pc_perm_role("auditor"), PC_ROLE_AUDITOR);
	assert_int_equal(pc_perm_role("Admin"), 0);
	assert_int_equal(pc_perm_role("admin "), 0);
	assert_int_equal(pc_perm_role(""), 0);
	assert_int_equal(pc_perm_role(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_roles),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
