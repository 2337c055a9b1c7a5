/*
 * test_bundle.c: the evidence bundle's pure parts: the period, the
 * table of files and index.json (read back with jansson).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>

#include "bundle.h"

struct period_case {
	const char	*from, *to;
	int64_t		 days;		/* -1: refused */
	const char	*why;		/* a word of the refusal */
};

static const struct period_case period_cases[] = {
	{ "2026-01-01", "2026-01-01", 1, NULL },
	{ "2026-01-01", "2026-12-31", 365, NULL },
	{ "2024-02-28", "2024-03-01", 3, NULL },	/* leap day */
	{ "2023-02-28", "2023-03-01", 2, NULL },
	{ "2000-02-29", "2000-02-29", 1, NULL },	/* 400-year leap */
	{ "2025-12-01", "2027-01-04", 400, NULL },
	{ "2025-12-01", "2027-01-05", -1, "at most 400" },
	{ "2026-01-02", "2026-01-01", -1, "is after" },
	{ "2100-02-29", "2100-03-01", -1, "exist" },	/* no leap day */
	{ "2026-02-30", "2026-03-01", -1, "exist" },
	{ "2026-13-01", "2026-12-01", -1, "exist" },
	{ "2026-00-10", "2026-12-01", -1, "exist" },
	{ "2026-01-00", "2026-12-01", -1, "exist" },
	{ "2026-1-01", "2026-12-01", -1, "exist" },
	{ "2026-01-01 ", "2026-12-01", -1, "exist" },
	{ "2026/01/01", "2026-12-01", -1, "exist" },
	{ "+026-01-01", "2026-12-01", -1, "exist" },
	{ "1969-12-31", "1970-01-01", -1, "exist" },
	{ "", "2026-12-01", -1, "exist" },
};

static void
test_period_table(void **state)
{
	struct pc_bundle_period	p;
	char			err[160];
	size_t			i;
	int			rc;

	(void)state;
	for (i = 0; i < sizeof(period_cases) / sizeof(period_cases[0]); i++) {
		const struct period_case *c = &period_cases[i];

		err[0] = '\0';
		rc = pc_bundle_period(&p, c->from, c->to, err, sizeof(err));
		if (c->days == -1) {
			if (rc != -1 || strstr(err, c->why) == NULL)
				fail_msg("%s..%s: rc %d, \"%s\"", c->from,
				    c->to, rc, err);
			continue;
		}
		if (rc != 0 || p.days != c->days ||
		    strcmp(p.from, c->from) != 0 || strcmp(p.to, c->to) != 0)
			fail_msg("%s..%s: rc %d days %lld (%s)", c->from, c->to,
			    rc, (long long)p.days, err);
	}
}

/* The day count agrees with the C library's timegm() for 1970..2400. */
static void
test_day_matches_libc(void **state)
{
	struct tm	tm;
	char		date[16];
	time_t		t;
	int		y, m;

	(void)state;
	for (y = 1970; y <= 2400; y++) {
		for (m = 1; m <= 12; m++) {
			memset(&tm, 0, sizeof(tm));
			tm.tm_year = y - 1900;
			tm.tm_mon = m - 1;
			tm.tm_mday = 28;
			t = timegm(&tm);
			(void)snprintf(date, sizeof(date), "%04d-%02d-28", y, m);
			assert_int_equal(pc_bundle_day(date), t / 86400);
		}
	}
	assert_int_equal(pc_bundle_day("1970-01-01"), 0);
}

/* 1 when every id of v is a finding of the table. */
static int
refs_ok(const char *const *v)
{
	const struct pc_bundle_finding	*f;
	size_t				 i, nf, k;

	f = pc_bundle_findings(&nf);
	for (i = 0; i < PC_BUNDLE_REFS && v[i] != NULL; i++) {
		for (k = 0; k < nf; k++)
			if (strcmp(f[k].id, v[i]) == 0)
				break;
		if (k == nf)
			return (0);
	}
	return (1);
}

/* Every file names known findings; every finding has a file. */
static void
test_table_covers_every_finding(void **state)
{
	const struct pc_bundle_finding	*f;
	const struct pc_bundle_file	*t;
	char				 id[32];
	size_t				 i, j, k, nf, nt;
	int				 seen;

	(void)state;
	f = pc_bundle_findings(&nf);
	t = pc_bundle_files(&nt);
	assert_int_equal(nf, 16);
	for (i = 0; i < nf; i++) {
		(void)snprintf(id, sizeof(id), "PPC-%zu", i + 1);
		assert_string_equal(f[i].id, id);
		seen = 0;
		for (j = 0; j < nt; j++)
			for (k = 0; k < PC_BUNDLE_REFS &&
			    t[j].findings[k] != NULL; k++)
				seen |= strcmp(t[j].findings[k], id) == 0;
		if (!seen)
			fail_msg("no file evidences %s", id);
	}
	assert_string_equal(t[0].name, "README.txt");
	for (j = 0; j < nt; j++) {
		assert_non_null(t[j].findings[0]);
		assert_true(refs_ok(t[j].findings));
		for (k = j + 1; k < nt; k++)
			assert_string_not_equal(t[j].name, t[k].name);
	}
}

static void
test_index(void **state)
{
	struct pc_bundle_period		 p;
	struct pc_bundle_entry		 e[2];
	const struct pc_bundle_file	*t;
	json_t				*doc, *files, *x;
	json_error_t			 jerr;
	char				*text;
	size_t				 len, nt;

	(void)state;
	t = pc_bundle_files(&nt);
	assert_int_equal(pc_bundle_period(&p, "2026-11-01", "2026-11-30",
	    NULL, 0), 0);
	e[0].file = &t[0];
	e[0].size = 12;
	(void)snprintf(e[0].sha256, sizeof(e[0].sha256), "%064d", 0);
	e[1].file = &t[1];
	e[1].size = 0;
	(void)snprintf(e[1].sha256, sizeof(e[1].sha256), "%064d", 1);
	text = pc_bundle_index(&p, "Asia/Tokyo", e, 2, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);

	doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "from")),
	    "2026-11-01");
	assert_int_equal(json_integer_value(json_object_get(doc, "days")), 30);
	assert_string_equal(json_string_value(json_object_get(doc,
	    "timezone")), "Asia/Tokyo");
	assert_int_equal(json_object_size(json_object_get(doc, "findings")),
	    16);
	files = json_object_get(doc, "files");
	assert_int_equal(json_array_size(files), 2);
	x = json_array_get(files, 1);
	assert_string_equal(json_string_value(json_object_get(x, "name")),
	    t[1].name);
	assert_int_equal(json_integer_value(json_object_get(x, "size")), 0);
	assert_string_equal(json_string_value(json_object_get(x, "sha256")),
	    e[1].sha256);
	assert_string_equal(json_string_value(json_array_get(json_object_get(x,
	    "findings"), 0)), t[1].findings[0]);
	assert_string_equal(json_string_value(json_array_get(json_object_get(x,
	    "pci_dss"), 0)), t[1].pci_dss[0]);
	json_decref(doc);

	/* The same input, the same bytes. */
	{
		char	*again;
		size_t	 alen;

		again = pc_bundle_index(&p, "Asia/Tokyo", e, 2, &alen);
		assert_non_null(again);
		assert_int_equal(alen, len);
		assert_memory_equal(again, text, len);
		free(again);
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period_table),
		cmocka_unit_test(test_day_matches_libc),
		cmocka_unit_test(test_table_covers_every_finding),
		cmocka_unit_test(test_index),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
