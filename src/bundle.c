/*
 * bundle.c: the evidence bundle's pure parts (issue 16, part 6).
 *
 * The period an assessor asks for, checked here before the database is
 * touched; the table of the bundle's files with the PPC findings and
 * PCI DSS clauses each one evidences (../shared/docs/REQUIREMENTS.md;
 * a finding is "PPC-n", n its row in that document's table); and
 * index.json, written from that table so that the two cannot differ.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "errmsg.h"
#include "jsonw.h"

static int	pc_bundle_digits(const char *, int);
static void	pc_bundle_refs(struct pc_jsonw *, const char *,
		    const char *const *);

static const struct pc_bundle_finding pc_bundle_finding_tab[] = {
	{ "PPC-1", "Payment management screen reachable from the Internet, "
	    "no source IP limit" },
	{ "PPC-2", "Login by ID and password only; no MFA; no limit on "
	    "attempts" },
	{ "PPC-3", "No detection of retries after failures" },
	{ "PPC-4", "Access allowed at any hour" },
	{ "PPC-5", "Access logs collected but never reviewed" },
	{ "PPC-6", "Alerts received but not examined" },
	{ "PPC-7", "DB schemas not separated; an intruder could reach all "
	    "data" },
	{ "PPC-8", "Decryption key stored with encrypted data" },
	{ "PPC-9", "App outside secure coding / code review / pentest" },
	{ "PPC-10", "System staff audited themselves" },
	{ "PPC-11", "No inventory of where personal data lives" },
	{ "PPC-12", "Daily logs aggregated weekly, checked by staff and "
	    "re-checked by the responsible manager (\"log check mail\")" },
	{ "PPC-13", "Security alerts verified with an outside security "
	    "vendor" },
	{ "PPC-14", "WAF introduced and watched around the clock" },
	{ "PPC-15", "Monthly vulnerability-scan reports delivered "
	    "automatically to several staff \"so the report cannot be "
	    "changed\"" },
	{ "PPC-16", "System staff were appointed as security auditors and "
	    "audited themselves" },
};

/* The archive's files after README.txt and index.json, in its order. */
static const struct pc_bundle_file pc_bundle_file_tab[] = {
	{ "README.txt", "what is inside and how to check it offline",
	    { "PPC-15" }, { "10.3.x" } },
	{ "events.jsonl", "the audit events of the period's site-local "
	    "days, ids ascending, each with its chain link (personal data "
	    "as stored)", { "PPC-2", "PPC-3", "PPC-4", "PPC-13" },
	    { "10.2.1", "10.2.2", "10.5.1" } },
	{ "chain.json", "the chain recomputed over the period's events "
	    "and compared with the stored links and the signed heads",
	    { "PPC-15" }, { "10.3.x", "10.7.2" } },
	{ "checkpoints/checkpoints.log", "every signed checkpoint from the "
	    "first through the period's end, in the checkpoint file's "
	    "line format", { "PPC-15" }, { "10.3.3", "10.3.x" } },
	{ "checkpoints/checkpoint.pub", "the Ed25519 public key the "
	    "checkpoints verify with", { "PPC-8", "PPC-15" },
	    { "10.3.x", "3.6" } },
	{ "reviews/weekly.json", "the weekly access reviews of the ISO "
	    "weeks the period touches, with sign-off and confirmation",
	    { "PPC-5", "PPC-10", "PPC-12" }, { "10.4.1" } },
	{ "reviews/weekly.csv", "the same reviews as CSV",
	    { "PPC-5", "PPC-10", "PPC-12" }, { "10.4.1" } },
	{ "reviews/daily.json", "the daily digests of the period's days "
	    "(the automated review of the trail) with their sign-offs",
	    { "PPC-3", "PPC-5", "PPC-12" }, { "10.4.1", "10.4.1.1" } },
	{ "reviews/daily.csv", "the same days as CSV",
	    { "PPC-3", "PPC-5", "PPC-12" }, { "10.4.1", "10.4.1.1" } },
	{ "reviews/accounts.json", "the half-year account reviews of the "
	    "halves the period touches, with sign-off and confirmation",
	    { "PPC-10", "PPC-16" }, { "7.2.4", "8.2.6", "7.2.1" } },
	{ "alerts.json", "the alerts open at any time in the period, with "
	    "first seen, cleared and acknowledgement",
	    { "PPC-3", "PPC-6" }, { "10.7.2", "10.4.1.1", "8.3.4" } },
	{ "personal-data.json", "where personal data lives (the "
	    "database's inventory)", { "PPC-11" }, { NULL } },
	{ "policy/policy.conf", "the policy file (allowlist, hours, "
	    "lockout, keys outside the database) as it is on disk now",
	    { "PPC-1", "PPC-2", "PPC-4", "PPC-8", "PPC-14" },
	    { "7.3.3", "8.2.8", "8.3.4", "8.3.6", "3.6", "3.7" } },
	{ "policy/history.json", "every policy the server loaded through "
	    "the period's end, with its digest", { "PPC-1", "PPC-4" },
	    { "7.3.3", "10.7.2" } },
	{ "schema/migrations.json", "the schema migrations applied, each "
	    "with its SHA-256", { "PPC-7", "PPC-9" },
	    { "7.2.1", "7.2.2", "6.2.4" } },
};

const struct pc_bundle_finding *
pc_bundle_findings(size_t *n)
{
	*n = sizeof(pc_bundle_finding_tab) / sizeof(pc_bundle_finding_tab[0]);
	return (pc_bundle_finding_tab);
}

const struct pc_bundle_file *
pc_bundle_files(size_t *n)
{
	*n = sizeof(pc_bundle_file_tab) / sizeof(pc_bundle_file_tab[0]);
	return (pc_bundle_file_tab);
}

/* n ASCII digits at s, as a number; -1 if any is not a digit. */
static int
pc_bundle_digits(const char *s, int n)
{
	int	v, i;

	for (v = 0, i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/*
 * Days from the civil date (Howard Hinnant's days_from_civil, which
 * is exact for every Gregorian date); the date must exist.
 */
int64_t
pc_bundle_day(const char *date)
{
	static const int	mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	int64_t			y, era, yoe, doy, doe;
	int			m, d, leap;

	if (strlen(date) != 10 || date[4] != '-' || date[7] != '-')
		return (INT64_MIN);
	y = pc_bundle_digits(date, 4);
	m = pc_bundle_digits(date + 5, 2);
	d = pc_bundle_digits(date + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return (INT64_MIN);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 ? leap : 0))
		return (INT64_MIN);

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

int
pc_bundle_period(struct pc_bundle_period *p, const char *from,
    const char *to, char *err, size_t errlen)
{
	int64_t		a, b;

	memset(p, 0, sizeof(*p));
	if ((a = pc_bundle_day(from)) == INT64_MIN ||
	    (b = pc_bundle_day(to)) == INT64_MIN) {
		pc_errmsg(err, errlen, "--from and --to want dates that "
		    "exist, YYYY-MM-DD");
		return (-1);
	}
	if (a > b) {
		pc_errmsg(err, errlen, "--from %s is after --to %s", from, to);
		return (-1);
	}
	if (b - a + 1 > PC_BUNDLE_MAX_DAYS) {
		pc_errmsg(err, errlen, "%s to %s is %" PRId64 " days; a bundle "
		    "covers at most %d", from, to, b - a + 1,
		    PC_BUNDLE_MAX_DAYS);
		return (-1);
	}
	memcpy(p->from, from, 11);
	memcpy(p->to, to, 11);
	p->days = b - a + 1;
	return (0);
}

static void
pc_bundle_refs(struct pc_jsonw *w, const char *key, const char *const *v)
{
	size_t	i;

	pc_jsonw_array_open(w, key);
	for (i = 0; i < PC_BUNDLE_REFS && v[i] != NULL; i++)
		pc_jsonw_string(w, NULL, v[i]);
	pc_jsonw_array_close(w);
}

char *
pc_bundle_index(const struct pc_bundle_period *p, const char *tz,
    const struct pc_bundle_entry *e, size_t n, size_t *len)
{
	struct pc_jsonw		 w;
	const struct pc_bundle_finding *f;
	size_t			 i, nf;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "format", "payconsole-evidence/1");
	pc_jsonw_string(&w, "from", p->from);
	pc_jsonw_string(&w, "to", p->to);
	pc_jsonw_int(&w, "days", p->days);
	pc_jsonw_string(&w, "timezone", tz);
	pc_jsonw_string(&w, "requirements",
	    "shared/docs/REQUIREMENTS.md");

	f = pc_bundle_findings(&nf);
	pc_jsonw_object_open(&w, "findings");
	for (i = 0; i < nf; i++)
		pc_jsonw_string(&w, f[i].id, f[i].finding);
	pc_jsonw_object_close(&w);

	pc_jsonw_array_open(&w, "files");
	for (i = 0; i < n; i++) {
		pc_jsonw_object_open(&w, NULL);
		pc_jsonw_string(&w, "name", e[i].file->name);
		pc_jsonw_int(&w, "size", (int64_t)e[i].size);
		pc_jsonw_string(&w, "sha256", e[i].sha256);
		pc_jsonw_string(&w, "what", e[i].file->what);
		pc_bundle_refs(&w, "findings", e[i].file->findings);
		pc_bundle_refs(&w, "pci_dss", e[i].file->pci_dss);
		pc_jsonw_object_close(&w);
	}
	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);
	return (pc_jsonw_finish(&w, len));
}
